// Open steps overdue or due soon (bước xử lý quá hạn, sắp đến hạn) by procedure, step, officer and
// agency, earliest step due date first (the API's one order), one page at a time, exportable.
import { api, qs } from '../api.js'
import { DEADLINE_STATES, fmtDateTime, fmtWorkingTime, html } from '../format.js'
import { exportButtons, isAdmin, pager, wireExports, wireFilters } from '../lists.js'

const STATES = { overdue: 'Quá hạn', due_soon: 'Sắp đến hạn', all: 'Quá hạn và sắp đến hạn' }

export function taskFilter(query) {
  return {
    state: STATES[query.state] ? query.state : 'overdue',
    procedureCode: query.procedureCode || undefined,
    activityId: query.activityId || undefined,
    assignee: query.assignee || undefined,
    agency: isAdmin() ? query.agency || undefined : undefined,
  }
}

export async function render(main, { query, current }) {
  const filter = taskFilter(query)
  const page = await api(`/supervision/tasks${qs({ ...filter, limit: 50, cursor: query.cursor })}`)
  if (!current()) return
  main.innerHTML = html` <h1>Bước xử lý ${STATES[filter.state].toLowerCase()}</h1>
    <p class="tabs">
      <a
        id="dossiers-view"
        href="#/deadlines${qs({ state: filter.state === 'all' ? 'overdue' : filter.state, procedureCode: filter.procedureCode, agency: filter.agency })}"
        >Theo hồ sơ</a
      >
      · <strong>Theo bước xử lý, cán bộ</strong>
    </p>
    <form class="filters" id="filters">
      <label
        >Tình trạng
        <select name="state">
          ${Object.entries(STATES).map(([k, v]) => html`<option value="${k}" ${k === filter.state ? html`selected` : ''}>${v}</option>`)}
        </select>
      </label>
      <label>Mã thủ tục <input name="procedureCode" value="${filter.procedureCode ?? ''}" maxlength="64" /></label>
      <label>Bước (mã) <input name="activityId" value="${filter.activityId ?? ''}" maxlength="200" /></label>
      <label>Cán bộ <input name="assignee" value="${filter.assignee ?? ''}" maxlength="200" /></label>
      ${isAdmin() ? html`<label>Cơ quan <input name="agency" value="${filter.agency ?? ''}" maxlength="100" /></label>` : ''}
      <button type="submit">Lọc</button>
    </form>
    <p class="muted">Sắp xếp: hạn của bước sớm nhất trước.</p>
    ${exportButtons()} ${taskTable(page.items)} ${pager('tasks', query, page, 'bước')}`.text
  wireFilters(main, 'tasks')
  wireExports(main, '/supervision/export/tasks', filter, `buoc-xu-ly-${filter.state}`)
}

/** Open steps with their dossier, holder and working time left. */
export function taskTable(items, id = 'task-list') {
  if (items.length === 0) return html`<p class="empty" id="${id}-empty">Không có bước nào.</p>`
  return html`<table id="${id}">
    <thead>
      <tr>
        <th>Mã hồ sơ</th>
        <th>Thủ tục</th>
        <th>Bước</th>
        <th>Người giữ</th>
        <th>Hạn của bước</th>
        <th>Thời gian</th>
        <th>Ngày hẹn trả</th>
        <th>Cơ quan</th>
      </tr>
    </thead>
    <tbody>
      ${items.map(
        (t) =>
          html`<tr data-task="${t.id}">
            <td><a href="#/dossiers/${t.dossierId}">${t.dossierCode}</a></td>
            <td>${t.procedureCode}</td>
            <td title="${t.activityId}">${t.name}</td>
            <td>${t.assignee ?? html`<span class="muted">(${t.candidateGroups.join(', ')})</span>`}</td>
            <td>${fmtDateTime(t.dueAt)}</td>
            <td class="state-${t.deadlineState}" title="${DEADLINE_STATES[t.deadlineState] ?? t.deadlineState}">
              ${t.workingMinutesLeft === null ? (DEADLINE_STATES[t.deadlineState] ?? t.deadlineState) : fmtWorkingTime(t.workingMinutesLeft)}
            </td>
            <td>${fmtDateTime(t.appointmentAt)}</td>
            <td>${t.agency}</td>
          </tr>`,
      )}
    </tbody>
  </table>`
}
