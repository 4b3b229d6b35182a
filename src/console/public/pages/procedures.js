// Procedures (thủ tục) and a procedure's diagram, drawn with bpmn-js, with the version picker.
import { api, qs } from '../api.js'
import { fmtDateTime, html } from '../format.js'

export async function render(main, ctx) {
  if (ctx.args[0]) return renderProcedure(main, ctx)
  const page = await api(`/procedures${qs({ limit: 50, after: ctx.query.after })}`)
  if (!ctx.current()) return
  main.innerHTML = html` <h1>Thủ tục hành chính</h1>
    ${
      page.items.length === 0
        ? html`<p class="empty">Chưa có thủ tục nào được triển khai.</p>`
        : html`<table id="procedure-list">
            <thead>
              <tr>
                <th>Mã</th>
                <th>Tên thủ tục</th>
                <th>Cơ quan</th>
                <th class="num">Phiên bản</th>
                <th>Cập nhật</th>
              </tr>
            </thead>
            <tbody>
              ${page.items.map(
                (p) =>
                  html`<tr>
                    <td><a href="#/procedures/${p.code}">${p.code}</a></td>
                    <td>${p.name}</td>
                    <td>${p.agency}</td>
                    <td class="num">${p.latestVersion}</td>
                    <td>${fmtDateTime(p.updatedAt)}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }
    <p class="pager">
      ${page.nextAfter ? html`<a id="next-page" href="#/procedures${qs({ after: page.nextAfter })}">Trang sau →</a>` : ''}
    </p>`.text
}

async function renderProcedure(main, { args, query, current }) {
  const code = args[0]
  const [procedure, versions] = await Promise.all([
    api(`/procedures/${encodeURIComponent(code)}`),
    api(`/procedures/${encodeURIComponent(code)}/versions`),
  ])
  const version = Number(query.version) || procedure.latestVersion
  const xmlRes = await api(`/procedures/${encodeURIComponent(code)}/versions/${version}/xml`, { raw: true })
  const xml = await xmlRes.text()
  if (!current()) return
  main.innerHTML = html` <h1>${procedure.name} <span class="muted">(${procedure.code})</span></h1>
    <form class="filters" id="version-form">
      <label
        >Phiên bản
        <select name="version" id="version">
          ${versions.items.map(
            (v) =>
              html`<option value="${v.version}" ${v.version === version ? html`selected` : ''}>
                ${v.version} — ${fmtDateTime(v.deployedAt)}
              </option>`,
          )}
        </select>
      </label>
      <span class="muted">Cơ quan: ${procedure.agency}</span>
    </form>
    <div class="diagram" id="diagram"></div>`.text
  main.querySelector('#version').addEventListener('change', (e) => {
    location.hash = `#/procedures/${encodeURIComponent(code)}${qs({ version: e.target.value })}`
  })
  const viewer = new window.BpmnJS({ container: main.querySelector('#diagram') })
  await viewer.importXML(xml)
  viewer.get('canvas').zoom('fit-viewport')
  return viewer
}
