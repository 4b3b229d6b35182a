// Handoffs (liên thông) waiting on other agencies, by receiving agency, the ones needing a look, and the
// open incidents (sự cố) with their error. Who may read and act mirrors the API's rules: supervisors and
// admins see the handoffs; officers and admins see incidents and may retry or resolve them.
import { api, qs } from '../api.js'
import { fmtDateTime, fmtNumber, html } from '../format.js'
import { hasRole, isAdmin, wireFilters } from '../lists.js'

const STATES = { pending: 'Chờ gửi', waiting: 'Đang chờ trả lời', completed: 'Đã trả lời', incident: 'Sự cố', cancelled: 'Đã huỷ' }
// The kinds of incident: handoffs, and the other things sent out.
const TYPES = {
  failedJob: 'Liên thông (bộ chuyển)',
  failedExternalTask: 'Liên thông (worker bên ngoài)',
  failedPortalSync: 'Đồng bộ Cổng DVCQG',
  failedNotification: 'Thông báo cho người nộp',
  failedPeerCallback: 'Trả kết quả liên thông',
}

export async function render(main, { query, current }) {
  const admin = isAdmin()
  const agency = admin ? query.agency || undefined : undefined
  const type = TYPES[query.type] ? query.type : undefined
  const mayWatch = hasRole('supervisor', 'admin')
  const mayManage = hasRole('officer', 'admin')
  const [handoffs, incidents] = await Promise.all([
    mayWatch ? api(`/supervision/handoffs${qs({ agency, limit: 100 })}`) : null,
    mayManage ? api(`/incidents${qs({ agency, type, state: 'open', limit: 50 })}`) : null,
  ])
  if (!current()) return
  main.innerHTML = html` <h1>Liên thông và sự cố</h1>
    ${
      admin || mayManage
        ? html`<form class="filters" id="filters">
            ${admin ? html`<label>Cơ quan gửi <input name="agency" value="${agency ?? ''}" maxlength="64" /></label>` : ''}
            <label
              >Loại sự cố
              <select name="type">
                <option value="">Tất cả</option>
                ${Object.entries(TYPES).map(([k, v]) => html`<option value="${k}" ${k === type ? 'selected' : ''}>${v}</option>`)}
              </select></label
            >
            <button type="submit">Xem</button>
          </form>`
        : ''
    }
    <h2>Hồ sơ liên thông đang chờ, theo cơ quan nhận</h2>
    ${
      handoffs === null
        ? html`<p class="muted" id="handoffs-hidden">Chỉ người giám sát hoặc quản trị viên xem được bảng này.</p>`
        : html`${
              handoffs.byReceivingAgency.length === 0
                ? html`<p class="empty" id="handoffs-empty">Không có hồ sơ liên thông nào đang chờ.</p>`
                : html`<table id="handoff-agencies">
                    <thead>
                      <tr>
                        <th>Cơ quan nhận</th>
                        <th class="num">Đang chờ</th>
                        <th class="num">Quá hạn</th>
                        <th class="num">Chờ quá lâu</th>
                        <th class="num">Sự cố</th>
                      </tr>
                    </thead>
                    <tbody>
                      ${handoffs.byReceivingAgency.map(
                        (a) =>
                          html`<tr>
                            <td>${a.receivingAgency ?? '(chưa rõ)'}</td>
                            <td class="num">${fmtNumber(a.waiting)}</td>
                            <td class="num">${fmtNumber(a.overdue)}</td>
                            <td class="num">${fmtNumber(a.stuck)}</td>
                            <td class="num">${fmtNumber(a.incidents)}</td>
                          </tr>`,
                      )}
                    </tbody>
                  </table>`
            }
            ${
              handoffs.openIncidents.length === 0
                ? ''
                : html`<p id="incident-counts">
                    Sự cố đang mở:
                    ${handoffs.openIncidents.map(
                      (c) => html`<span data-type="${c.type}">${TYPES[c.type] ?? c.type}: ${fmtNumber(c.open)}</span> `,
                    )}
                  </p>`
            }
            <h2>Cần xem xét</h2>
            ${
              handoffs.items.length === 0
                ? html`<p class="empty">Không có việc liên thông nào quá hạn, gặp sự cố hay chờ quá lâu.</p>`
                : html`<table id="handoff-items">
                    <thead>
                      <tr>
                        <th>Mã hồ sơ</th>
                        <th>Bước</th>
                        <th>Cơ quan nhận</th>
                        <th>Trạng thái</th>
                        <th>Gửi lúc</th>
                        <th>Hạn</th>
                        <th class="num">Lần gửi</th>
                        <th>Lỗi gần nhất</th>
                      </tr>
                    </thead>
                    <tbody>
                      ${handoffs.items.map(
                        (h) =>
                          html`<tr>
                            <td><a href="#/dossiers/${h.dossierId}">${h.businessKey}</a></td>
                            <td>${h.activityId}</td>
                            <td>${h.receivingAgency ?? '—'}</td>
                            <td class="${h.overdue ? 'state-overdue' : ''}">
                              ${STATES[h.state] ?? h.state}${h.overdue ? ' · quá hạn' : ''}
                            </td>
                            <td>${fmtDateTime(h.sentAt)}</td>
                            <td>${fmtDateTime(h.dueAt)}</td>
                            <td class="num">${fmtNumber(h.attempts)}</td>
                            <td>${h.lastError ?? '—'}</td>
                          </tr>`,
                      )}
                    </tbody>
                  </table>`
            }`
    }
    <h2>Sự cố đang mở</h2>
    ${
      incidents === null
        ? html`<p class="muted" id="incidents-hidden">Chỉ cán bộ của cơ quan gửi hoặc quản trị viên xem và xử lý được sự cố.</p>`
        : incidents.items.length === 0
          ? html`<p class="empty" id="incidents-empty">Không có sự cố nào đang mở.</p>`
          : html`<table id="incidents">
                <thead>
                  <tr>
                    <th>Lúc</th>
                    <th>Loại</th>
                    <th>Hồ sơ</th>
                    <th>Thủ tục</th>
                    <th>Bước</th>
                    <th>Cơ quan nhận</th>
                    <th>Lỗi</th>
                    <th>Xử lý</th>
                  </tr>
                </thead>
                <tbody>
                  ${incidents.items.map(
                    (i) =>
                      html`<tr data-incident="${i.id}">
                        <td>${fmtDateTime(i.incidentTimestamp)}</td>
                        <td data-type="${i.incidentType}">${TYPES[i.incidentType] ?? i.incidentType}</td>
                        <td><a href="#/dossiers/${i.dossierId}">${i.dossierId.slice(0, 8)}…</a></td>
                        <td>${i.procedureCode}</td>
                        <td>${i.activityId ?? '—'}</td>
                        <td>${i.receivingAgency ?? '—'}</td>
                        <td class="error-text">${i.incidentMessage}</td>
                        <td>
                          <button type="button" data-retry="${i.id}">Gửi lại</button>
                          <input data-note="${i.id}" maxlength="2000" placeholder="Ghi chú khi đóng" aria-label="Ghi chú khi đóng sự cố" />
                          <button type="button" data-resolve="${i.id}">Đóng sự cố</button>
                        </td>
                      </tr>`,
                  )}
                </tbody>
              </table>
              <p class="error" id="incident-error" hidden></p>`
    }`.text
  if (admin || mayManage) wireFilters(main, 'handoffs')
  const box = main.querySelector('#incident-error')
  const act = async (path, body) => {
    box.hidden = true
    try {
      await api(path, { method: 'POST', body })
      location.hash = `#/handoffs${qs({ ...query, t: Date.now() })}`
    } catch (err) {
      box.textContent = err.message
      box.hidden = false
    }
  }
  for (const b of main.querySelectorAll('[data-retry]')) b.addEventListener('click', () => act(`/incidents/${b.dataset.retry}/retry`, {}))
  for (const b of main.querySelectorAll('[data-resolve]'))
    b.addEventListener('click', () => {
      const note = main.querySelector(`[data-note="${window.CSS.escape(b.dataset.resolve)}"]`).value.trim()
      if (!note) {
        box.textContent = 'Hãy ghi chú lý do đóng sự cố'
        box.hidden = false
        return
      }
      act(`/incidents/${b.dataset.resolve}/resolve`, { note })
    })
}
