// The console's router: `#/page/arg?query` → a page module's render(main, { args, query }).
import { session } from './api.js'
import { html } from './format.js'

const PAGES = {
  'sign-in': () => import('./pages/sign-in.js'),
  today: () => import('./pages/today.js'),
  'my-tasks': () => import('./pages/my-tasks.js'),
  'dossiers-list': () => import('./pages/dossiers-list.js'),
  deadlines: () => import('./pages/deadlines.js'),
  tasks: () => import('./pages/tasks.js'),
  indicators: () => import('./pages/indicators.js'),
  handoffs: () => import('./pages/handoffs.js'),
  dossiers: () => import('./pages/dossier.js'),
  procedures: () => import('./pages/procedures.js'),
}
/** Supervisors and admins start on Today; an officer on their own queue (Today is not theirs to read). */
const home = () => (session.principal?.roles.some((r) => r === 'supervisor' || r === 'admin') ? '#/today' : '#/my-tasks')
/** Menu entries by role: an entry with `data-roles` shows only to those roles. */
function showNav() {
  const roles = session.principal?.roles ?? []
  for (const a of document.querySelectorAll('#nav a[data-roles]')) a.hidden = !a.dataset.roles.split(' ').some((r) => roles.includes(r))
}

function parse(hash) {
  const [path, query = ''] = hash.replace(/^#\/?/, '').split('?')
  const [page, ...args] = path.split('/').filter(Boolean).map(decodeURIComponent)
  return { page: page ?? '', args, query: Object.fromEntries(new URLSearchParams(query)) }
}

function showWho() {
  const who = document.getElementById('who')
  const p = session.principal
  who.innerHTML = p
    ? html`${p.userId} · ${p.roles.join(', ')} · ${p.agency} <button id="sign-out" type="button">Đăng xuất</button>`.text
    : ''
  document.getElementById('sign-out')?.addEventListener('click', () => {
    session.token = null
    location.hash = '#/sign-in'
  })
}

let rendering = 0
async function route() {
  const { page, args, query } = parse(location.hash)
  const main = document.getElementById('page')
  if (!page) return void (location.hash = session.token ? home() : '#/sign-in')
  if (page !== 'sign-in' && !session.token) return void (location.hash = `#/sign-in?next=${encodeURIComponent(location.hash)}`)
  showWho()
  showNav()
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.nav === page)
  const load = PAGES[page]
  if (!load) {
    main.innerHTML = html`<p class="error">Không có trang "${page}".</p>`.text
    return
  }
  const mine = ++rendering
  main.setAttribute('aria-busy', 'true')
  // `data-ready` names the page once its content (figures, rows, diagram) is shown: what the browser
  // tests and the benchmark wait for.
  delete main.dataset.ready
  try {
    const mod = await load()
    await mod.render(main, { args, query, current: () => mine === rendering })
    if (mine === rendering) {
      main.dataset.ready = page
      window.performance.mark('console-ready', { detail: page })
    }
  } catch (err) {
    if (mine === rendering && err?.status !== 401)
      main.innerHTML = html`<p class="error" data-code="${err?.code ?? ''}">${err?.message ?? String(err)}</p>
        ${err?.status === 403 ? html`<p id="forbidden-home">Trang này không thuộc quyền xem của bạn. <a href="${home()}">Về trang của bạn</a></p>` : ''}`.text
  } finally {
    if (mine === rendering) main.removeAttribute('aria-busy')
  }
}

window.addEventListener('hashchange', route)
route()
