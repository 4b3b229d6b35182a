import fs from 'node:fs'
import { freePort } from '../src/infra/free-port.ts'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import { manualClock } from '../src/clock.ts'
import { startLocalRedis } from '../src/infra/local-redis.ts'
import { createOutboxRelay } from '../src/outbox/relay.ts'
import { createQueues, QUEUE, redisConnection } from '../src/outbox/queues.ts'
import { startTimerWorker } from '../src/workers/timer.worker.ts'
import { fixture, testContext } from './helpers/context.ts'



t.test('FLUSHALL with 1,000 timers pending: re-queued from Postgres, all fire, each once, none early', async (t) => {
  // A private redis-server: FLUSHALL must not touch the other test files' queues.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dvc-redis-'))
  const redis = await startLocalRedis({ dataDir: dir, port: await freePort(), persistent: false })
  t.teardown(async () => { await redis.stop(); fs.rmSync(dir, { recursive: true, force: true }) })
  // BullMQ delays run on the real clock: start the injected clock a day ahead of it, so that every due
  // time is in the future for Redis too and only the injected clock decides what is due.
  const t0 = Date.now() + 24 * 3600_000
  const clock = manualClock(new Date(t0))
  const ctx = await testContext(t, { clock })
  await ctx.deploy(fixture('wait-timer.bpmn'))
  const officer = { userId: 'o1', roles: ['officer' as const], groups: ['one-stop'], agency: ctx.config.defaultAgency }
  for (let i = 0; i < 1000; i++) {
    await ctx.system.dossiers.submit(officer, { procedureCode: 'WaitDemo', applicant: { name: `A${i}`, idNumber: '001099001234' }, channel: 1, data: {} })
  }
  const connection = redisConnection(redis.url)
  const queues = createQueues(connection, 'durability')
  const log = pino({ level: 'silent' })
  const relay = createOutboxRelay({ db: ctx.db, repo: ctx.system.repos.outbox, queues, clock, log })
  t.equal(await relay.drain(), 1000, '1,000 delayed jobs published from the outbox')
  const timerQueue = queues.get(QUEUE.timers)
  t.equal(await timerQueue.getDelayedCount(), 1000)

  const admin = new Redis(redis.url)
  await admin.flushall()
  t.equal(await timerQueue.getDelayedCount(), 0, 'Redis lost every job')

  const worker = startTimerWorker({ connection, prefix: 'durability', timers: ctx.system.timers, watch: ctx.system.watch, clock, log, concurrency: 50 })
  t.teardown(async () => { await worker.close(); await queues.close(); admin.disconnect() })
  // Paced by the Redis round trips themselves: no timers, no sleeps.
  const settle = async (done: () => Promise<boolean>) => {
    for (let i = 0; i < 200_000; i++) {
      const c = await timerQueue.getJobCounts('waiting', 'active', 'prioritized')
      if (c.waiting + c.active + c.prioritized === 0 && (await done())) return
    }
    throw new Error('queue did not settle')
  }
  const firedCount = async () => Number((await ctx.db('timers').where({ status: 'fired' }).count('* as n'))[0]!.n)

  // Half an hour early: jobs forced to run now are refused and go back to waiting.
  clock.set(new Date(t0 + 30 * 60_000))
  t.equal(await ctx.system.timers.requeuePending(timerQueue), 1000, 'all pending timers re-queued from Postgres')
  await timerQueue.promoteJobs()
  await settle(async () => (await timerQueue.getDelayedCount()) === 1000)
  t.equal(await firedCount(), 0, 'none fired early')
  t.equal(await timerQueue.getDelayedCount(), 1000, 'early jobs wait again')

  clock.set(new Date(t0 + 60 * 60_000))
  t.equal(await ctx.system.timers.requeuePending(timerQueue), 1000)
  t.equal(await timerQueue.getDelayedCount(), 1000, 're-queueing does not duplicate jobs that still exist')
  await timerQueue.promoteJobs()
  await settle(async () => (await firedCount()) === 1000)
  const fired = await ctx.db('history').where({ action: 'timer.fired' }).select('details')
  t.equal(fired.length, 1000, 'all 1,000 fired')
  t.equal(new Set(fired.map((h) => h.details.timerId)).size, 1000, 'each exactly once')
  t.equal(Number((await ctx.db('tasks').where({ activity_id: 'After', status: 'open' }).count('* as n'))[0]!.n), 1000, 'every process moved on')
})

