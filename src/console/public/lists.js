// Shared pieces of the console's lists: the Vietnam calendar day, the period form, the pager and export buttons.
import { download, qs, session } from './api.js'
import { html } from './format.js'

/** Today's Vietnam calendar day (UTC+7), YYYY-MM-DD. */
export function vnToday() {
  return new Date(Date.now() + 7 * 3600_000).toISOString().slice(0, 10)
}

/** This month so far, in Vietnam time: the default period of Today and the indicators. */
export function thisMonth() {
  const today = vnToday()
  return { from: `${today.slice(0, 8)}01`, to: today }
}

export const isAdmin = () => Boolean(session.principal?.roles.includes('admin'))
export const hasRole = (...roles) => Boolean(session.principal?.roles.some((r) => roles.includes(r)))

/** Keeps only YYYY-MM-DD values. */
export const day = (v) => (/^\d{4}-\d{2}-\d{2}$/.test(v ?? '') ? v : undefined)

/**
 * "Trang trước / Trang sau" over the API's keyset cursor: the cursors of the pages before this one ride
 * in the address (`trail`), so going back does not recount.
 */
export function pager(route, query, page, noun) {
  const trail = query.trail ? query.trail.split('~') : []
  const link = (over) => `#/${route}${qs({ ...query, ...over })}`
  return html`<p class="pager">
    ${trail.length ? html`<a id="prev-page" href="${link({ cursor: trail[trail.length - 1] || undefined, trail: trail.slice(0, -1).join('~') || undefined })}">← Trang trước</a>` : ''}
    <span>Trang ${trail.length + 1} · ${page.items.length} ${noun}</span>
    ${page.nextCursor ? html`<a id="next-page" href="${link({ cursor: page.nextCursor, trail: [...trail, query.cursor ?? ''].join('~') })}">Trang sau →</a>` : ''}
  </p>`
}

/** CSV and XLSX buttons calling an export route through `download()`. */
export function exportButtons() {
  return html`<p class="exports">
    Xuất: <button type="button" data-export="csv">CSV</button> <button type="button" data-export="xlsx">XLSX</button>
    <span class="error" id="export-error" hidden></span>
  </p>`
}

export function wireExports(main, path, params, name) {
  for (const b of main.querySelectorAll('[data-export]'))
    b.addEventListener('click', () => {
      const format = b.dataset.export
      const box = main.querySelector('#export-error')
      box.hidden = true
      download(`${path}${qs({ ...params, format })}`, `${name}.${format}`).catch((err) => {
        box.textContent = err.message
        box.hidden = false
      })
    })
}

/** A filter form whose submit puts its fields in the page's address. */
export function wireFilters(main, route, keep = {}) {
  const form = main.querySelector('#filters')
  form?.addEventListener('submit', (e) => {
    e.preventDefault()
    location.hash = `#/${route}${qs({ ...keep, ...Object.fromEntries(new FormData(form)) })}`
  })
}
