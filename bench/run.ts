/**
 * `npm run bench`: in one run,
 *  (a) the raw bpmn-engine ceiling: the 3-user-task sample procedure driven in memory with the same
 *      save-state → recover → signal cycle per step, no database (before and after (b), averaged);
 *  (b) the same procedure end to end over HTTP with Postgres and Redis and N concurrent officers:
 *      first back to back (the throughput ceiling; there `complete` latency is bounded below by
 *      N ÷ throughput), then paced at BENCH_PACED_LOADS (default 0.25,0.5) of that ceiling (or at
 *      BENCH_PACED_RATES requests/s), each officer
 *      with at most one request in flight — the `complete` latency officers see under a heavy load
 *      (BENCH_PACED_DOSSIERS dossiers each, default 400; the first BENCH_PACED_RAMP_UP_MS, default
 *      5000, not measured). Officers' requests go over node:http keep-alive connections.
 *  (c) durable timers (bench/timers.ts): 100,000 pending, bursts of 1,000 coming due, fire lag (worker
 *      with its look-ahead, as `npm start` runs it) and Redis memory per pending timer, against live
 *      firings by a direct Postgres sweep measured in the same run.
 *  (d) supervision at province scale (bench/supervision.ts): a seeded province-year (1,000,000 dossiers,
 *      BENCH_SUPERVISION_DOSSIERS), the overdue list's first page, Today, step counts, the indicator set and
 *      a 100,000-row CSV export, each against a `SELECT count(*) FROM dossiers` baseline of the same run.
 *  (e) handoffs (bench/handoffs.ts): BENCH_HANDOFFS_COUNT dossiers (1,000) reaching an `http` handoff to a
 *      local peer together: dispatch lag and answer → resumed, against the raw BullMQ round trip of the same
 *      run, and Redis memory per pending handoff.
 * Prints instances/s and task completions/s for both, their ratio, p50/p99 of `complete`, the timer
 * and supervision figures; the last line is one JSON object with these figures. BENCH_TIMERS=0 skips (c),
 * BENCH_SUPERVISION=0 skips (d), BENCH_HANDOFFS=0 skips (e).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { freePort } from '../src/infra/free-port.ts'
import fs from 'node:fs'
import http from 'node:http'
import pgClient from 'pg'
import os from 'node:os'
import path from 'node:path'
import { createTokenService } from '../src/auth/principal.ts'
import { deserializeSourceContext, parseDiagram } from '../src/engine/definition.ts'
import { runStep } from '../src/engine/runtime.ts'
import { startLocalPostgres } from '../src/infra/local-postgres.ts'
import { startLocalRedis } from '../src/infra/local-redis.ts'
import { DossierStatus } from '../src/records/statuses.ts'
import { LIFECYCLE_ACTIONS } from '../src/procedures/lifecycle-actions.ts'
import { timerBench } from './timers.ts'
import { printSupervision, supervisionBench } from './supervision.ts'
import { handoffBench, printHandoffs } from './handoffs.ts'

const ROOT = path.resolve(import.meta.dirname, '..')
const OFFICERS = Number(process.env.BENCH_OFFICERS ?? 20)
const DOSSIERS = Number(process.env.BENCH_DOSSIERS ?? 400)
const RAW_INSTANCES = Number(process.env.BENCH_RAW ?? 400)
/** The paced phases offer these fractions of the saturated run's request rate. */
const PACED_LOADS = (process.env.BENCH_PACED_LOADS ?? '0.25,0.5').split(',').map(Number)
/**
 * Or these rates (requests/s), the same whatever the run saturates at: two versions that saturate at
 * different rates are then compared under the same load.
 */