t.test('the outbox relay publishes runs of jobs in bulk and keeps the order of adds and removes', async (t) => {
  const clock = manualClock(new Date(Date.now() + 24 * 3600_000))
  const ctx = await testContext(t, { clock })
  const queues = createQueues(redisConnection(ctx.config.redisUrl!), ctx.config.queuePrefix)
  t.teardown(() => queues.close())
  const relay = createOutboxRelay({ db: ctx.db, repo: ctx.system.repos.outbox, queues, clock, log: pino({ level: 'silent' }) })
  const due = (min: number) => new Date(clock.now().getTime() + min * 60_000).toISOString()
  await ctx.system.repos.outbox.enqueue(ctx.db, [
    ...Array.from({ length: 5 }, (_, i) => ({ topic: 'timer.scheduled', payload: { timerId: `t${i}`, jobId: `timer-t${i}`, dueAt: due(10 + i) } })),
    { topic: 'timer.cancelled', payload: { timerId: 't1', jobId: 'timer-t1' } },
    { topic: 'deadline.scheduled', payload: { alarmId: 'a1', jobId: 'alarm-a1', dueAt: due(60) } },
    { topic: 'timer.cancelled', payload: { timerId: 'a1', jobId: 'alarm-a1' } },
    { topic: 'timer.scheduled', payload: { timerId: 't1', jobId: 'timer-t1b', dueAt: due(30) } },
  ])!
  t.equal(await relay.drain(), 9, 'every row published')
  const timers = queues.get(QUEUE.timers)
  const delayed = (await timers.getDelayed()).map((j) => j.id).sort()
  t.same(delayed, ['timer-t0', 'timer-t2', 'timer-t3', 'timer-t4', 'timer-t1b'].sort(), 'a job removed after it was added stays removed')
  const job = await timers.getJob('timer-t3')
  t.equal(job!.opts.delay, 13 * 60_000, 'each job keeps its own delay')
  t.equal(await ctx.system.repos.outbox.pendingCount(ctx.db), 0)
  t.equal(await relay.drain(), 0, 'nothing published twice')
})

t.test('the running outbox relay is woken by each commit, even one made during a drain, and drains batches to the end', async (t) => {
  const clock = manualClock(new Date(Date.now() + 24 * 3600_000))
  const ctx = await testContext(t, { clock })
  const queues = createQueues(redisConnection(ctx.config.redisUrl!), ctx.config.queuePrefix)
  // Polling once a minute: only NOTIFY can make these jobs appear within the test. The relay's
  // repository commits three more rows right after its first claim, i.e. while that drain runs.
  const outbox = ctx.system.repos.outbox
  let injected = false
  const repo = { ...outbox, claimBatch: async (q: Parameters<typeof outbox.claimBatch>[0], limit: number) => {
    const claimed = await outbox.claimBatch(q, limit)
    if (!injected && claimed.length) {
      injected = true
      await outbox.enqueue(ctx.db, rows(100, 3))
    }
    return claimed
  } }
  const relay = createOutboxRelay({ db: ctx.db, repo, queues, clock, log: pino({ level: 'silent' }), pollMs: 60_000, batchSize: 10 })
  t.teardown(async () => { await relay.stop(); await queues.close() })
  await relay.start()
  const timers = queues.get(QUEUE.timers)
  const rows = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ topic: 'timer.scheduled', payload: { timerId: `w${from + i}`, jobId: `timer-w${from + i}`, dueAt: new Date(clock.now().getTime() + 3600_000).toISOString() } }))
  // Waits (at most 10 s, far below the 60 s poll) until n jobs are in Redis and every row is marked published.
  const until = async (n: number) => {
    const end = Date.now() + 10_000
    while (Date.now() < end && ((await timers.getDelayedCount()) < n || (await ctx.system.repos.outbox.pendingCount(ctx.db)) > 0)) await new Promise((r) => setImmediate(r))
    return timers.getDelayedCount()
  }
  await outbox.enqueue(ctx.db, rows(0, 5))
  t.equal(await until(8), 8, '5 rows, and 3 committed during their drain: all published, none left for the poll')
  t.ok(injected)
  await outbox.enqueue(ctx.db, rows(200, 25))
  t.equal(await until(33), 33, '25 rows in batches of 10: all published after one commit')
  t.equal(await ctx.system.repos.outbox.pendingCount(ctx.db), 0)
})

t.test('a publish that fails leaves its rows for the next drain, with the error recorded', async (t) => {
  const clock = manualClock(new Date(Date.now() + 24 * 3600_000))
  const ctx = await testContext(t, { clock })
  const outbox = ctx.system.repos.outbox
  const log = pino({ level: 'silent' })
  const job = (i: number) => ({ topic: 'timer.scheduled', payload: { timerId: `f${i}`, jobId: `timer-f${i}`, dueAt: new Date(clock.now().getTime() + 3600_000).toISOString() } })
  await outbox.enqueue(ctx.db, [job(1), job(2), job(3)])
  // A real queue whose connection is closed: Redis refuses the jobs.
  const broken = createQueues(redisConnection(ctx.config.redisUrl!), ctx.config.queuePrefix)
  await broken.close()
  t.equal(await createOutboxRelay({ db: ctx.db, repo: outbox, queues: broken, clock, log }).drain(), 0, 'nothing went out')
  const rows = await ctx.db('outbox').orderBy('id').select('published_at', 'attempts', 'last_error')
  t.equal(rows.length, 3)
  t.ok(rows.every((r) => r.published_at === null), 'every row is still to publish')
  t.same(rows.map((r) => r.attempts), [1, 0, 0], 'the failed run counts an attempt on its first row')
  t.match(rows[0].last_error, /closed/i, 'with the error')

  const queues = createQueues(redisConnection(ctx.config.redisUrl!), ctx.config.queuePrefix)
  t.teardown(() => queues.close())
  t.equal(await createOutboxRelay({ db: ctx.db, repo: outbox, queues, clock, log }).drain(), 3, 'the next drain publishes them')
  t.equal(await queues.get(QUEUE.timers).getDelayedCount(), 3)
  t.equal(await outbox.pendingCount(ctx.db), 0)
})
