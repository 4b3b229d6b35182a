// An officer's own queue (việc của tôi), the console's home for officers: the open steps they hold or
// may claim in their agency, earliest due date first, with the working time left, one page at a time.
import { api, qs, session } from '../api.js'
import { DEADLINE_STATES, fmtDateTime, fmtWorkingTime, html } from '../format.js'
import { pager } from '../lists.js'

export async function render(main, { query, current }) {
  const page = await api(`/tasks/queue${qs({ limit: 50, cursor: query.cursor })}`)
  if (!current()) return
  const me = session.principal?.userId
  main.innerHTML = html` <h1>Việc của tôi</h1>
    <p class="muted">
      Các bước đang chờ xử lý mà bạn đang giữ hoặc có thể nhận (theo nhóm xử lý của bạn), hạn sớm nhất trước. Thời gian còn lại tính theo
      giờ làm việc.
    </p>
    ${
      page.items.length === 0
        ? html`<p class="empty" id="my-tasks-empty">Không có công việc nào đang chờ bạn.</p>`
        : html`<table id="my-tasks">
            <thead>
              <tr>
                <th>Mã hồ sơ</th>
                <th>Thủ tục</th>
                <th>Bước</th>
                <th>Người giữ</th>
                <th>Hạn của bước</th>
                <th>Thời gian</th>
              </tr>
            </thead>
            <tbody>
              ${page.items.map(
                (t) =>
                  html`<tr data-task="${t.id}">
                    <td><a href="#/dossiers/${t.dossierId}">${t.dossierCode}</a></td>
                    <td>${t.procedureCode}</td>
                    <td title="${t.activityId}">${t.name}</td>
                    <td>
                      ${
                        t.assignee === me
                          ? html`<strong>Bạn</strong>`
                          : (t.assignee ?? html`<span class="muted">chưa nhận (${t.candidateGroups.join(', ')})</span>`)
                      }
                    </td>
                    <td>${fmtDateTime(t.due)}</td>
                    <td class="state-${t.deadlineState}" title="${DEADLINE_STATES[t.deadlineState] ?? t.deadlineState}">
                      ${t.workingMinutesLeft === null ? (DEADLINE_STATES[t.deadlineState] ?? t.deadlineState) : fmtWorkingTime(t.workingMinutesLeft)}
                    </td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }
    ${pager('my-tasks', query, page, 'việc')}`.text
}
