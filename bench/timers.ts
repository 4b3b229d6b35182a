/**
 * Timer benchmark (part of `npm run bench`): N pending BPMN timers (100,000 by default), each a real
 * waiting process instance with its timer row and its delayed BullMQ job. A few bursts of 1,000 come
 * due at once while the rest stay pending; the real timer worker fires them. Reports:
 *  - Redis memory per pending timer (used_memory before/after queueing every job);
 *  - re-queue throughput (every pending timer queued from Postgres, as after a Redis loss);
 *  - fire lag (due time → step committed) p50/p99/max per burst;
 *  - as the same-run baselines, one burst fired by a direct Postgres sweep without BullMQ, one by one
 *    and with the worker's concurrency (with the machine's CPU use, to show what bounds the rate).
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import { systemClock } from '../src/clock.ts'
import { loadConfig } from '../src/config.ts'
import { createDb, migrateLatest, type Db } from '../src/db/knex.ts'
import { freePort } from '../src/infra/free-port.ts'
import { startLocalPostgres } from '../src/infra/local-postgres.ts'
import { startLocalRedis } from '../src/infra/local-redis.ts'
import { createSystem } from '../src/system.ts'
import { createQueues, QUEUE, redisConnection } from '../src/outbox/queues.ts'
import { startTimerWorker } from '../src/workers/timer.worker.ts'

const TIMERS = Number(process.env.BENCH_TIMERS ?? 100_000)
const BURST = Number(process.env.BENCH_BURST ?? 1000)
const BURSTS = Number(process.env.BENCH_BURSTS ?? 3)
const CONCURRENCY = Number(process.env.BENCH_TIMER_CONCURRENCY ?? 16)

export const WAIT_XML = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Defs_BenchWait" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="BenchWait" isExecutable="true">
    <bpmn:startEvent id="Start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="Wait"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:userTask id="After" name="Sau hẹn giờ" camunda:candidateGroups="one-stop"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="End"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Wait"/>
    <bpmn:sequenceFlow id="f2" sourceRef="Wait" targetRef="After"/>
    <bpmn:sequenceFlow id="f3" sourceRef="After" targetRef="End"/>
  </bpmn:process>
</bpmn:definitions>`

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0
}

/** Machine-wide CPU jiffies (Linux), to tell CPU-bound from waiting. */
function cpuTimes() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number)
  return { idle: f[3]! + (f[4] ?? 0), total: f.reduce((a, b) => a + b, 0) }
}

/** Copies one waiting instance N times (dossier, instance with its engine state, pending timer): real rows the engine resumes. */
export async function cloneWaitingInstances(db: Db, dossierId: string, n: number, dueAt: (g: string) => string) {
  const cols = async (table: string) =>
    // Generated columns (dossiers.outcome) are computed by Postgres and cannot be written.
    (
      await db('information_schema.columns')
        .where({ table_name: table, table_schema: 'public', is_generated: 'NEVER' })
        .select('column_name')
    ).map((r) => r.column_name as string)
  const select = (all: string[], over: Record<string, string>) => all.map((c) => over[c] ?? `src."${c}"`).join(', ')
  await db.raw('CREATE TEMP TABLE IF NOT EXISTS clones (g int, d uuid, i uuid, t uuid)')
  await db.raw('TRUNCATE clones')
  await db.raw('INSERT INTO clones SELECT g, gen_random_uuid(), gen_random_uuid(), gen_random_uuid() FROM generate_series(1, ?) g', [n])
  const [dc, ic, tc] = [await cols('dossiers'), await cols('process_instances'), await cols('timers')]
  await db.raw(
    `INSERT INTO dossiers (${dc.map((c) => `"${c}"`).join(', ')}) SELECT ${select(dc, { id: 'c.d', code: "src.code || '-B' || c.g", idempotency_key: 'NULL' })} FROM dossiers src, clones c WHERE src.id = ?`,
    [dossierId],
  )
  await db.raw(
    `INSERT INTO process_instances (${ic.map((c) => `"${c}"`).join(', ')}) SELECT ${select(ic, { id: 'c.i', dossier_id: 'c.d' })} FROM process_instances src, clones c WHERE src.dossier_id = ?`,
    [dossierId],
  )
  await db.raw(
    `INSERT INTO timers (${tc.map((c) => `"${c}"`).join(', ')}) SELECT ${select(tc, { id: 'c.t', instance_id: 'c.i', dossier_id: 'c.d', due_at: dueAt('c.g') })} FROM timers src, clones c WHERE src.dossier_id = ? AND src.status = 'pending'`,
    [dossierId],
  )
}

