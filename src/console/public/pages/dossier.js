// A dossier's page (hồ sơ): status, appointment, open tasks and who holds them, documents, forms,
// and the process record (nhật ký xử lý) as a timeline.
import { api, download } from '../api.js'
import { CHANNELS, DEADLINE_STATES, fmtDateTime, html } from '../format.js'
import { drawDiagram, loadViewer } from '../diagram.js'

const FORMS = {
  'mau-01': 'Mẫu 01 — Giấy tiếp nhận hồ sơ và hẹn trả kết quả',
  'mau-02': 'Mẫu 02 — Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ',
  'mau-03': 'Mẫu 03 — Phiếu từ chối tiếp nhận giải quyết hồ sơ',
  'mau-04': 'Mẫu 04 — Phiếu xin lỗi và hẹn lại ngày trả kết quả',
  'mau-05': 'Mẫu 05 — Phiếu kiểm soát quá trình giải quyết hồ sơ',
}
/** The process record's actions in Vietnamese (an action not listed shows its code). */
const ACTIONS = {
  'dossier.submitted': 'Nộp hồ sơ',
  'dossier.status_changed': 'Đổi trạng thái',
  'deadline.appointment_set': 'Hẹn ngày trả kết quả',
  'deadline.extended': 'Gia hạn, hẹn lại ngày trả (Mẫu 04)',
  'deadline.paused': 'Tạm dừng tính thời hạn',
  'deadline.resumed': 'Tính tiếp thời hạn',
  'deadline.due_soon': 'Sắp đến hạn',
  'deadline.overdue': 'Quá hạn',
  'task.created': 'Giao việc',
  'task.claimed': 'Nhận việc',
  'task.unclaimed': 'Trả lại việc',
  'task.completed': 'Hoàn thành bước',
  'task.cancelled': 'Huỷ bước',
  'timer.scheduled': 'Đặt hẹn giờ',
  'timer.fired': 'Đến giờ hẹn',
  'timer.cancelled': 'Huỷ hẹn giờ',
  'lifecycle.accepted': 'Tiếp nhận',
  'lifecycle.refused': 'Từ chối',
  'lifecycle.supplement_requested': 'Yêu cầu bổ sung',
  'lifecycle.supplement_submitted': 'Nộp bổ sung',
  'lifecycle.transferred': 'Chuyển xử lý',
  'lifecycle.proposed': 'Đề xuất',
  'lifecycle.consultation_requested': 'Xin ý kiến',
  'lifecycle.consultation_answered': 'Trả lời xin ý kiến',
  'lifecycle.financial_obligation_requested': 'Thông báo nghĩa vụ tài chính',
  'lifecycle.approved': 'Phê duyệt',
  'lifecycle.returned': 'Trả kết quả',
  'lifecycle.withdrawn': 'Rút hồ sơ',
  'lifecycle.stopped': 'Dừng xử lý',
  'document.uploaded': 'Tải lên giấy tờ',
  'payment.received': 'Đã thanh toán',
  'payment.failed': 'Thanh toán không thành công',
  'evaluation.submitted': 'Đánh giá mức độ hài lòng',
  'message.received': 'Nhận thông điệp',
  'signal.received': 'Nhận tín hiệu',
  'handoff.sent': 'Gửi liên thông',
  'handoff.completed': 'Nhận kết quả liên thông',
  'handoff.failed': 'Liên thông lỗi',
  'handoff.cancelled': 'Huỷ liên thông',
  'handoff.due_soon': 'Liên thông sắp đến hạn',
  'handoff.overdue': 'Liên thông quá hạn',
  'incident.opened': 'Phát sinh sự cố',
  'incident.retried': 'Thử lại sự cố',
  'incident.resolved': 'Đóng sự cố',
  'process.call_started': 'Gọi thủ tục khác',
  'process.call_completed': 'Thủ tục được gọi đã xong',
  'process.call_cancelled': 'Huỷ thủ tục được gọi',
  'process.completed': 'Kết thúc quy trình',
  'process.terminated': 'Chấm dứt quy trình',
  'process.variables_modified': 'Sửa biến quy trình',
  'citizen_notification.failed': 'Gửi thông báo cho người nộp không thành công',
  'citizen_notification.retried': 'Gửi lại thông báo cho người nộp',
}
const DOCUMENT_KINDS = { submission: 'Thành phần hồ sơ', supplement: 'Bổ sung', result: 'Kết quả' }

export async function render(main, { args, current }) {
  const id = args[0]
  if (!/^[0-9a-f-]{36}$/i.test(id ?? '')) throw Object.assign(new Error('Mã định danh hồ sơ không hợp lệ'), { code: 'VALIDATION_FAILED' })
  // The diagram viewer loads while the dossier is fetched (its path is drawn last).
  loadViewer().catch(() => {})
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
    <h2>Đường đi trên sơ đồ</h2>
    <p class="muted">Viền xanh: các bước hồ sơ đã đi qua; viền cam: bước đang xử lý.</p>
    <div class="diagram" id="dossier-diagram"></div>
    <h2>Nhật ký xử lý</h2>
    <ol class="timeline" id="history">
      ${view.history.map(
        (h) =>
          html`<li>
            <time datetime="${h.at}">${fmtDateTime(h.at)}</time
            ><strong title="${h.action}">${ACTIONS[h.action] ?? h.action}</strong> ${h.activity_id ? html` · ${h.activity_id}` : ''} ·
            ${h.actor}${h.status ? html` → ${h.status}` : ''}
          </li>`,
      )}
    </ol>`.text
  await drawPath(main.querySelector('#dossier-diagram'), view, open, current)
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

/** The dossier's own procedure version, drawn with the steps it passed (its history) and the ones open now. */
async function drawPath(container, view, open, current) {
  const root = (view.instances ?? []).find((i) => !i.parentInstanceId)
  if (!root) return
  const res = await api(`/procedures/${encodeURIComponent(root.procedureCode)}/versions/${root.procedureVersion}/xml`, { raw: true })
  const xml = await res.text()
  if (!current()) return
  const viewer = await drawDiagram(container, xml)
  if (!viewer) return
  const canvas = viewer.get('canvas')
  const registry = viewer.get('elementRegistry')
  const mark = (activityId, marker) => {
    if (activityId && registry.get(activityId)) canvas.addMarker(activityId, marker)
  }
  for (const h of view.history) mark(h.activity_id, 'taken')
  for (const t of open) mark(t.activityId, 'current')
}
