import fs from 'node:fs'
import path from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import type { Teardown } from './context.ts'

/** Debian's Chromium (`apt-get install -y chromium`; .ci/run installs it), or CHROMIUM_PATH. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
/** Screenshots the browser tests save, under the test output (.tap/ is not committed). */
export const SCREENSHOTS = path.resolve('.tap/screenshots')

/** A real headless Chromium, closed with the test. */
export async function launchBrowser(t: Teardown): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`)
  // As root (CI), Chromium needs --no-sandbox.
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] })
  t.teardown(() => browser.close())
  return browser
}

/** A page whose browser-side errors fail loudly: they are collected and returned by `errors()`. */
export async function newPage(browser: Browser): Promise<{ page: Page; errors: () => string[] }> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' })
  const page = await context.newPage()
  const errors: string[] = []
  page.on('pageerror', (err) => errors.push(err.message))
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text())
  })
  return { page, errors: () => errors }
}

export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true })
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true })
}

/** The largest page any console call asks for (the handoffs board; lists ask for 50). */
export const PAGE_ROWS = 100

/** One /api response a page fetched: its size and the longest array in its JSON body (its rows). */
export interface ApiResponse {
  url: string
  status: number
  bytes: number
  rows: number
}

function longestArray(v: unknown): number {
  if (Array.isArray(v)) return Math.max(v.length, ...v.map(longestArray))
  if (v && typeof v === 'object') return Math.max(0, ...Object.values(v).map(longestArray))
  return 0
}

/**
 * Records every /api response of a browser page: `take()` answers (and forgets) those since the last
 * call, once their bodies are read. What "no page fetches more than one page of rows" is checked on.
 */
export function watchApi(page: Page): { take: () => Promise<ApiResponse[]> } {
  let pending: Array<Promise<ApiResponse>> = []
  page.on('response', (res) => {
    const url = new URL(res.url())
    if (!url.pathname.startsWith('/api/')) return
    pending.push(
      res.body().then(
        (body) => {
          let rows = 0
          if (/json/.test(res.headers()['content-type'] ?? '')) rows = longestArray(JSON.parse(body.toString('utf8')))
          return { url: url.pathname + url.search, status: res.status(), bytes: body.length, rows }
        },
        () => ({ url: url.pathname + url.search, status: res.status(), bytes: 0, rows: 0 }),
      ),
    )
  })
  return {
    take: async () => {
      const taken = pending
      pending = []
      return Promise.all(taken)
    },
  }
}
