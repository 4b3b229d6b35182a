// Indicators (chỉ số) of Decision 766/QĐ-TTg and the periodic report of TTHC results for a period, as
// tables with each rate's formula (numerator ÷ denominator), CSS bar charts and XLSX exports.
import { api, download, qs } from '../api.js'
import { fmtNumber, fmtRate, html } from '../format.js'
import { day, isAdmin, thisMonth, wireFilters } from '../lists.js'

/** Each indicator: its name, the Decision 766 item, and its numerator and denominator fields with their words. */
export const INDICATORS = [
  [
    'onTime',
    'Tỷ lệ hồ sơ giải quyết đúng hạn',
    '2.1',
    ['onTime', 'hồ sơ giải quyết trước hạn và đúng hạn'],
    ['finished', 'hồ sơ đã giải quyết (có ngày hẹn trả)'],
  ],
  [
    'early',
    'Tỷ lệ hồ sơ giải quyết trước hạn',
    '2.1',
    ['early', 'hồ sơ giải quyết trước hạn'],
    ['finished', 'hồ sơ đã giải quyết (có ngày hẹn trả)'],
  ],
  ['onlineDossiers', 'Tỷ lệ hồ sơ nộp trực tuyến', '3.3', ['online', 'hồ sơ nộp trực tuyến'], ['received', 'hồ sơ tiếp nhận']],
  [
    'postalDossiers',
    'Tỷ lệ hồ sơ qua bưu chính công ích',
    '3.3',
    ['postal', 'hồ sơ nộp qua bưu chính công ích'],
    ['received', 'hồ sơ tiếp nhận'],
  ],
  [
    'level4Procedures',
    'Tỷ lệ thủ tục trực tuyến toàn trình',
    '3.1',
    ['level4', 'thủ tục trực tuyến toàn trình'],
    ['procedures', 'thủ tục của cơ quan'],
  ],
  [
    'onlineProcedures',
    'Tỷ lệ thủ tục trực tuyến (một phần và toàn trình)',
    '3.1',
    ['online', 'thủ tục mức 3, 4'],
    ['procedures', 'thủ tục của cơ quan'],
  ],
  ['paidOnline', 'Tỷ lệ hồ sơ thanh toán trực tuyến', '3.6', ['paidOnline', 'hồ sơ nộp phí trực tuyến'], ['received', 'hồ sơ tiếp nhận']],
  ['electronicResults', 'Tỷ lệ kết quả trả điện tử', '4.1', ['electronic', 'kết quả trả trực tuyến'], ['returned', 'kết quả đã trả']],
  ['digitised', 'Tỷ lệ hồ sơ được số hoá', '4.2', ['digitised', 'hồ sơ có thành phần được lưu'], ['received', 'hồ sơ tiếp nhận']],
  ['satisfaction', 'Mức độ hài lòng', '5.4', ['satisfied', 'đánh giá hài lòng'], ['evaluated', 'lượt đánh giá']],
]

const REPORT_COLUMNS = {
  carried_over: 'Kỳ trước chuyển sang',
  received: 'Tiếp nhận mới',
  online: 'Trực tuyến',
  counter: 'Trực tiếp',
  postal: 'Bưu chính',
  resolved: 'Đã giải quyết',
  resolved_early: 'Trước hạn',
  resolved_on_time: 'Đúng hạn',
  resolved_late: 'Trễ hạn',
  in_progress: 'Đang giải quyết cuối kỳ',
}

const bar = (rate) =>
  rate === null || rate === undefined
    ? html`<span class="muted">chưa có dữ liệu</span>`
    : html`<span class="bar" role="img" aria-label="${fmtRate(rate)}"
        ><span style="width: ${Math.round(Math.min(1, Math.max(0, rate)) * 100)}%"></span
      ></span>`

