// The dossiers behind one figure of Today (danh sách hồ sơ), one page at a time, exportable.
import { api, qs } from '../api.js'
import { CHANNELS, DEADLINE_STATES, fmtDateTime, fmtWorkingTime, html } from '../format.js'
import { day, exportButtons, isAdmin, pager, wireExports } from '../lists.js'
import { FIGURE_LABELS } from './today.js'

export async function render(main, { query, current }) {
  const figure = FIGURE_LABELS[query.figure] ? query.figure : 'overdue'
  const filter = {
    figure,
    from: day(query.from),
    to: day(query.to),
    agency: query.agency || undefined,
    procedureCode: query.procedureCode || undefined,
  }
  const page = await api(`/supervision/dossiers${qs({ ...filter, limit: 50, cursor: query.cursor })}`)
  if (!current()) return
  const period = filter.from && filter.to ? html` từ ${filter.from} đến ${filter.to}` : ''
  main.innerHTML = html` <h1>Hồ sơ: ${FIGURE_LABELS[figure].toLowerCase()}${period}</h1>
    <p class="muted">
      ${filter.agency ? html`Cơ quan ${filter.agency}. ` : isAdmin() ? 'Mọi cơ quan. ' : ''}
      ${filter.procedureCode ? html`Thủ tục ${filter.procedureCode}. ` : ''}
      <a
        href="#/today${qs({ from: filter.from, to: filter.to, agency: isAdmin() ? filter.agency : undefined, procedureCode: filter.procedureCode })}"
        >← Hôm nay</a
      >
    </p>
    ${exportButtons()} ${dossierTable(page.items)} ${pager('dossiers-list', query, page, 'hồ sơ')}`.text
  wireExports(main, '/supervision/export/dossiers', filter, `ho-so-${figure}`)
}

/** The compact dossier rows of the supervision lists. */
export function dossierTable(items) {
  if (items.length === 0) return html`<p class="empty">Không có hồ sơ nào.</p>`
  return html`<table id="dossier-list">
    <thead>
      <tr>
        <th>Mã hồ sơ</th>
        <th>Thủ tục</th>
        <th>Cơ quan</th>
        <th>Ngày hẹn trả</th>
        <th>Thời gian</th>
        <th>Trạng thái</th>
        <th>Người nộp</th>
        <th>Kênh nộp</th>
        <th>Tiếp nhận</th>
        <th>Kết thúc</th>
      </tr>
    </thead>
    <tbody>
      ${items.map(
        (d) =>
          html`<tr data-dossier="${d.id}">
            <td><a href="#/dossiers/${d.id}">${d.code}</a></td>
            <td>${d.procedureCode}</td>
            <td>${d.agency}</td>
            <td>${fmtDateTime(d.appointmentAt)}</td>
            <td class="state-${d.deadlineState}" title="${DEADLINE_STATES[d.deadlineState] ?? d.deadlineState}">
              ${d.workingMinutesLeft === null ? (DEADLINE_STATES[d.deadlineState] ?? d.deadlineState) : fmtWorkingTime(d.workingMinutesLeft)}
            </td>
            <td>${d.statusLabel}</td>
            <td>${d.applicantName ?? '—'}</td>
            <td>${CHANNELS[d.channel] ?? d.channel}</td>
            <td>${fmtDateTime(d.submittedAt)}</td>
            <td>${fmtDateTime(d.finishedAt)}</td>
          </tr>`,
      )}
    </tbody>
  </table>`
}
