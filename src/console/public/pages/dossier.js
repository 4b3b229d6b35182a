// A dossier's page (hồ sơ): status, appointment, open tasks and who holds them, documents, forms,
// and the process record (nhật ký xử lý) as a timeline.
import { api, download } from '../api.js'
import { CHANNELS, DEADLINE_STATES, fmtDateTime, html } from '../format.js'

const FORMS = {
  'mau-01': 'Mẫu 01 — Giấy tiếp nhận hồ sơ và hẹn trả kết quả',
  'mau-02': 'Mẫu 02 — Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ',
  'mau-03': 'Mẫu 03 — Phiếu từ chối tiếp nhận giải quyết hồ sơ',
  'mau-04': 'Mẫu 04 — Phiếu xin lỗi và hẹn lại ngày trả kết quả',
  'mau-05': 'Mẫu 05 — Phiếu kiểm soát quá trình giải quyết hồ sơ',
}
const DOCUMENT_KINDS = { submission: 'Thành phần hồ sơ', supplement: 'Bổ sung', result: 'Kết quả' }

export async function render(main, { args, current }) {
  const id = args[0]
  if (!/^[0-9a-f-]{36}$/i.test(id ?? '')) throw Object.assign(new Error('Mã định danh hồ sơ không hợp lệ'), { code: 'VALIDATION_FAILED' })
  const [view, documents] = await Promise.all([api(`/dossiers/${id}`), api(`/dossiers/${id}/documents`)])
  if (!current()) return
  const d = view.dossier
  const open = view.tasks.filter((t) => t.status === 'open')
  main.innerHTML = html` <h1>Hồ sơ <span id="dossier-code">${d.code}</span></h1>
    <dl class="facts">
      <div>
        <dt>Thủ tục</dt>
        <dd><a href="#/procedures/${d.procedureCode}">${d.procedureCode}</a></dd>
      </div>
      <div>
        <dt>Trạng thái</dt>
        <dd id="dossier-status">${d.statusLabel}</dd>
      </div>
      <div>
        <dt>Người nộp</dt>
        <dd>${d.applicant?.name ?? '—'}</dd>
      </div>
      <div>
        <dt>Kênh nộp</dt>
        <dd>${CHANNELS[d.channel] ?? d.channel}</dd>
      </div>
      <div>
        <dt>Cơ quan</dt>
        <dd>${d.agency}</dd>
      </div>
      <div>
        <dt>Tiếp nhận</dt>
        <dd>${fmtDateTime(d.receivedAt ?? d.submittedAt)}</dd>
      </div>
      <div>
        <dt>Ngày hẹn trả</dt>
        <dd id="dossier-appointment">${fmtDateTime(d.appointmentAt)}</dd>
      </div>
      <div>
        <dt>Tiến độ</dt>
        <dd class="state-${d.deadlineState}">${DEADLINE_STATES[d.deadlineState] ?? d.deadlineState}</dd>
      </div>
      ${
        d.pausedAt
          ? html`<div>
              <dt>Tạm dừng từ</dt>
              <dd>${fmtDateTime(d.pausedAt)}</dd>
            </div>`
          : ''
      }
      ${
        d.finishedAt
          ? html`<div>
              <dt>Kết thúc</dt>
              <dd>${fmtDateTime(d.finishedAt)}</dd>
            </div>`
          : ''
      }
    </dl>
    <h2>Công việc đang mở</h2>
    ${
      open.length === 0
        ? html`<p class="empty">Không có công việc nào đang mở.</p>`
        : html`<table id="open-tasks">
            <thead>
              <tr>
                <th>Bước</th>
                <th>Người giữ</th>
                <th>Nhóm</th>
                <th>Hạn</th>
                <th>Tiến độ</th>
              </tr>
            </thead>
            <tbody>
              ${open.map(
                (t) =>
                  html`<tr>
                    <td>${t.name}</td>
                    <td>${t.assignee ?? 'chưa ai nhận'}</td>
                    <td>${t.candidateGroups.join(', ')}</td>
                    <td>${fmtDateTime(t.due)}</td>
                    <td class="state-${t.deadlineState}">${DEADLINE_STATES[t.deadlineState] ?? t.deadlineState}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }
    <h2>Giấy tờ</h2>
    ${
      documents.items.length === 0
        ? html`<p class="empty">Chưa có giấy tờ.</p>`
        : html`<table id="documents">
            <thead>
              <tr>
                <th>Loại</th>
                <th>Mã</th>
                <th>Tệp</th>
                <th class="num">Dung lượng</th>
                <th>Nộp lúc</th>
              </tr>
            </thead>
            <tbody>
              ${documents.items.map(
                (doc) =>
                  html`<tr>
                    <td>${DOCUMENT_KINDS[doc.kind] ?? doc.kind}</td>
                    <td>${doc.documentCode ?? '—'}</td>
                    <td><a href="#" data-document="${doc.id}" data-name="${doc.fileName}">${doc.fileName}</a></td>
                    <td class="num">${Math.ceil(doc.size / 1024)} KB</td>
                    <td>${fmtDateTime(doc.uploadedAt)}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }
    <h2>Biểu mẫu</h2>
    <ul id="forms">
      ${Object.entries(FORMS).map(([k, v]) => html`<li><a href="#" data-form="${k}">${v}</a></li>`)}
    </ul>
    <p id="form-error" class="error" hidden></p>
    <h2>Nhật ký xử lý</h2>
    <ol class="timeline" id="history">
      ${view.history.map(
        (h) =>
          html`<li>
            <time datetime="${h.at}">${fmtDateTime(h.at)}</time
            ><strong>${h.action}</strong> ${h.activity_id ? html` · ${h.activity_id}` : ''} ·
            ${h.actor}${h.status ? html` → ${h.status}` : ''}
          </li>`,
      )}
    </ol>`.text
  const error = main.querySelector('#form-error')
  const fail = (err) => {
    error.textContent = err.message
    error.hidden = false
  }
  for (const a of main.querySelectorAll('[data-form]'))
    a.addEventListener('click', (e) => {
      e.preventDefault()
      error.hidden = true
      download(`/dossiers/${id}/forms/${a.dataset.form}`, `${d.code}-${a.dataset.form}.pdf`).catch(fail)
    })
  for (const a of main.querySelectorAll('[data-document]'))
    a.addEventListener('click', (e) => {
      e.preventDefault()
      download(`/dossiers/${id}/documents/${a.dataset.document}`, a.dataset.name).catch(fail)
    })
}
