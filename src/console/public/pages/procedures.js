// Procedures (thủ tục) and a procedure's diagram, drawn with bpmn-js, with the version picker, live
// counts of open / due-soon / overdue tasks on each step, a heat colour by overdue share, and a step's tasks.
import { api, qs } from '../api.js'
import { fmtDateTime, fmtNumber, html } from '../format.js'
import { isAdmin } from '../lists.js'
import { taskTable } from './tasks.js'
import { drawDiagram, loadViewer } from '../diagram.js'

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
  loadViewer().catch(() => {}) // while the procedure and its counts are fetched
  const [procedure, versions] = await Promise.all([
    api(`/procedures/${encodeURIComponent(code)}`),
    api(`/procedures/${encodeURIComponent(code)}/versions`),
  ])
  const version = Number(query.version) || procedure.latestVersion
  const agency = isAdmin() ? query.agency || undefined : undefined
  const [xml, counts] = await Promise.all([
    api(`/procedures/${encodeURIComponent(code)}/versions/${version}/xml`, { raw: true }).then((r) => r.text()),
    api(`/supervision/steps${qs({ procedureCode: code, version, agency })}`),
  ])
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
    <p class="muted">
      Trên mỗi bước: số công việc đang mở · sắp đến hạn · quá hạn. Màu càng đậm, tỷ lệ quá hạn càng cao. Bấm vào một bước để xem các công
      việc của bước đó.
    </p>
    <div class="diagram" id="diagram"></div>
    <ul class="off-diagram" id="off-diagram" aria-label="Bước không vẽ trên sơ đồ" hidden></ul>
    <section id="step-section"></section>`.text
  main.querySelector('#version').addEventListener('change', (e) => {
    location.hash = `#/procedures/${encodeURIComponent(code)}${qs({ version: e.target.value, agency })}`
  })
  const viewer = await drawDiagram(main.querySelector('#diagram'), xml)
  const canvas = viewer?.get('canvas')
  const registry = viewer?.get('elementRegistry')
  const overlays = viewer?.get('overlays')
  const steps = new Map(counts.steps.map((s) => [s.activityId, s]))
  const showStep = (step) => listStepTasks(main.querySelector('#step-section'), code, step, agency, current)
  const offDiagram = main.querySelector('#off-diagram')
  for (const step of counts.steps) {
    const badge = document.createElement('button')
    badge.type = 'button'
    badge.className = 'overlay-count'
    badge.dataset.step = step.activityId
    badge.title = `${step.name}: ${step.open} đang mở, ${step.dueSoon} sắp đến hạn, ${step.overdue} quá hạn`
    badge.innerHTML = html`<span class="open">${fmtNumber(step.open)}</span><span class="due_soon">${fmtNumber(step.dueSoon)}</span
      ><span class="overdue">${fmtNumber(step.overdue)}</span>`.text
    badge.addEventListener('click', () => showStep(step))
    if (!registry?.get(step.activityId)) {
      // A step the engine adds that the diagram does not draw (e.g. returning the result), or every step
      // of a diagram without a layout: listed beside it.
      const item = document.createElement('li')
      item.textContent = `${registry ? 'Ngoài sơ đồ: ' : ''}${step.name} `
      item.append(badge)
      offDiagram.append(item)
      offDiagram.hidden = false
      continue
    }
    overlays.add(step.activityId, 'step-counts', { position: { bottom: 8, right: 8 }, html: badge })
    const heat = heatLevel(step)
    if (heat) canvas.addMarker(step.activityId, `heat-${heat}`)
  }
  viewer?.get('eventBus').on('element.click', (e) => {
    const step = steps.get(e.element.id)
    if (step) showStep(step)
  })
  return viewer
}

/** The heat of a step: none without overdue tasks, then 1..3 as the overdue share of its open tasks grows. */
export function heatLevel({ open, overdue }) {
  if (!open || !overdue) return 0
  const share = overdue / open
  return share >= 2 / 3 ? 3 : share >= 1 / 3 ? 2 : 1
}

/** A step's open tasks (overdue and due soon first), one page, below the diagram. */
async function listStepTasks(section, code, step, agency, current) {
  section.setAttribute('aria-busy', 'true')
  try {
    const page = await api(`/supervision/tasks${qs({ procedureCode: code, activityId: step.activityId, state: 'all', agency, limit: 50 })}`)
    if (!current()) return
    section.innerHTML = html`<h2 id="step-title">Bước: ${step.name}</h2>
      <p class="muted">
        ${fmtNumber(step.open)} công việc đang mở, ${fmtNumber(step.dueSoon)} sắp đến hạn, ${fmtNumber(step.overdue)} quá hạn.
        <a href="#/tasks${qs({ state: 'all', procedureCode: code, activityId: step.activityId, agency })}">Mở danh sách đầy đủ →</a>
      </p>
      ${taskTable(page.items, 'step-tasks')}`.text
  } catch (err) {
    section.innerHTML = html`<p class="error" data-code="${err?.code ?? ''}">${err?.message ?? String(err)}</p>`.text
  } finally {
    section.removeAttribute('aria-busy')
  }
}