const PACED_RATES = process.env.BENCH_PACED_RATES ? process.env.BENCH_PACED_RATES.split(',').map(Number) : null
const PACED_DOSSIERS = Number(process.env.BENCH_PACED_DOSSIERS ?? 400)
/** The start of each paced phase that is not measured (see officersAtWork). */
const PACED_RAMP_UP_MS = Number(process.env.BENCH_PACED_RAMP_UP_MS ?? 5000)
const SECRET = 'bench-secret-0123456789abcdefghijklmnop'
const STEPS: Array<[string, Record<string, unknown>]> = [
  ['Receive', { valid: true }],
  ['Appraise', { approved: true }],
  ['Approve', {}],
]

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0
}

async function rawEngine() {
  const xml = fs.readFileSync(path.join(ROOT, 'test/fixtures/three-step-procedure.bpmn'), 'utf8')
  const parsed = await parseDiagram(xml, { allowedScripts: new Set(), statuses: Object.values(DossierStatus), actions: LIFECYCLE_ACTIONS })
  if (!('sourceContext' in parsed)) throw new Error('sample diagram invalid')
  const ctx = deserializeSourceContext(parsed.sourceContext)
  const one = async () => {
    let r = await runStep(ctx, null, { kind: 'start', variables: {} })
    let saved = JSON.stringify(r.state)
    for (const [id, variables] of STEPS) {
      const w = r.waiting.find((x) => x.activityId === id)!
      r = await runStep(ctx, JSON.parse(saved), { kind: 'signal', activityId: id, executionId: w.executionId, variables })
      saved = JSON.stringify(r.state)
    }
    if (!r.ended) throw new Error('raw instance did not end')
  }
  for (let i = 0; i < 30; i++) await one() // warm-up
  const t0 = performance.now()
  for (let i = 0; i < RAW_INSTANCES; i++) await one()
  const s = (performance.now() - t0) / 1000
  return { instancesPerSec: RAW_INSTANCES / s, completionsPerSec: (RAW_INSTANCES * STEPS.length) / s }
}

async function startServer(env: Record<string, string>): Promise<ChildProcess> {
  // The node flags of `npm start` (a larger young generation: the engine allocates many short-lived objects).
  const child = spawn(
    process.execPath,
    [
      '--max-semi-space-size=32',
      ...(process.env.BENCH_SERVER_ARGS ? process.env.BENCH_SERVER_ARGS.split(' ') : []),
      '--import',
      'tsx',
      path.join(ROOT, 'src/main.ts'),
    ],
    { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit'] },
  )
  let exited = false
  child.once('exit', () => {
    exited = true
  })
  for (let i = 0; i < 600 && !exited; i++) {
    const ok = await fetch(`http://127.0.0.1:${env.PORT}/health`).then(
      (r) => r.ok,
      () => false,
    )
    if (ok) return child
    await new Promise((r) => setTimeout(r, 100))
  }
  child.kill('SIGKILL')
  throw new Error('server did not start')
}

type Post = (p: string, body: unknown) => Promise<any>

/**
 * OFFICERS officers work DOSSIERS dossiers to their end: each completes the next ready task, or
 * submits a new dossier (at the counter) when none is ready. `ratePerSec` null: back to back (the
 * throughput ceiling); otherwise every officer thinks an exponential time between requests so that
 * together they offer that many requests per second. Completions started in the first `rampUpMs`
 * are not measured: every officer starts by submitting a dossier, a mix the steady state never sees.
 */
async function officersAtWork(post: Post, dossiers: number, ratePerSec: number | null, rampUpMs = 0) {
  const ready: Array<{ id: string; activityId: string }> = []
  let submitted = 0
  let finished = 0
  let requests = 0
  let completions = 0
  const latencies: number[] = []
  const all: number[] = []
  const think = () =>
    ratePerSec ? new Promise((r) => setTimeout(r, (-Math.log(1 - Math.random()) * OFFICERS * 1000) / ratePerSec)) : Promise.resolve()
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: OFFICERS }, async () => {
      for (;;) {
        const task = ready.shift()
        if (task) {
          await think()
          const t = performance.now()
          const r = await post(`/api/tasks/${task.id}/complete`, { variables: STEPS.find(([id]) => id === task.activityId)![1] })
          all.push(performance.now() - t)
          if (t - t0 >= rampUpMs) latencies.push(all.at(-1)!)
          completions++
          requests++
          if (r.processEnded) finished++
          else ready.push(...r.nextTasks)
        } else if (submitted < dossiers) {
          submitted++
          await think()
          const r = await post('/api/dossiers', {
            procedureCode: 'TEST.3STEP',
            applicant: { name: `Hộ ${submitted}`, idNumber: '001099001234' },
            channel: 1,
            data: {},
          })
          requests++
          ready.push(...r.tasks)
        } else if (finished >= dossiers) return
        else await new Promise((r) => setTimeout(r, 1))
      }
    }),
  )
  const s = (performance.now() - t0) / 1000
  return {
    instancesPerSec: dossiers / s,
    completionsPerSec: completions / s,
    requestsPerSec: requests / s,
    p50: pct(latencies, 50),
    p99: pct(latencies, 99),
    p99WithRampUp: pct(all, 99),
    completions,
    measured: latencies.length,
  }
}

