// Overdue and due-soon dossiers (hồ sơ quá hạn, sắp đến hạn), one page of rows at a time.
import { api, qs, session } from '../api.js'
import { DEADLINE_STATES, fmtDateTime, fmtWorkingTime, html } from '../format.js'

const STATES = { overdue: 'Quá hạn', due_soon: 'Sắp đến hạn', all: 'Quá hạn và sắp đến hạn' }

export async function render(main, { query, current }) {
  const state = STATES[query.state] ? query.state : 'overdue'
  const admin = session.principal?.roles.includes('admin')
  const params = { state, procedureCode: query.procedureCode, agency: admin ? query.agency : undefined, limit: 50, cursor: query.cursor }
  const page = await api(`/supervision/deadlines${qs(params)}`)
  if (!current()) return
  // The cursors of the pages before this one, so "Trang trước" goes back without recounting.
  const trail = query.trail ? query.trail.split('~') : []
  const link = (over) => `#/deadlines${qs({ ...query, ...over })}`
  main.innerHTML = html` <h1>Hồ sơ ${STATES[state].toLowerCase()}</h1>
    <form class="filters" id="filters">
      <label
        >Tình trạng
        <select name="state">
          ${Object.entries(STATES).map(([k, v]) => html`<option value="${k}" ${k === state ? html`selected` : ''}>${v}</option>`)}
        </select>
      </label>
      <label>Mã thủ tục <input name="procedureCode" value="${query.procedureCode ?? ''}" maxlength="64" /></label>
      ${admin ? html`<label>Cơ quan <input name="agency" value="${query.agency ?? ''}" maxlength="100" /></label>` : ''}
      <button type="submit">Lọc</button>
    </form>
    ${
      page.items.length === 0
        ? html`<p class="empty">Không có hồ sơ nào ${STATES[state].toLowerCase()}.</p>`
        : html`<table id="deadline-list">
            <thead>
              <tr>
                <th>Mã hồ sơ</th>
                <th>Thủ tục</th>
                <th>Cơ quan</th>
                <th>Ngày hẹn trả</th>
                <th>Thời gian</th>
                <th>Bước đang xử lý</th>
                <th>Người giữ</th>
              </tr>
            </thead>
            <tbody>
              ${page.items.map(
                (d) =>
                  html`<tr data-dossier="${d.id}">
                    <td><a href="#/dossiers/${d.id}">${d.code}</a></td>
                    <td>${d.procedureCode}</td>
                    <td>${d.agency}</td>
                    <td>${fmtDateTime(d.appointmentAt)}</td>
                    <td class="state-${d.deadlineState}" title="${DEADLINE_STATES[d.deadlineState] ?? d.deadlineState}">
                      ${fmtWorkingTime(d.workingMinutesLeft)}
                    </td>
                    <td>${d.openTasks.map((t) => t.name).join(', ') || '—'}</td>
                    <td>${d.openTasks.map((t) => t.assignee ?? `(${t.candidateGroups.join(', ')})`).join(', ') || '—'}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }
    <p class="pager">
      ${trail.length ? html`<a id="prev-page" href="${link({ cursor: trail[trail.length - 1] || undefined, trail: trail.slice(0, -1).join('~') || undefined })}">← Trang trước</a>` : ''}
      <span>Trang ${trail.length + 1} · ${page.items.length} hồ sơ</span>
      ${page.nextCursor ? html`<a id="next-page" href="${link({ cursor: page.nextCursor, trail: [...trail, query.cursor ?? ''].join('~') })}">Trang sau →</a>` : ''}
    </p>`.text
  const form = main.querySelector('#filters')
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    const data = Object.fromEntries(new FormData(form))
    location.hash = `#/deadlines${qs(data)}`
  })
}
