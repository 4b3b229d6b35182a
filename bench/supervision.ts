/**
 * Supervision at province scale (part of `npm run bench`; BENCH_SUPERVISION=0 skips it): a province-year
 * of BENCH_SUPERVISION_DOSSIERS dossiers (1,000,000 by default) seeded by scripts/seed-province.ts into a
 * private Postgres, the API server started as `npm start` runs it (workers off: only reads are measured),
 * and over HTTP:
 *  - the overdue list's first page, p95, with 1 and 8 concurrent supervisors (each of another agency):
 *    the console's list (/api/supervision/dossiers?figure=overdue) and /api/supervision/deadlines;
 *  - Today's counts for a month, p95;
 *  - a step-count overlay of one procedure version (all agencies), p95;
 *  - the province-year indicator set and the periodic report (all agencies), the slowest of 5;
 *  - a CSV export of ~100,000 rows: time and the server's RSS growth (sampled every 20 ms);
 *  - whether concurrent submissions to one agency serialize on the daily counts (bench/daily-contention.ts);
 *  - the console's pages in Chromium (bench/console-pages.ts; BENCH_SUPERVISION_BROWSER=0 skips them):
 *    time to content shown, p50 and max of BENCH_CONSOLE_RUNS (5), and the API responses each fetched;
 * each also as a ratio to a baseline `SELECT count(*) FROM dossiers` measured in the same run.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { createTokenService, type Principal } from '../src/auth/principal.ts'
import { createDb } from '../src/db/knex.ts'
import { freePort } from '../src/infra/free-port.ts'
import { startLocalPostgres } from '../src/infra/local-postgres.ts'
import { startLocalRedis } from '../src/infra/local-redis.ts'
import { migrateLatest } from '../src/db/knex.ts'
import { SEED_AGENCIES, seedProvince } from '../scripts/seed-province.ts'
import { consolePagesBench, printConsolePages, type ConsolePage } from './console-pages.ts'
import { dailyContentionBench } from './daily-contention.ts'

const ROOT = path.resolve(import.meta.dirname, '..')
const DOSSIERS = Number(process.env.BENCH_SUPERVISION_DOSSIERS ?? 1_000_000)
const REQUESTS = Number(process.env.BENCH_SUPERVISION_REQUESTS ?? 200)
const SECRET = 'bench-secret-0123456789abcdefghijklmnop'
const NOW = new Date('2026-12-01T03:00:00Z')

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0
}
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) * 1024 : 0
}

/** CPU time (user + system) a process has used, in ms (Linux clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(f[11]) + Number(f[12])) * 10
}

async function startServer(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--max-semi-space-size=32', '--import', 'tsx', path.join(ROOT, 'src/main.ts')], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  for (let i = 0; i < 1200; i++) {
    const ok = await fetch(`http://127.0.0.1:${env.PORT}/health/live`).then(
      (r) => r.ok,
      () => false,
    )
    if (ok) return child
    await new Promise((r) => setTimeout(r, 100))
  }
  child.kill('SIGKILL')
  throw new Error('server did not start')
}

export async function supervisionBench(log: (m: string) => void = (m) => console.log(m)) {
  // BENCH_SUPERVISION_DATA_DIR keeps the seeded Postgres there and reuses it on the next run (seeding
  // a province-year takes minutes); without it, a temporary directory removed at the end.
  const kept = process.env.BENCH_SUPERVISION_DATA_DIR ? path.resolve(process.env.BENCH_SUPERVISION_DATA_DIR) : null
  const dir = kept ?? fs.mkdtempSync(path.join(os.tmpdir(), 'dvc-bench-supervision-'))
  fs.mkdirSync(dir, { recursive: true })
  fs.chmodSync(dir, 0o777)
  const [pgPort, redisPort, apiPort] = [await freePort(), await freePort(), await freePort()]
  const pg = await startLocalPostgres({ dataDir: path.join(dir, 'pg'), port: pgPort, persistent: kept !== null })
  const redis = await startLocalRedis({ dataDir: path.join(dir, 'redis'), port: redisPort, persistent: false })
  const db = createDb(pg.url, 4)
  let server: ChildProcess | null = null
  try {
    await migrateLatest(db)
    const marker = path.join(dir, 'seeded.json')
    let seeded: Awaited<ReturnType<typeof seedProvince>>
    if (kept && fs.existsSync(marker) && JSON.parse(fs.readFileSync(marker, 'utf8')).dossiers === DOSSIERS) {
      seeded = JSON.parse(fs.readFileSync(marker, 'utf8'))
      log(`supervision : reusing the seed in ${dir}`)
    } else {
      log(`supervision : seeding ${DOSSIERS.toLocaleString('en')} dossiers …`)
      seeded = await seedProvince(db, { dossiers: DOSSIERS, now: NOW })
      if (kept) fs.writeFileSync(marker, JSON.stringify(seeded))
    }
    log(
      `supervision : seeded ${seeded.dossiers.toLocaleString('en')} dossiers, ${seeded.history.toLocaleString('en')} history rows, ${seeded.openTasks.toLocaleString('en')} open tasks in ${round(seeded.seconds)} s`,
    )
    server = await startServer({
      DATABASE_URL: pg.url,
      REDIS_URL: redis.url,
      PORT: String(apiPort),
      JWT_SECRET: SECRET,
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      PAYMENT_SECRET: 'bench-payment-secret',
      RUN_WORKERS: 'false',
      DB_POOL_MAX: '20',
    })
    const tokens = createTokenService(SECRET)
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 })
    const get = (token: string, p: string, sink = false) =>
      new Promise<{ status: number; body: any; bytes: number }>((resolve, reject) => {
        const req = http.request(
          { host: '127.0.0.1', port: apiPort, path: p, method: 'GET', agent, headers: { authorization: `Bearer ${token}` } },
          (res) => {
            const chunks: Buffer[] = []
            let bytes = 0
            res.on('data', (c: Buffer) => {
              bytes += c.length
              if (!sink) chunks.push(c)
            })
            res.on('end', () => {
              const status = res.statusCode ?? 500
              const text = sink ? '' : Buffer.concat(chunks).toString('utf8')
              if (status >= 300) reject(new Error(`${p} → ${status} ${text}`))
              else resolve({ status, body: sink || !text.startsWith('{') ? text : JSON.parse(text), bytes })
            })
            res.on('error', reject)
          },
        )
        req.on('error', reject)
        req.end()
      })
    const admin = await tokens.sign({ userId: 'bench-admin', roles: ['admin'], groups: [], agency: SEED_AGENCIES[0]! })
    const supervisors = await Promise.all(
      SEED_AGENCIES.slice(0, 8).map((agency, i) => tokens.sign({ userId: `bench-gs-${i}`, roles: ['supervisor'], groups: [], agency })),
    )

    // Baseline: the same machine, the same moment, a plain count over the dossiers table.
    const baselineRuns: number[] = []
    for (let i = 0; i < 5; i++) {
      const t = performance.now()
      await db.raw('SELECT count(*) FROM dossiers')
      baselineRuns.push(performance.now() - t)
    }
    const baseline = pct(baselineRuns, 50)

    /** p95 of `REQUESTS` calls with `concurrency` callers, caller i using tokens[i % tokens.length]. */
    const timed = async (paths: (i: number) => string, concurrency: number, toks: string[]) => {
      for (let i = 0; i < 10; i++) await get(toks[i % toks.length]!, paths(i)) // warm-up
      const cpu0 = cpuMs(server!.pid!)
      const times: number[] = []
      let next = 0
      await Promise.all(
        Array.from({ length: concurrency }, async (_, c) => {
          for (;;) {
            const i = next++
            if (i >= REQUESTS) return
            const t = performance.now()
            await get(toks[c % toks.length]!, paths(i))
            times.push(performance.now() - t)
          }
        }),
      )
      return {
        p50: round(pct(times, 50)),
        p95: round(pct(times, 95)),
        serverCpuMsPerRequest: round((cpuMs(server!.pid!) - cpu0) / REQUESTS, 2),
        load: round(os.loadavg()[0]!),
      }
    }
    const overdue = {
      list1: await timed(() => '/api/supervision/dossiers?figure=overdue&limit=50', 1, [supervisors[0]!]),
      list8: await timed(() => '/api/supervision/dossiers?figure=overdue&limit=50', 8, supervisors),
      deadlines1: await timed(() => '/api/supervision/deadlines?state=overdue&limit=50', 1, [supervisors[0]!]),
      deadlines8: await timed(() => '/api/supervision/deadlines?state=overdue&limit=50', 8, supervisors),
      all1: await timed(() => '/api/supervision/dossiers?figure=overdue&limit=50', 1, [admin]),
    }
    const today = await timed(() => '/api/supervision/today?from=2026-11-01&to=2026-11-30', 1, supervisors)
    const codes = (await db('procedures').orderBy('code').pluck('code')) as string[]
    const steps = await timed((i) => `/api/supervision/steps?procedureCode=${codes[i % codes.length]}`, 1, [admin])
    const yearly = async (p: string) => {
      const times: number[] = []
      for (let i = 0; i < 5; i++) {
        const t = performance.now()
        await get(admin, p)
        times.push(performance.now() - t)
      }
      return round(Math.max(...times))
    }
    const indicatorsMs = await yearly('/api/supervision/indicators?from=2025-12-01&to=2026-12-01')
    const reportMs = await yearly('/api/supervision/report?from=2025-12-01&to=2026-12-01&groupBy=agency')
    const indicators = (await get(admin, '/api/supervision/indicators?from=2025-12-01&to=2026-12-01')).body

    const contention = await dailyContentionBench(pg.url)

    // The console's pages in a browser, on the same seed and server.
    const consolePages =
      process.env.BENCH_SUPERVISION_BROWSER === '0'
        ? []
        : await consolePagesBench(
            `http://127.0.0.1:${apiPort}`,
            await benchPages(db, (p) => tokens.sign(p), admin),
            Number(process.env.BENCH_CONSOLE_RUNS ?? 5),
          )

    // CSV export of ~100,000 rows: dossiers received province-wide over the last days holding that many.
    const days = await db('supervision_daily').groupBy('day').orderBy('day', 'desc').select('day', db.raw('sum(received)::int as n'))
    let from = days[0].day as Date | string,
      rows = 0
    for (const d of days) {
      rows += d.n
      from = d.day
      if (rows >= 100_000) break
    }
    const fromDay = new Date(from).toISOString().slice(0, 10)
    const rssBefore = rssOf(server.pid!)
    let rssMax = rssBefore
    const sampler = setInterval(() => (rssMax = Math.max(rssMax, rssOf(server!.pid!))), 20)
    const t0 = performance.now()
    const csv = await get(admin, `/api/supervision/export/dossiers?figure=received&from=${fromDay}&to=2026-12-01`, true)
    const exportMs = performance.now() - t0
    clearInterval(sampler)
    agent.destroy()
    return {
      dossiers: seeded.dossiers,
      historyRows: seeded.history,
      openTasks: seeded.openTasks,
      seedSeconds: round(seeded.seconds),
      baselineCountMs: round(baseline),
      overdueFirstPage: overdue,
      todayMonth: today,
      stepCounts: steps,
      indicatorsYearMs: indicatorsMs,
      reportYearMs: reportMs,
      indicatorsReceived: indicators.received,
      csvExport: { rows, ms: round(exportMs), bytes: csv.bytes, rssGrowthMb: round((rssMax - rssBefore) / 1024 / 1024) },
      dailyContention: contention,
      consolePages: consolePages.map(({ calls: _calls, ...p }) => p),
      ratios: {
        overdueP95_1: round(overdue.list1.p95 / baseline, 3),
        overdueP95_8: round(overdue.list8.p95 / baseline, 3),
        stepCountsP95: round(steps.p95 / baseline, 3),
        indicatorsYear: round(indicatorsMs / baseline, 3),
        csvExport: round(exportMs / baseline, 3),
      },
    }
  } finally {
    if (server) {
      server.kill('SIGTERM')
      await new Promise((r) => server!.once('exit', r))
    }
    await db.destroy()
    await redis.stop()
    await pg.stop()
    if (!kept) fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** The console pages the benchmark opens: a supervisor of the first seeded agency, an admin, an officer. */
export async function benchPages(
  db: ReturnType<typeof createDb>,
  sign: (p: Pick<Principal, 'userId' | 'roles' | 'groups' | 'agency'>) => Promise<string>,
  admin: string,
): Promise<ConsolePage[]> {
  const agency = SEED_AGENCIES[0]!
  const supervisor = await sign({ userId: 'bench-console-gs', roles: ['supervisor'], groups: [], agency })
  const officer = await sign({
    userId: `cv-${agency}-1`,
    roles: ['officer'],
    groups: ['one-stop', 'one-stop-head', 'specialists', 'leaders', 'ubnd-xa'],
    agency,
  })
  const busiest = (await db('tasks')
    .where({ status: 'open', agency })
    .groupBy('procedure_code')
    .orderByRaw('count(*) desc')
    .first('procedure_code')) as { procedure_code: string }
  const late = (await db('dossiers')
    .where({ agency, deadline_state: 'overdue' })
    .whereNull('finished_at')
    .orderBy('appointment_at')
    .first('id')) as { id: string }
  const month = 'from=2026-11-01&to=2026-11-30'
  return [
    { name: 'Today (a month)', hash: `today?${month}`, token: supervisor },
    { name: 'Today, all agencies', hash: `today?${month}`, token: admin },
    { name: 'overdue list', hash: 'deadlines?state=overdue', token: supervisor },
    { name: 'due-soon list', hash: 'deadlines?state=due_soon', token: supervisor },
    { name: 'a figure (received)', hash: `dossiers-list?figure=received&${month}`, token: supervisor },
    { name: 'steps by officer', hash: 'tasks?state=all', token: supervisor },
    { name: 'procedure diagram', hash: `procedures/${busiest.procedure_code}`, token: supervisor },
    { name: 'a dossier', hash: `dossiers/${late.id}`, token: supervisor },
    { name: 'indicators (a year)', hash: 'indicators?from=2025-12-01&to=2026-11-30', token: supervisor },
    { name: 'handoffs, incidents', hash: 'handoffs', token: admin },
    { name: "an officer's queue", hash: 'my-tasks', token: officer },
  ]
}

export function printSupervision(r: Awaited<ReturnType<typeof supervisionBench>>) {
  const o = r.overdueFirstPage
  console.log(
    `supervision : ${r.dossiers.toLocaleString('en')} dossiers, ${r.historyRows.toLocaleString('en')} history rows, ${r.openTasks.toLocaleString('en')} open tasks (seeded in ${r.seedSeconds} s); baseline SELECT count(*) FROM dossiers ${r.baselineCountMs} ms`,
  )
  console.log(
    `overdue list: first page p95 ${o.list1.p95} ms (1 supervisor), ${o.list8.p95} ms (8 concurrent), all agencies ${o.all1.p95} ms; /deadlines ${o.deadlines1.p95} / ${o.deadlines8.p95} ms (target < 50 ms; ratio to baseline ${r.ratios.overdueP95_1} / ${r.ratios.overdueP95_8})`,
  )
  console.log(
    `              server CPU per request ${o.list1.serverCpuMsPerRequest} ms (1) / ${o.list8.serverCpuMsPerRequest} ms (8 concurrent); load average ${o.list1.load} / ${o.list8.load}`,
  )
  console.log(`today       : a month by agency and procedure p95 ${r.todayMonth.p95} ms`)
  console.log(
    `step counts : one procedure version, all agencies p95 ${r.stepCounts.p95} ms (target < 100 ms; ratio ${r.ratios.stepCountsP95})`,
  )
  console.log(
    `indicators  : province-year ${r.indicatorsYearMs} ms (slowest of 5; target < 500 ms; ratio ${r.ratios.indicatorsYear}); periodic report by agency ${r.reportYearMs} ms`,
  )
  console.log(
    `csv export  : ${r.csvExport.rows.toLocaleString('en')} rows, ${round(r.csvExport.bytes / 1024 / 1024)} MB in ${r.csvExport.ms} ms, server RSS growth ${r.csvExport.rssGrowthMb} MB (target < 100 MB; ratio ${r.ratios.csvExport})`,
  )
  console.log(
    `daily counts: 8 connections submitting, ${r.dailyContention.runs.map((c) => `${c.label} ${c.perSecond} tx/s (p95 ${c.p95} ms)`).join('; ')}; load average ${r.dailyContention.load}`,
  )
  printConsolePages(r.consolePages)
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const r = await supervisionBench()
  printSupervision(r)
  console.log(JSON.stringify(r))
}