export async function timerBench() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dvc-bench-timers-'))
  fs.chmodSync(dir, 0o777)
  const pg = await startLocalPostgres({ dataDir: path.join(dir, 'pg'), port: await freePort(), persistent: false })
  const redis = await startLocalRedis({ dataDir: path.join(dir, 'redis'), port: await freePort(), persistent: false })
  const log = pino({ level: 'warn' })
  const db = createDb(pg.url, 30)
  const config = loadConfig(
    { NODE_ENV: 'production', JWT_SECRET: 'bench-secret-0123456789abcdefghijklmnop', PAYMENT_SECRET: 'bench-payment-secret' },
    { redisUrl: redis.url },
  )
  const queues = createQueues(redisConnection(redis.url), 'bench')
  const admin = new Redis(redis.url)
  let worker: ReturnType<typeof startTimerWorker> | null = null
  try {
    await migrateLatest(db)
    const system = createSystem({ db, clock: systemClock, log, config })
    await system.calendar.init()
    await system.procedures.deploy(WAIT_XML, 'system')
    const officer = { userId: 'bench', roles: ['officer' as const], groups: ['one-stop'], agency: config.defaultAgency }
    const seed = await system.dossiers.submit(officer, {
      procedureCode: 'BenchWait',
      applicant: { name: 'Mẫu', idNumber: '001099000000' },
      channel: 1,
      data: {},
    })
    await db('outbox').del() // the seed's own job is not part of the bench

    // Bursts come due at T0, T0 + gap, …; every other timer stays pending a month ahead. The clone takes
    // minutes for 100,000 (the dossiers' indexes and triggers), so the burst timers are cloned with a
    // marker due date (their burst and rank in it) and given their due times once it is done.
    const gapMs = 15_000
    const burstRows = BURST * BURSTS
    const MARK = "'2100-01-01T00:00:00Z'::timestamptz"
    let t = performance.now()
    await cloneWaitingInstances(
      db,
      seed.dossier.id,
      TIMERS,
      (g) =>
        `CASE WHEN ${g} <= ${burstRows} THEN ${MARK} + ((${g} - 1) / ${BURST}) * interval '1 second' ELSE now() + interval '30 days' END`,
    )
    const cloneSec = (performance.now() - t) / 1000
    // Lead time for the re-queue below (about 15,000 timers/s) and the look-ahead's preparation.
    const t0 = Date.now() + 30_000 + Math.ceil(TIMERS / 10_000) * 1000
    await db.raw(
      `UPDATE timers SET due_at = to_timestamp((? + extract(epoch FROM due_at - ${MARK}) * ?) / 1000.0) WHERE due_at >= ${MARK}`,
      [t0, gapMs],
    )
    const pending = Number((await db('timers').where({ status: 'pending' }).count('* as n'))[0]!.n) - 1
    await db('timers').where({ dossier_id: seed.dossier.id }).update({ status: 'cancelled' })

    // Every pending timer to Redis, exactly as the startup re-queue does after a Redis loss.
    const timerQueue = queues.get(QUEUE.timers)
    await admin.call('MEMORY', 'PURGE').catch(() => {})
    const memBefore = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1])
    t = performance.now()
    const queued = await system.timers.requeuePending(timerQueue)
    const requeueSec = (performance.now() - t) / 1000
    const memAfter = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1])
    const delayed = await timerQueue.getDelayedCount()
    if (Date.now() > t0 - 5_000)
      throw new Error(
        `setup took longer than planned (clone ${cloneSec.toFixed(1)} s, re-queue ${requeueSec.toFixed(1)} s): raise the lead time`,
      )

    // As `npm start` runs it: timers coming due within TIMER_LOOKAHEAD_MS are stepped ahead and committed at their due time.
    const stopLookahead = system.timerLookahead.start()
    worker = startTimerWorker({
      connection: redisConnection(redis.url),
      prefix: 'bench',
      timers: system.timers,
      watch: system.watch,
      clock: systemClock,
      log,
      concurrency: CONCURRENCY,
    })
    const lastDue = t0 + (BURSTS - 1) * gapMs
    for (;;) {
      const fired = Number((await db('timers').where({ status: 'fired' }).count('* as n'))[0]!.n)
      if (fired >= burstRows) break
      if (Date.now() > lastDue + 120_000) throw new Error(`only ${fired} of ${burstRows} burst timers fired`)
      await new Promise((r) => setTimeout(r, 200))
    }
    const rows = await db('timers').where({ status: 'fired' }).select('due_at', 'fired_at')
    const lags = rows.map((r) => new Date(r.fired_at).getTime() - new Date(r.due_at).getTime())
    const bursts = Array.from({ length: BURSTS }, (_, b) => {
      const due = t0 + b * gapMs
      const l = rows.filter((r) => Math.abs(new Date(r.due_at).getTime() - due) < 1).map((r) => new Date(r.fired_at).getTime() - due)
      return { p50: pct(l, 50), p99: pct(l, 99), max: Math.max(...l) }
    })
    const early = lags.filter((l) => l < 0).length
    await worker.close()
    worker = null
    await stopLookahead()
    const lookahead = system.timerLookahead.stats()

    // Baselines, same run, without the look-ahead: one more burst fired live by a direct Postgres sweep (no Redis, no worker).
    const sweepIds = (await db('timers').where({ status: 'pending' }).orderBy('id').limit(BURST).select('id')).map((r) => r.id)
    await db('timers')
      .whereIn('id', sweepIds)
      .update({ due_at: new Date(Date.now() - 1000) })
    t = performance.now()
    const swept = await system.timers.fireDue(BURST)
    const sweepSec = (performance.now() - t) / 1000
    // Same again with the worker's concurrency, still without BullMQ.
    const parIds = (await db('timers').where({ status: 'pending' }).orderBy('id').limit(BURST).select('id')).map((r) => r.id)
    await db('timers')
      .whereIn('id', parIds)
      .update({ due_at: new Date(Date.now() - 1000) })
    t = performance.now()
    const c2 = cpuTimes()
    let next = 0
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < parIds.length) await system.timers.fire(parIds[next++]!)
      }),
    )
    const parSec = (performance.now() - t) / 1000
    const c3 = cpuTimes()
    return {
      parallelSweepPerSec: parIds.length / parSec,
      parallelCpuBusy: 1 - (c3.idle - c2.idle) / (c3.total - c2.total),
      lookahead,
      pendingTimers: pending,
      queued,
      delayedJobs: delayed,
      cloneSec,
      requeuePerSec: queued / requeueSec,
      redisBytesPerTimer: (memAfter - memBefore) / queued,
      burst: BURST,
      bursts,
      lagP50Ms: pct(lags, 50),
      lagP99Ms: pct(lags, 99),
      lagMaxMs: Math.max(...lags),
      early,
      queuedFiresPerSec: BURST / (Math.max(...bursts.map((b) => b.max)) / 1000),
      sweptFiresPerSec: swept / sweepSec,
    }
  } finally {
    await worker?.close()
    await queues.close()
    admin.disconnect()
    await db.destroy()
    await redis.stop()
    await pg.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

const isEntry = import.meta.url === `file://${process.argv[1]}`
if (isEntry) console.log(JSON.stringify(await timerBench(), null, 2))
