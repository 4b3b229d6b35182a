// Today (hôm nay): dossiers received, in process, due soon, overdue and resolved early / on time / late,
// by agency and procedure, for a period; each figure links to the dossiers behind it.
import { api, qs } from '../api.js'
import { fmtNumber, html } from '../format.js'
import { day, isAdmin, thisMonth, wireFilters } from '../lists.js'

export const FIGURE_LABELS = {
  received: 'Tiếp nhận',
  in_process: 'Đang xử lý',
  due_soon: 'Sắp đến hạn',
  overdue: 'Quá hạn',
  resolved_early: 'Giải quyết trước hạn',
  resolved_on_time: 'Giải quyết đúng hạn',
  resolved_late: 'Giải quyết trễ hạn',
}

export async function render(main, { query, current }) {
  const month = thisMonth()
  const admin = isAdmin()
  const filter = {
    from: day(query.from) ?? month.from,
    to: day(query.to) ?? month.to,
    agency: admin ? query.agency || undefined : undefined,
    procedureCode: query.procedureCode || undefined,
  }
  // Province-wide (an admin, no agency chosen): one row per agency, each opening its own Today.
  const byAgency = admin && !filter.agency && !filter.procedureCode
  const today = await api(`/supervision/today${qs({ ...filter, groupBy: byAgency ? 'agency' : undefined })}`)
  if (!current()) return
  const figureLink = (figure, over, value) =>
    html`<a data-figure="${figure}" href="#/dossiers-list${qs({ figure, ...filter, ...over })}">${fmtNumber(value)}</a>`
  const figures = Object.keys(FIGURE_LABELS)
  main.innerHTML = html` <h1>Hôm nay</h1>
    <form class="filters" id="filters">
      <label>Từ ngày <input type="date" name="from" value="${filter.from}" required /></label>
      <label>Đến ngày <input type="date" name="to" value="${filter.to}" required /></label>
      ${admin ? html`<label>Cơ quan <input name="agency" value="${filter.agency ?? ''}" maxlength="100" /></label>` : ''}
      <label>Mã thủ tục <input name="procedureCode" value="${filter.procedureCode ?? ''}" maxlength="64" /></label>
      <button type="submit">Xem</button>
    </form>
    <p class="muted">
      Tiếp nhận và giải quyết: trong khoảng ngày đã chọn. Đang xử lý, sắp đến hạn, quá hạn: hồ sơ chưa xong tại thời điểm này.
    </p>
    <table id="today" data-period="${filter.from}..${filter.to}">
      <thead>
        <tr>
          <th>Cơ quan</th>
          <th>Thủ tục</th>
          ${figures.map((f) => html`<th class="num">${FIGURE_LABELS[f]}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${
          today.rows.length === 0
            ? html`<tr>
                <td colspan="${figures.length + 2}" class="empty">Không có hồ sơ nào.</td>
              </tr>`
            : today.rows.map(
                (r) =>
                  html`<tr data-agency="${r.agency}" data-procedure="${r.procedure_code ?? ''}">
                    <td>
                      ${byAgency ? html`<a href="#/today${qs({ from: filter.from, to: filter.to, agency: r.agency })}">${r.agency}</a>` : r.agency}
                    </td>
                    <td>
                      ${
                        r.procedure_code === null
                          ? html`<span class="muted">Tất cả thủ tục</span>`
                          : html`<a href="#/procedures/${r.procedure_code}">${r.procedure_code}</a>`
                      }
                    </td>
                    ${figures.map(
                      (f) =>
                        html`<td class="num" data-col="${f}">
                          ${figureLink(f, r.procedure_code === null ? { agency: r.agency } : { agency: r.agency, procedureCode: r.procedure_code }, r[f])}
                        </td>`,
                    )}
                  </tr>`,
              )
        }
      </tbody>
      <tfoot>
        <tr id="today-totals">
          <th colspan="2">Tổng cộng</th>
          ${figures.map((f) => html`<th class="num" data-col="${f}">${figureLink(f, {}, today.totals[f])}</th>`)}
        </tr>
      </tfoot>
    </table>`.text
  wireFilters(main, 'today')
}
