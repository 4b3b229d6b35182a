/**
 * Handoff benchmark (part of `npm run bench`; BENCH_HANDOFFS=0 skips it): the API server started as
 * `npm start` runs it (outbox relay and handoff worker in), a procedure whose service task is a
 * `tthc:handoff` with the `http` adapter, and a peer system: a real local HTTP server started here that
 * answers each call after a random 0–200 ms, half with 200 {variables}, half with 202 and then, another
 * random 0–200 ms later, a signed callback (POST /api/handoffs/:id/callback). BENCH_HANDOFFS_COUNT
 * dossiers (1,000 by default) are submitted back to back and reach the handoff, once with 10 submissions
 * in flight, once with 50 and once with 200 — all of them as fast as the server takes them, its
 * connections' queue full (BENCH_HANDOFFS_IN_FLIGHT). Reports for each run, p50/p95/p99/max:
 *  - dispatch lag: the commit of the step that created the handoff → the peer called, and its stages
 *    (relay: → job in Redis; queue: → the worker's attempt starts; call: → the peer has the request);
 *  - answer → resumed: the peer's 200 sent, or the callback sent → the commit of the resume step;
 *  - the raw BullMQ round trip (job added → in the worker's hands) on the same Redis, 1,000 jobs added
 *    together, measured before and after in the same run: the baseline the lags are also given as ratios of;
 *  - the most handoffs open at once (step committed → resumed) and the most calls the peer held open at once;
 *  - Redis memory per pending handoff: used_memory before/after 1,000 handoff jobs waiting in the paused queue;
 *    then those 1,000 released at once (the burst): when the last peer call went out, how many were open at once.
 * BENCH_DB_POOL_MAX sets the API's pool (30; the handoff work has its own, DB_JOBS_POOL_MAX).
 * BENCH_HANDOFFS_SPLIT=1 runs the workers in a process of their own (RUN_API=false) beside the API (RUN_WORKERS=false).
 * Commit instants are Postgres' own (track_commit_timestamp), read back with pg_xact_commit_timestamp.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { Queue, Worker } from 'bullmq'
import { Redis } from 'ioredis'
import { createTokenService } from '../src/auth/principal.ts'
import { createDb } from '../src/db/knex.ts'
import { freePort } from '../src/infra/free-port.ts'
import { startLocalPostgres } from '../src/infra/local-postgres.ts'
import { startLocalRedis } from '../src/infra/local-redis.ts'
import { QUEUE, redisConnection } from '../src/outbox/queues.ts'
import { SIGNATURE_HEADER, signBody, TIMESTAMP_HEADER } from '../src/handoffs/signature.ts'

const ROOT = path.resolve(import.meta.dirname, '..')
const COUNT = Number(process.env.BENCH_HANDOFFS_COUNT ?? 1000)
/**
 * Submissions in flight, one measured run each: 10 keeps the server just below saturation on 2 cores,
 * 50 saturates it, 200 sends everything as fast as the server takes it (submissions queue in the
 * server for a connection; the handoffs' work must not queue with them).
 */
const IN_FLIGHT = (process.env.BENCH_HANDOFFS_IN_FLIGHT ?? '10,50,200').split(',').map(Number)
/** The handoff worker's concurrency (HANDOFF_CONCURRENCY, the server's default 200), also the raw round trip's. */
const CONCURRENCY = Number(process.env.HANDOFF_CONCURRENCY ?? 200)
/** BENCH_HANDOFFS_SPLIT=1: the workers (relay, handoff worker) in a process of their own, the API without them. */
const SPLIT = process.env.BENCH_HANDOFFS_SPLIT === '1'
const SECRET = 'bench-secret-0123456789abcdefghijklmnop'
const PEER_KEY = 'bench-peer-key-0123456789abcdefghijklmnop'
const AGENCY = 'BENCH-PEER'
const PREFIX = 'dvc'