export async function render(main, { query, current }) {
  const month = thisMonth()
  const admin = isAdmin()
  const groupBy = query.groupBy === 'procedure' ? 'procedure' : 'agency'
  const period = { from: day(query.from) ?? month.from, to: day(query.to) ?? month.to }
  const agency = admin ? query.agency || undefined : undefined
  const [ind, report] = await Promise.all([
    api(`/supervision/indicators${qs({ ...period, agency })}`),
    api(`/supervision/report${qs({ ...period, agency, groupBy })}`),
  ])
  if (!current()) return
  const maxReceived = Math.max(1, ...report.rows.map((r) => r.received + r.carried_over))
  main.innerHTML = html` <h1>Chỉ số và báo cáo định kỳ</h1>
    <form class="filters" id="filters">
      <label>Từ ngày <input type="date" name="from" value="${period.from}" required /></label>
      <label>Đến ngày <input type="date" name="to" value="${period.to}" required /></label>
      ${admin ? html`<label>Cơ quan <input name="agency" value="${agency ?? ''}" maxlength="100" /></label>` : ''}
      <label
        >Báo cáo theo
        <select name="groupBy">
          <option value="agency" ${groupBy === 'agency' ? html`selected` : ''}>Cơ quan</option>
          <option value="procedure" ${groupBy === 'procedure' ? html`selected` : ''}>Thủ tục</option>
        </select>
      </label>
      <button type="submit">Xem</button>
    </form>
    <h2>Bộ chỉ số phục vụ người dân, doanh nghiệp (Quyết định 766/QĐ-TTg)</h2>
    <p class="muted">
      ${ind.agency ? html`Cơ quan ${ind.agency}` : 'Mọi cơ quan'} · ${fmtNumber(ind.received)} hồ sơ tiếp nhận từ ${ind.period.from} đến
      ${ind.period.to}. Tỷ lệ = tử số ÷ mẫu số; mẫu số bằng 0 thì chưa có dữ liệu.
    </p>
    <p class="exports">
      <button type="button" data-export="indicators">Xuất XLSX</button> <span class="error" id="export-error" hidden></span>
    </p>
    <table id="indicators">
      <thead>
        <tr>
          <th>Chỉ số</th>
          <th>Mục QĐ 766</th>
          <th class="num">Tỷ lệ</th>
          <th>Cách tính</th>
          <th class="chart">Biểu đồ</th>
        </tr>
      </thead>
      <tbody>
        ${INDICATORS.map(([key, name, item, [nk, nw], [dk, dw]]) => {
          const r = ind[key]
          return html`<tr data-indicator="${key}">
            <td>${name}</td>
            <td>${item}</td>
            <td class="num rate" data-rate="${r.rate ?? ''}">${fmtRate(r.rate)}</td>
            <td class="formula">${fmtNumber(r[nk])} ${nw} ÷ ${fmtNumber(r[dk])} ${dw}</td>
            <td class="chart">${bar(r.rate)}</td>
          </tr>`
        })}
      </tbody>
    </table>
    <h2>Tình hình, kết quả giải quyết thủ tục hành chính</h2>
    <p class="exports"><button type="button" data-export="report">Xuất XLSX</button></p>
    <table id="report">
      <thead>
        <tr>
          <th>${groupBy === 'agency' ? 'Cơ quan' : 'Thủ tục'}</th>
          ${Object.values(REPORT_COLUMNS).map((c) => html`<th class="num">${c}</th>`)}
          <th class="num">Tỷ lệ đúng hạn</th>
          <th class="chart">Tiếp nhận (kỳ trước + mới)</th>
        </tr>
      </thead>
      <tbody>
        ${report.rows.map(
          (r) =>
            html`<tr data-key="${r.key}">
              <td>${r.key}</td>
              ${Object.keys(REPORT_COLUMNS).map((c) => html`<td class="num" data-col="${c}">${fmtNumber(r[c])}</td>`)}
              <td class="num" title="(trước hạn + đúng hạn) ÷ đã giải quyết">
                ${fmtRate(r.resolved ? (r.resolved_early + r.resolved_on_time) / r.resolved : null)}
              </td>
              <td class="chart">${bar((r.received + r.carried_over) / maxReceived)}</td>
            </tr>`,
        )}
      </tbody>
      <tfoot>
        <tr id="report-total">
          <th>Tổng cộng</th>
          ${Object.keys(REPORT_COLUMNS).map((c) => html`<th class="num" data-col="${c}">${fmtNumber(report.total[c])}</th>`)}
          <th class="num">
            ${fmtRate(report.total.resolved ? (report.total.resolved_early + report.total.resolved_on_time) / report.total.resolved : null)}
          </th>
          <th></th>
        </tr>
      </tfoot>
    </table>
    <p class="muted">
      Đang giải quyết cuối kỳ = kỳ trước chuyển sang + tiếp nhận mới − đã giải quyết. Tỷ lệ đúng hạn của báo cáo = (trước hạn + đúng hạn) ÷
      đã giải quyết.
    </p>`.text
  wireFilters(main, 'indicators')
  const box = main.querySelector('#export-error')
  const exports = {
    indicators: [`/supervision/export/indicators${qs({ ...period, agency, format: 'xlsx' })}`, `chi-so-${period.from}-${period.to}.xlsx`],
    report: [`/supervision/export/report${qs({ ...period, agency, groupBy, format: 'xlsx' })}`, `bao-cao-${period.from}-${period.to}.xlsx`],
  }
  for (const b of main.querySelectorAll('[data-export]'))
    b.addEventListener('click', () => {
      box.hidden = true
      download(...exports[b.dataset.export]).catch((err) => {
        box.textContent = err.message
        box.hidden = false
      })
    })
}
