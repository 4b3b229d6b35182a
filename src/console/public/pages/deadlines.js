// Overdue and due-soon dossiers (hồ sơ quá hạn, sắp đến hạn), one page of rows at a time, exportable;
// the same by step and officer is the "steps" view (#/tasks).
import { api, qs } from '../api.js'
import { html } from '../format.js'
import { exportButtons, isAdmin, pager, wireExports, wireFilters } from '../lists.js'
import { dossierTable } from './dossiers-list.js'

const STATES = { overdue: 'Quá hạn', due_soon: 'Sắp đến hạn' }

export async function render(main, { query, current }) {
  const state = STATES[query.state] ? query.state : 'overdue'
  const admin = isAdmin()
  const filter = { figure: state, procedureCode: query.procedureCode || undefined, agency: admin ? query.agency || undefined : undefined }
  const page = await api(`/supervision/dossiers${qs({ ...filter, limit: 50, cursor: query.cursor })}`)
  if (!current()) return
  main.innerHTML = html` <h1>Hồ sơ ${STATES[state].toLowerCase()}</h1>
    <p class="tabs">
      <strong>Theo hồ sơ</strong> ·
      <a id="steps-view" href="#/tasks${qs({ state, procedureCode: filter.procedureCode, agency: filter.agency })}"
        >Theo bước xử lý, cán bộ</a
      >
    </p>
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
    <p class="muted">Sắp xếp: ngày hẹn trả sớm nhất trước.</p>
    ${exportButtons()} ${dossierTable(page.items)} ${pager('deadlines', query, page, 'hồ sơ')}`.text
  wireFilters(main, 'deadlines')
  wireExports(main, '/supervision/export/dossiers', filter, `ho-so-${state}`)
}