export const HANDOFF_XML = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:tthc="https://dvc-bpmn.vn/schema/tthc/1.0" id="Defs_BenchHandoff" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="BenchHandoff" isExecutable="true">
    <bpmn:extensionElements>
      <tthc:procedure code="BENCH.HANDOFF" name="Thủ tục đo liên thông" agency="UBND-XA-DEMO" timeLimit="3" timeLimitUnit="workingDays" channels="1,2,3"/>
    </bpmn:extensionElements>
    <bpmn:startEvent id="Start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:serviceTask id="PeerCheck" name="Xác minh liên thông">
      <bpmn:extensionElements><tthc:handoff agency="${AGENCY}" adapter="http" topic="bench-check"/></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:userTask id="After" name="Sau liên thông" camunda:candidateGroups="one-stop"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="End"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="PeerCheck"/>
    <bpmn:sequenceFlow id="f2" sourceRef="PeerCheck" targetRef="After"/>
    <bpmn:sequenceFlow id="f3" sourceRef="After" targetRef="End"/>
  </bpmn:process>
</bpmn:definitions>`

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0
}
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const stats = (xs: number[]) => ({
  n: xs.length,
  p50: round(pct(xs, 50)),
  p95: round(pct(xs, 95)),
  p99: round(pct(xs, 99)),
  max: round(xs.length ? Math.max(...xs) : 0),
})
type Stats = ReturnType<typeof stats>

/** `npm start` with this environment; waits for /health unless RUN_API=false (a workers-only process). */
async function startServer(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--max-semi-space-size=32', '--import', 'tsx', path.join(ROOT, 'src/main.ts')], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  let exited = false
  child.once('exit', () => (exited = true))
  if (env.RUN_API === 'false') return child
  for (let i = 0; i < 1200 && !exited; i++) {
    const ok = await fetch(`http://127.0.0.1:${env.PORT}/health`).then(
      (r) => r.ok,
      () => false,
    )
    if (ok) return child
    await sleep(100)
  }
  child.kill('SIGKILL')
  throw new Error('server did not start')
}

/** A JSON POST over a keep-alive agent; resolves with the status and parsed body. */
function poster(port: number, agent: http.Agent) {
  return (p: string, body: unknown, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; body: any }>((resolve, reject) => {
      const payload = typeof body === 'string' ? body : JSON.stringify(body)
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          path: p,
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers },
        },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8')
            resolve({ status: res.statusCode ?? 500, body: text.startsWith('{') ? JSON.parse(text) : text })
          })
          res.on('error', reject)
        },
      )
      req.on('error', reject)
      req.end(payload)
    })
}

/**
 * The raw BullMQ round trip: `n` jobs added together (or one at a time, each after the previous one
 * arrived), each timed from its add to its processor starting; concurrency as the handoff worker's.
 */
async function bullRoundTrip(redisUrl: string, n: number, together = true): Promise<number[]> {
  const connection = redisConnection(redisUrl)
  const name = `bench-roundtrip-${Date.now()}`
  const queue = new Queue(name, { connection, prefix: 'bench', defaultJobOptions: { removeOnComplete: true } })
  const lags: number[] = []
  let done: () => void = () => {}
  const all = new Promise<void>((r) => (done = r))
  const worker = new Worker(
    name,
    async (job) => {
      lags.push(Date.now() - (job.data as { t: number }).t)
      if (lags.length === n) done()
    },
    { connection, prefix: 'bench', concurrency: CONCURRENCY },
  )
  await worker.waitUntilReady()
  if (together) await Promise.all(Array.from({ length: n }, (_, i) => queue.add('rt', { t: Date.now(), i })))
  else
    for (let i = 0; i < n; i++) {
      const seen = lags.length
      await queue.add('rt', { t: Date.now(), i })
      while (lags.length === seen) await sleep(1)
    }
  await all
  await worker.close()
  await queue.obliterate({ force: true })
  await queue.close()
  return lags
}

