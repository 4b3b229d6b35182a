/**
 * The console in a real browser on the seeded province (part of bench/supervision.ts): Debian's
 * Chromium driven by playwright-core opens each console page several times and measures the time from
 * the navigation's start to the page's content being shown (the router's `data-ready` marker and
 * `console-ready` performance mark, set once the page's figures, rows or diagram are drawn; read on the
 * browser's own clock), and records the /api responses each page fetched: how many, how
 * many bytes, and the most rows in one of them (at most one page, PAGE_ROWS).
 */
import { chromium } from 'playwright-core'
import { CHROMIUM, PAGE_ROWS, watchApi, type ApiResponse } from '../test/helpers/browser.ts'

export interface ConsolePage {
  name: string
  /** The console address after `#/`. */
  hash: string
  /** Which signed-in user opens it. */
  token: string
}

export interface ConsolePageFigures {
  name: string
  hash: string
  runs: number[]
  p50: number
  max: number
  /** The slowest run as the benchmark saw it (navigation requested → marker found): adds the driver's own overhead. */
  wallMax: number
  responses: number
  bytes: number
  maxRows: number
  calls: ApiResponse[]
}

const round = (x: number) => Math.round(x * 10) / 10

export async function consolePagesBench(base: string, pages: ConsolePage[], runs = 5): Promise<ConsolePageFigures[]> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] })
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' })
    const page = await context.newPage()
    const errors: string[] = []
    page.on('pageerror', (err) => errors.push(err.message))
    const api = watchApi(page)
    const out: ConsolePageFigures[] = []
    for (const p of pages) {
      const times: number[] = []
      const walls: number[] = []
      let calls: ApiResponse[] = []
      await page.goto(`${base}/console/#/sign-in`)
      await page.evaluate((token) => sessionStorage.setItem('dvc.console.token', token), p.token)
      for (let i = 0; i < runs; i++) {
        // A fresh document each time: the console's static files come from the browser's cache (as on a
        // supervisor's second visit), every API call goes to the server.
        await page.goto('about:blank')
        await api.take()
        const t0 = performance.now()
        await page.goto(`${base}/console/#/${p.hash}`)
        const page0 = p.hash.split(/[/?]/)[0]
        await page.waitForSelector(`#page[data-ready="${page0}"]`, { timeout: 30_000 }).catch(async () => {
          throw new Error(`console page ${p.name} (#/${p.hash}) did not show: ${await page.innerText('#page').catch(() => '?')}`)
        })
        walls.push(performance.now() - t0)
        // The browser's own clock: from the navigation's start to the router's mark when content was shown.
        times.push(await page.evaluate(() => performance.getEntriesByName('console-ready').at(-1)?.startTime ?? NaN))
        calls = await api.take()
      }
      const failed = calls.filter((c) => c.status >= 400)
      if (failed.length) throw new Error(`console page ${p.name}: ${failed.map((c) => `${c.url} → ${c.status}`).join(', ')}`)
      const sorted = [...times].sort((a, b) => a - b)
      out.push({
        name: p.name,
        hash: p.hash,
        runs: times.map(round),
        p50: round(sorted[Math.floor(sorted.length / 2)]!),
        max: round(sorted[sorted.length - 1]!),
        wallMax: round(Math.max(...walls)),
        responses: calls.length,
        bytes: calls.reduce((n, c) => n + c.bytes, 0),
        maxRows: Math.max(0, ...calls.map((c) => c.rows)),
        calls,
      })
    }
    if (errors.length) throw new Error(`console pages: browser errors ${errors.join(' | ')}`)
    const tooMany = out.filter((p) => p.maxRows > PAGE_ROWS)
    if (tooMany.length) throw new Error(`console pages fetched more than one page of rows: ${tooMany.map((p) => p.name).join(', ')}`)
    return out
  } finally {
    await browser.close()
  }
}

export function printConsolePages(pages: Omit<ConsolePageFigures, 'calls'>[]) {
  for (const p of pages)
    console.log(
      `console page: ${p.name.padEnd(24)} p50 ${p.p50} ms, max ${p.max} ms (target < 1000 ms; as driven ${p.wallMax} ms); ${p.responses} API responses, ${(p.bytes / 1024).toFixed(1)} kB, at most ${p.maxRows} rows in one`,
    )
}
