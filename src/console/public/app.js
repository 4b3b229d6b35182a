// The console's router: `#/page/arg?query` → a page module's render(main, { args, query }).
import { session } from './api.js'
import { html } from './format.js'

const PAGES = {
  'sign-in': () => import('./pages/sign-in.js'),
  today: () => import('./pages/today.js'),
  'dossiers-list': () => import('./pages/dossiers-list.js'),
  deadlines: () => import('./pages/deadlines.js'),
  tasks: () => import('./pages/tasks.js'),
  indicators: () => import('./pages/indicators.js'),
  handoffs: () => import('./pages/handoffs.js'),
  dossiers: () => import('./pages/dossier.js'),
  procedures: () => import('./pages/procedures.js'),
}
const HOME = '#/today'

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
  if (!page) return void (location.hash = HOME)
  if (page !== 'sign-in' && !session.token) return void (location.hash = `#/sign-in?next=${encodeURIComponent(location.hash)}`)
  showWho()
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.nav === page)
  const load = PAGES[page]
  if (!load) {
    main.innerHTML = html`<p class="error">Không có trang "${page}".</p>`.text
    return
  }
  const mine = ++rendering
  main.setAttribute('aria-busy', 'true')
  try {
    const mod = await load()
    await mod.render(main, { args, query, current: () => mine === rendering })
  } catch (err) {
    if (mine === rendering && err?.status !== 401)
      main.innerHTML = html`<p class="error" data-code="${err?.code ?? ''}">${err?.message ?? String(err)}</p>`.text
  } finally {
    if (mine === rendering) main.removeAttribute('aria-busy')
  }
}

window.addEventListener('hashchange', route)
route()