export async function handoffBench(log: (m: string) => void = (m) => console.log(m)) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dvc-bench-handoffs-'))
  fs.chmodSync(dir, 0o777)
  const [pgPort, redisPort, apiPort, peerPort] = [await freePort(), await freePort(), await freePort(), await freePort()]
  // Postgres records each commit's instant (track_commit_timestamp, set once, then a restart).
  const pgOpts = { dataDir: path.join(dir, 'pg'), port: pgPort, persistent: true }
  let pg = await startLocalPostgres(pgOpts)
  {
    const d = createDb(pg.url, 1)
    await d.raw('ALTER SYSTEM SET track_commit_timestamp = on')
    await d.destroy()
    await pg.stop()
    pg = await startLocalPostgres(pgOpts)
  }
  const redis = await startLocalRedis({ dataDir: path.join(dir, 'redis'), port: redisPort, persistent: false })
  const db = createDb(pg.url, 4)
  const admin = new Redis(redis.url)
  const handoffQueue = new Queue(QUEUE.handoffs, { connection: redisConnection(redis.url), prefix: PREFIX })

  // The peer system: what it was called with and when, and when it answered.
  const calls = new Map<string, { calledAt: number; answeredAt: number; mode: 'sync' | 'callback' }>()
  const apiAgent = new http.Agent({ keepAlive: true, maxSockets: Math.max(...IN_FLIGHT) + 50 })
  const post = poster(apiPort, apiAgent)
  let callbacksFailed = 0
  /** The peer's callback; refused with a 5xx (or unreachable), it is sent again, as a peer would, up to 5 times. */
  const callback = async (id: string) => {
    const body = JSON.stringify({ outcome: 'complete', variables: { checked: true, via: 'callback' } })
    for (let attempt = 0; attempt < 5; attempt++) {
      const ts = String(Math.floor(Date.now() / 1000))
      calls.get(id)!.answeredAt = Date.now()
      const r = await post(`/api/handoffs/${id}/callback`, body, {
        [TIMESTAMP_HEADER]: ts,
        [SIGNATURE_HEADER]: signBody(PEER_KEY, ts, body),
      }).catch(() => ({ status: 0, body: null }))
      if (r.status === 200) return
      callbacksFailed++
      if (r.status > 0 && r.status < 500) return
      await sleep(500)
    }
  }
  let callNo = 0
  /** Calls the peer holds open now, and the most at once since the run began. */
  let peerOpen = 0
  let peerOpenMax = 0
  const peer = http.createServer((req, res) => {
    const calledAt = Date.now()
    peerOpenMax = Math.max(peerOpenMax, ++peerOpen)
    res.once('finish', () => peerOpen--)
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const { handoffId } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { handoffId: string }
      const mode = callNo++ % 2 === 0 ? 'sync' : 'callback'
      if (!calls.has(handoffId)) calls.set(handoffId, { calledAt, answeredAt: 0, mode })
      setTimeout(() => {
        if (mode === 'sync') {
          calls.get(handoffId)!.answeredAt = Date.now()
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ variables: { checked: true, via: 'sync' } }))
        } else {
          res.writeHead(202).end()
          setTimeout(() => void callback(handoffId), Math.random() * 200)
        }
      }, Math.random() * 200)
    })
  })
  await new Promise<void>((r) => peer.listen(peerPort, '127.0.0.1', r))

  let server: ChildProcess | null = null
  let workers: ChildProcess | null = null
  try {
    const env = {
      DATABASE_URL: pg.url,
      REDIS_URL: redis.url,
      PORT: String(apiPort),
      JWT_SECRET: SECRET,
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      PAYMENT_SECRET: 'bench-payment-secret',
      DB_POOL_MAX: process.env.BENCH_DB_POOL_MAX ?? '30',
      HANDOFF_CONCURRENCY: String(CONCURRENCY),
      QUEUE_PREFIX: PREFIX,
      HANDOFF_PEERS: JSON.stringify({ [AGENCY]: { url: `http://127.0.0.1:${peerPort}/lien-thong`, key: PEER_KEY } }),
    }
    server = await startServer(SPLIT ? { ...env, RUN_WORKERS: 'false' } : env)
    // Started after the API, which ran the migrations.
    if (SPLIT) workers = await startServer({ ...env, RUN_API: 'false' })
    const tokens = createTokenService(SECRET)
    const analyst = await tokens.sign({ userId: 'bench-analyst', roles: ['analyst'], groups: [], agency: 'UBND-XA-DEMO' })
    const officer = await tokens.sign({ userId: 'bench', roles: ['officer'], groups: ['one-stop'], agency: 'UBND-XA-DEMO' })
    const deployed = await fetch(`http://127.0.0.1:${apiPort}/api/procedures`, {
      method: 'POST',
      headers: { authorization: `Bearer ${analyst}`, 'content-type': 'application/xml' },
      body: HANDOFF_XML,
    })
    if (deployed.status >= 300) throw new Error(`deploy → ${deployed.status} ${await deployed.text()}`)

    let submitted = 0
    /** Submits `n` dossiers, `inFlight` requests at a time; returns their ids. */
    const submit = async (n: number, inFlight = 10) => {
      const ids: string[] = []
      let next = 0
      await Promise.all(
        Array.from({ length: Math.min(inFlight, n) }, async () => {
          while (next < n) {
            next++
            const r = await post(
              '/api/dossiers',
              { procedureCode: 'BENCH.HANDOFF', applicant: { name: `Hộ ${++submitted}`, idNumber: '001099001234' }, channel: 1, data: {} },
              { authorization: `Bearer ${officer}` },
            )
            if (r.status >= 300) throw new Error(`submit → ${r.status} ${JSON.stringify(r.body)}`)
            ids.push(r.body.dossier.id)
          }
        }),
      )
      return ids
    }
    const completed = async () => Number((await db('handoffs').where({ state: 'completed' }).count('* as n'))[0]!.n)
    const waitCompleted = async (total: number, what: string) => {
      // Beyond one retry of the default cycle (R3/PT5M): an attempt that timed out on a loaded machine still counts.
      const limit = Date.now() + 420_000
      for (;;) {
        const n = await completed()
        if (n >= total) return
        if (Date.now() > limit) throw new Error(`${what}: only ${n} of ${total} handoffs completed`)
        await sleep(100)
      }
    }

    // Warm-up.
    await submit(20)
    await waitCompleted(20, 'warm-up')

    const roundTripBefore = await bullRoundTrip(redis.url, 1000)
    const roundTripOneByOne = await bullRoundTrip(redis.url, 200, false)

    // Redis memory per pending handoff: the handoff queue paused (no worker takes a job), COUNT dossiers
    // submitted, their jobs published by the relay and left waiting.
    await handoffQueue.pause()
    await sleep(200)
    await admin.call('MEMORY', 'PURGE').catch(() => {})
    const memBefore = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1])
    const keysBefore = await handoffQueueBytes(admin)
    await submit(COUNT, 50)
    for (let i = 0; ; i++) {
      const waiting = await handoffQueue.getWaitingCount()
      if (waiting >= COUNT) break
      if (i > 3000) throw new Error(`only ${waiting} handoff jobs published`)
      await sleep(100)
    }
    const memAfter = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1])
    const keysAfter = await handoffQueueBytes(admin)
    const otherJobs = await otherQueuesWaiting(redis.url)
    // The same COUNT jobs then all released at once: how soon every peer call went out, how many at once.
    calls.clear()
    peerOpenMax = 0
    const releasedAt = Date.now()
    await handoffQueue.resume()
    await waitCompleted(20 + COUNT, 'memory phase')
    const burst = {
      handoffs: COUNT,
      lastCalledMs: Math.max(...[...calls.values()].map((c) => c.calledAt)) - releasedAt,
      allResumedMs: Date.now() - releasedAt,
      retried: Number((await db('handoffs').where('attempts', '>', 1).count('* as n'))[0]!.n),
      peerCallsOpenMax: peerOpenMax,
      loadAverage: os.loadavg().map((x) => round(x, 2)),
    }

    log(`handoffs    : ${COUNT} pending handoff jobs measured in Redis; the measured runs …`)
    let expected = 20 + COUNT
    /** One measured run: COUNT dossiers submitted `inFlight` at a time, each reaching the handoff. */
    const measure = async (inFlight: number) => {
      calls.clear()
      callNo = 0
      callbacksFailed = 0
      peerOpenMax = 0
      const t0 = performance.now()
      const ids = await submit(COUNT, inFlight)
      const submitSec = (performance.now() - t0) / 1000
      expected += COUNT
      await waitCompleted(expected, `measured run (${inFlight} in flight)`)
      const runSec = (performance.now() - t0) / 1000
      const rows = (
        await db.raw(
          `SELECT h.id, h.attempts,
                  extract(epoch FROM pg_xact_commit_timestamp(h.xmin)) * 1000 AS resumed_ms,
                  extract(epoch FROM h.created_at) * 1000 AS created_at_ms,
                  extract(epoch FROM h.sent_at) * 1000 AS sent_ms,
                  (SELECT min(extract(epoch FROM o.published_at)) * 1000 FROM outbox o
                    WHERE o.topic = 'handoff.dispatch' AND o.payload->>'handoffId' = h.id::text) AS published_ms,
                  (SELECT min(extract(epoch FROM pg_xact_commit_timestamp(x.xmin))) * 1000 FROM history x WHERE x.dossier_id = h.dossier_id) AS step_ms
             FROM handoffs h WHERE h.dossier_id = ANY(?::uuid[])`,
          [ids],
        )
      ).rows as Array<{
        id: string
        attempts: number
        resumed_ms: string
        created_at_ms: string
        step_ms: string
        sent_ms: string
        published_ms: string
      }>
      const dispatch: number[] = []
      // Where the dispatch lag goes: the relay (commit → job in Redis), the queue (→ the worker's attempt
      // starts) and the call (→ the peer has the request).
      const stages = { relay: [] as number[], queue: [] as number[], call: [] as number[] }
      const resumeSync: number[] = []
      const resumeCallback: number[] = []
      let retried = 0
      /** +1 at each step commit, −1 at each resume: the most handoffs open at once. */
      const edges: Array<[number, number]> = []
      for (const r of rows) {
        const c = calls.get(r.id)
        if (!c) throw new Error(`handoff ${r.id} never reached the peer`)
        if (r.attempts > 1) retried++
        // The step's commit (its history lines are never updated); created_at is taken inside that transaction.
        const stepMs = Number(r.step_ms)
        if (stepMs < Number(r.created_at_ms)) throw new Error('the first history commit precedes the handoff: wrong marker')
        dispatch.push(c.calledAt - stepMs)
        stages.relay.push(Number(r.published_ms) - stepMs)
        stages.queue.push(Number(r.sent_ms) - Number(r.published_ms))
        stages.call.push(c.calledAt - Number(r.sent_ms))
        ;(c.mode === 'sync' ? resumeSync : resumeCallback).push(Number(r.resumed_ms) - c.answeredAt)
        edges.push([stepMs, 1], [Number(r.resumed_ms), -1])
      }
      let open = 0
      let openMax = 0
      for (const [, d] of edges.sort((a, b) => a[0] - b[0] || a[1] - b[1])) openMax = Math.max(openMax, (open += d))
      return {
        inFlight,
        handoffs: rows.length,
        submitSec: round(submitSec),
        runSec: round(runSec),
        submissionsPerSec: round(rows.length / submitSec),
        retried,
        callbacksFailed,
        handoffsOpenMax: openMax,
        peerCallsOpenMax: peerOpenMax,
        dispatchLag: stats(dispatch),
        dispatchStages: { relay: stats(stages.relay), queue: stats(stages.queue), call: stats(stages.call) },
        answerToResumed: stats([...resumeSync, ...resumeCallback]),
        answerToResumedSync: stats(resumeSync),
        answerToResumedCallback: stats(resumeCallback),
        loadAverage: os.loadavg().map((x) => round(x, 2)),
      }
    }
    const runs = []
    for (const n of IN_FLIGHT) runs.push(await measure(n))
    const roundTripAfter = await bullRoundTrip(redis.url, 1000)
    const rtStats = stats([...roundTripBefore, ...roundTripAfter])
    const ratio = (s: Stats) => ({ p50: round(s.p50 / rtStats.p50, 2), p99: round(s.p99 / rtStats.p99, 2) })
    return {
      count: COUNT,
      split: SPLIT,
      runs: runs.map((r) => ({ ...r, ratios: { dispatchLag: ratio(r.dispatchLag), answerToResumed: ratio(r.answerToResumed) } })),
      bullRoundTrip: rtStats,
      bullRoundTripBefore: stats(roundTripBefore),
      bullRoundTripAfter: stats(roundTripAfter),
      bullRoundTripOneByOne: stats(roundTripOneByOne),
      burst,
      redisBytesPerPendingHandoff: round((memAfter - memBefore) / COUNT, 0),
      handoffQueueKeyBytesPerJob: round((keysAfter - keysBefore) / COUNT, 0),
      otherJobsPublishedMeanwhile: otherJobs,
    }
  } finally {
    for (const child of [server, workers]) {
      if (!child || child.exitCode !== null) continue
      child.kill('SIGTERM')
      await new Promise((r) => child.once('exit', r))
    }
    apiAgent.destroy()
    await new Promise((r) => peer.close(r))
    await handoffQueue.close()
    admin.disconnect()
    await db.destroy()
    await redis.stop()
    await pg.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** Bytes Redis holds under the handoff queue's keys (MEMORY USAGE of each). */
async function handoffQueueBytes(redis: Redis): Promise<number> {
  let cursor = '0'
  let total = 0
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${PREFIX}:${QUEUE.handoffs}:*`, 'COUNT', 1000)
    cursor = next
    for (const k of keys) total += Number((await redis.call('MEMORY', 'USAGE', k, 'SAMPLES', '0')) ?? 0)
  } while (cursor !== '0')
  return total
}

/** Jobs the same submissions put in the other queues (the portal sync's status events…): they share the used_memory delta. */
async function otherQueuesWaiting(redisUrl: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (const name of Object.values(QUEUE)) {
    if (name === QUEUE.handoffs) continue
    const q = new Queue(name, { connection: redisConnection(redisUrl), prefix: PREFIX })
    const counts = await q.getJobCounts('waiting', 'delayed', 'completed', 'active', 'failed')
    out[name] = Object.values(counts).reduce((a, b) => a + b, 0)
    await q.close()
  }
  return out
}

export function printHandoffs(r: Awaited<ReturnType<typeof handoffBench>>) {
  const s = (x: Stats) => `p50 ${x.p50} ms, p95 ${x.p95} ms, p99 ${x.p99} ms, max ${x.max} ms`
  for (const run of r.runs) {
    console.log(
      `handoffs    : ${run.handoffs} dossiers reaching an http handoff, ${run.inFlight} submissions in flight${r.split ? ', workers in their own process' : ''} (${run.submissionsPerSec} submissions/s, all resumed in ${run.runSec} s; ${run.retried} retried, ${run.callbacksFailed} callbacks refused or failed); load average ${run.loadAverage.join(' ')}`,
    )
    console.log(
      `  at once   : at most ${run.handoffsOpenMax} handoffs open (step committed → resumed), ${run.peerCallsOpenMax} calls open at the peer`,
    )
    console.log(`dispatch lag: ${s(run.dispatchLag)} (step committed → peer called; target p99 < 500 ms)`)
    const st = run.dispatchStages
    console.log(
      `  stages    : relay (commit → job in Redis) p50 ${st.relay.p50} / p99 ${st.relay.p99} ms, queue (→ attempt starts) ${st.queue.p50} / ${st.queue.p99} ms, call (→ peer has it) ${st.call.p50} / ${st.call.p99} ms`,
    )
    console.log(
      `answer→resumed: ${s(run.answerToResumed)} (target p99 < 500 ms); 200 answers ${s(run.answerToResumedSync)}; callbacks ${s(run.answerToResumedCallback)}`,
    )
    console.log(
      `  ratios    : to the BullMQ round trip: dispatch lag ${run.ratios.dispatchLag.p50}× p50 / ${run.ratios.dispatchLag.p99}× p99, answer→resumed ${run.ratios.answerToResumed.p50}× / ${run.ratios.answerToResumed.p99}×`,
    )
  }
  console.log(
    `bullmq rtt  : ${s(r.bullRoundTrip)} (1,000 jobs added together, before and after); one job at a time: ${s(r.bullRoundTripOneByOne)}`,
  )
  console.log(
    `burst       : ${r.burst.handoffs} handoff jobs waiting, released at once: the last peer call ${r.burst.lastCalledMs} ms after, ${r.burst.peerCallsOpenMax} calls open at the peer at most, all resumed in ${r.burst.allResumedMs} ms (within 100 ms), ${r.burst.retried} retried; load average ${r.burst.loadAverage.join(' ')}`,
  )
  console.log(
    `handoff mem : ${r.redisBytesPerPendingHandoff} B of Redis used_memory per pending handoff (other queues' jobs meanwhile: ${JSON.stringify(r.otherJobsPublishedMeanwhile)}); the handoff queue's keys alone ${r.handoffQueueKeyBytesPerJob} B per job`,
  )
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const r = await handoffBench()
  printHandoffs(r)
  console.log(JSON.stringify(r))
}
