// Drawing a procedure version's BPMN with the bpmn-js viewer. A diagram saved without its layout (no
// BPMN DI: the shapes' positions) cannot be drawn: the container then says so, and the caller lists
// the steps beside it instead.
import { html } from './format.js'

const VENDOR = '/console/vendor/bpmn-js'
let loading = null

/** Adds a stylesheet or script to the page; resolves once it has loaded. */
function attach(tag, attrs) {
  return new Promise((resolve, reject) => {
    const el = Object.assign(document.createElement(tag), attrs)
    el.onload = resolve
    el.onerror = () => reject(new Error('Không tải được trình xem sơ đồ'))
    document.head.append(el)
  })
}

/**
 * The bpmn-js viewer (about 200 kB of script and 130 kB of styles), loaded the first time a page draws
 * a diagram: the other pages do not pay for it.
 */
export function loadViewer() {
  loading ??= Promise.all([
    attach('link', { rel: 'stylesheet', href: `${VENDOR}/assets/diagram-js.css` }),
    attach('link', { rel: 'stylesheet', href: `${VENDOR}/assets/bpmn-js.css` }),
    attach('link', { rel: 'stylesheet', href: `${VENDOR}/assets/bpmn-font/css/bpmn-embedded.css` }),
    attach('script', { src: `${VENDOR}/bpmn-navigated-viewer.production.min.js` }),
  ]).catch((err) => {
    loading = null
    throw err
  })
  return loading
}

/** The viewer with the diagram drawn and fitted, or null when the XML has no layout to draw. */
export async function drawDiagram(container, xml) {
  await loadViewer()
  const viewer = new window.BpmnJS({ container })
  try {
    await viewer.importXML(xml)
  } catch (err) {
    if (!/no diagram to display/i.test(err?.message ?? '')) throw err
    viewer.destroy()
    container.classList.add('no-layout')
    container.innerHTML = html`<p class="muted" data-no-layout>
      Phiên bản này không có bố cục sơ đồ (BPMN DI) nên không vẽ được; các bước được liệt kê bên dưới.
    </p>`.text
    return null
  }
  viewer.get('canvas').zoom('fit-viewport')
  return viewer
}