async function endToEnd() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dvc-bench-'))
  fs.chmodSync(dir, 0o777)
  const [pgPort, redisPort, apiPort] = [await freePort(), await freePort(), await freePort()]
  const pg = await startLocalPostgres({ dataDir: path.join(dir, 'pg'), port: pgPort, persistent: false })
  const redis = await startLocalRedis({ dataDir: path.join(dir, 'redis'), port: redisPort, persistent: false })
  const server = await startServer({
    DATABASE_URL: pg.url,
    REDIS_URL: redis.url,
    PORT: String(apiPort),
    JWT_SECRET: SECRET,
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
    PAYMENT_SECRET: 'bench-payment-secret',
    DB_POOL_MAX: '30',
  })
  try {
    const base = `http://127.0.0.1:${apiPort}`
    const token = await createTokenService(SECRET).sign({
      userId: 'bench',
      roles: ['officer'],
      groups: ['one-stop', 'specialists', 'leaders'],
      agency: 'UBND-XA-DEMO',
    })
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
    // Officers' requests go over keep-alive connections with node:http, whose client costs far less CPU
    // than fetch: the load generator shares the machine's cores with the server and Postgres.
    const agent = new http.Agent({ keepAlive: true, maxSockets: OFFICERS + 5 })
    const post = (p: string, body: unknown) =>
      new Promise<any>((resolve, reject) => {
        const payload = JSON.stringify(body)
        const req = http.request(
          {
            host: '127.0.0.1',
            port: apiPort,
            path: p,
            method: 'POST',
            agent,
            headers: { ...headers, 'content-length': Buffer.byteLength(payload) },
          },
          (res) => {
            const chunks: Buffer[] = []
            res.on('data', (c: Buffer) => chunks.push(c))
            res.on('end', () => {
              const json = JSON.parse(Buffer.concat(chunks).toString('utf8'))
              if ((res.statusCode ?? 500) >= 300) reject(new Error(`${p} → ${res.statusCode} ${JSON.stringify(json)}`))
              else resolve(json)
            })
            res.on('error', reject)
          },
        )
        req.on('error', reject)
        req.end(payload)
      })
    // The benchmark procedure (a fixture, not one of the sample procedures) is deployed by an analyst.
    const analyst = await createTokenService(SECRET).sign({
      userId: 'bench-analyst',
      roles: ['analyst'],
      groups: [],
      agency: 'UBND-XA-DEMO',
    })
    const xml = fs.readFileSync(path.join(ROOT, 'test/fixtures/three-step-procedure.bpmn'), 'utf8')
    const deployed = await fetch(base + '/api/procedures', {
      method: 'POST',
      headers: { authorization: `Bearer ${analyst}`, 'content-type': 'application/xml' },
      body: xml,
    })
    if (deployed.status >= 300) throw new Error(`deploy → ${deployed.status} ${await deployed.text()}`)
    // Warm-up: a few dossiers end to end.
    for (let i = 0; i < 10; i++) {
      let r = await post('/api/dossiers', {
        procedureCode: 'TEST.3STEP',
        applicant: { name: 'warm', idNumber: '001099000000' },
        channel: 1,
        data: {},
      })
      let task = r.tasks[0]
      // The three measured steps; the standard return step that follows them is left open, as in the measured runs.
      while (task && STEPS.some(([id]) => id === task.activityId)) {
        r = await post(`/api/tasks/${task.id}/complete`, { variables: STEPS.find(([id]) => id === task.activityId)![1] })
        task = r.nextTasks[0]
      }
    }

    // Each phase starts from a quiet server: the work a phase leaves to the workers (outbox messages not
    // yet published, portal events not yet acknowledged) is done before the next phase starts, so a
    // paced phase measures its own load, not the saturated run's leftovers. How long that took is printed.
    const db = new pgClient.Client({ connectionString: pg.url })
    await db.connect()
    const drain = async () => {
      const t = performance.now()
      for (let i = 0; i < 1200; i++) {
        const r = await db.query(`SELECT count(*)::int AS n FROM outbox
           WHERE published_at IS NULL OR (topic = 'dossier.status-changed' AND acknowledged_at IS NULL)`)
        if (r.rows[0].n === 0) break
        await new Promise((res) => setTimeout(res, 100))
      }
      return performance.now() - t
    }
    const saturated = await officersAtWork(post, DOSSIERS, null)
    const drainedMs = [await drain()]
    // Latency at a sustained load: the same 20 officers, each with at most one request in flight,
    // arriving (Poisson) at a fraction of the rate the saturated run reached.
    const paced = []
    for (const offered of PACED_RATES ?? PACED_LOADS.map((load) => load * saturated.requestsPerSec)) {
      const load = offered / saturated.requestsPerSec
      paced.push({ load, offeredPerSec: offered, ...(await officersAtWork(post, PACED_DOSSIERS, offered, PACED_RAMP_UP_MS)) })
      drainedMs.push(await drain())
    }
    await db.end()
    console.log(`drained     : the workers' leftovers after each phase in ${drainedMs.map((x) => Math.round(x)).join(' / ')} ms`)
    agent.destroy()
    return { saturated, paced }
  } finally {
    server.kill('SIGTERM')
    await new Promise((r) => server.once('exit', r))
    await redis.stop()
    await pg.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

// The baseline brackets the end-to-end run (measured before and after it, averaged): this machine's
// speed drifts by ±20 % within minutes, and a ratio against a baseline taken at another moment would drift with it.
const rawBefore = await rawEngine()
const { saturated: e2e, paced } = await endToEnd()
const rawAfter = await rawEngine()
const raw = {
  instancesPerSec: (rawBefore.instancesPerSec + rawAfter.instancesPerSec) / 2,
  completionsPerSec: (rawBefore.completionsPerSec + rawAfter.completionsPerSec) / 2,
}
const timers = Number(process.env.BENCH_TIMERS ?? 100_000) > 0 ? await timerBench() : null
const supervision = process.env.BENCH_SUPERVISION !== '0' ? await supervisionBench() : null
const handoffs = process.env.BENCH_HANDOFFS !== '0' ? await handoffBench() : null
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d
const result = {
  officers: OFFICERS,
  dossiers: DOSSIERS,
  raw: {
    instancesPerSec: round(raw.instancesPerSec),
    completionsPerSec: round(raw.completionsPerSec),
    completionsPerSecBefore: round(rawBefore.completionsPerSec),
    completionsPerSecAfter: round(rawAfter.completionsPerSec),
  },
  e2e: {
    instancesPerSec: round(e2e.instancesPerSec),
    completionsPerSec: round(e2e.completionsPerSec),
    completeP50Ms: round(e2e.p50),
    completeP99Ms: round(e2e.p99),
  },
  paced: paced.map((p) => ({
    load: p.load,
    offeredRequestsPerSec: round(p.offeredPerSec),
    completionsPerSec: round(p.completionsPerSec),
    measured: p.measured,
    completeP50Ms: round(p.p50),
    completeP99Ms: round(p.p99),
    completeP99WithRampUpMs: round(p.p99WithRampUp),
  })),
  ratio: {
    instances: round(e2e.instancesPerSec / raw.instancesPerSec, 3),
    completions: round(e2e.completionsPerSec / raw.completionsPerSec, 3),
  },
  timers: timers && {
    pending: timers.pendingTimers,
    redisBytesPerTimer: round(timers.redisBytesPerTimer, 0),
    requeuePerSec: round(timers.requeuePerSec, 0),
    burst: timers.burst,
    lagP50Ms: timers.lagP50Ms,
    lagP99Ms: timers.lagP99Ms,
    lagMaxMs: timers.lagMaxMs,
    early: timers.early,
    queuedFiresPerSec: round(timers.queuedFiresPerSec),
    sweepFiresPerSec: round(timers.sweptFiresPerSec),
    parallelSweepFiresPerSec: round(timers.parallelSweepPerSec),
    ratioQueuedToParallelSweep: round(timers.queuedFiresPerSec / timers.parallelSweepPerSec, 3),
    cpuBusyParallelSweep: round(timers.parallelCpuBusy, 2),
    lookahead: timers.lookahead,
  },
  supervision,
  handoffs,
}
console.log(
  `raw engine  : ${result.raw.instancesPerSec} instances/s, ${result.raw.completionsPerSec} completions/s (save/recover/signal per step, no DB; mean of ${result.raw.completionsPerSecBefore} before and ${result.raw.completionsPerSecAfter} after the end-to-end run)`,
)
console.log(
  `end to end  : ${result.e2e.instancesPerSec} instances/s, ${result.e2e.completionsPerSec} completions/s over HTTP + Postgres + Redis, ${OFFICERS} officers`,
)
console.log(`ratio       : instances ${result.ratio.instances}, completions ${result.ratio.completions} (target ≥ 0.5)`)
console.log(
  `complete    : saturated (${OFFICERS} officers back to back): p50 ${result.e2e.completeP50Ms} ms, p99 ${result.e2e.completeP99Ms} ms; Little's law floor for the mean: ${round((OFFICERS / e2e.requestsPerSec) * 1000)} ms`,
)
for (const p of result.paced)
  console.log(
    `complete    : at ${Math.round(p.load * 100)} % load (${p.offeredRequestsPerSec} requests/s from ${OFFICERS} officers; ${p.measured} completions after a ${PACED_RAMP_UP_MS / 1000} s ramp-up): p50 ${p.completeP50Ms} ms, p99 ${p.completeP99Ms} ms (target p99 < 50 ms; ${p.completeP99WithRampUpMs} ms with the ramp-up)`,
  )
if (result.timers) {
  const r = result.timers
  console.log(
    `timers      : ${r.pending} pending, ${r.redisBytesPerTimer} B of Redis each, re-queued from Postgres at ${r.requeuePerSec}/s`,
  )
  console.log(
    `timer lag   : bursts of ${r.burst}: p50 ${r.lagP50Ms} ms, p99 ${r.lagP99Ms} ms, max ${r.lagMaxMs} ms, ${r.early} early (target p99 < 1000 ms)`,
  )
  console.log(
    `timer rate  : ${r.queuedFiresPerSec}/s via BullMQ with the look-ahead (${r.lookahead.committed} of ${r.lookahead.prepared} prepared firings committed, ${r.lookahead.stale} stale) vs live firings: ${r.parallelSweepFiresPerSec}/s direct parallel sweep (ratio ${r.ratioQueuedToParallelSweep}; CPU ${Math.round(r.cpuBusyParallelSweep * 100)} % busy), ${r.sweepFiresPerSec}/s one by one`,
  )
}
if (supervision) printSupervision(supervision)
if (handoffs) printHandoffs(handoffs)
console.log(JSON.stringify(result))
