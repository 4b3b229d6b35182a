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
import { pollUntil } from './helpers/poll.ts'
import { slow } from './helpers/slow.ts'

t.test('FLUSHALL with 1,000 timers pending: re-queued from Postgres, all fire, each once, none early', slow, async (t) => {
  // A private redis-server: FLUSHALL must not touch the other test files' queues.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dvc-redis-'))
  const redis = await startLocalRedis({ dataDir: dir, port: await freePort(), persistent: false })
  t.teardown(async () => {
    await redis.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  // BullMQ delays run on the real clock: start the injected clock a day ahead of it, so that every due
  // time is in the future for Redis too and only the injected clock decides what is due.
  const t0 = Date.now() + 24 * 3600_000
  const clock = manualClock(new Date(t0))
  const ctx = await testContext(t, { clock })
  await ctx.deploy(fixture('wait-timer.bpmn'))
  const officer = { userId: 'o1', roles: ['officer' as const], groups: ['one-stop'], agency: ctx.config.defaultAgency }
  for (let i = 0; i < 1000; i++) {
    await ctx.system.dossiers.submit(officer, {
      procedureCode: 'WaitDemo',
      applicant: { name: `A${i}`, idNumber: '001099001234' },
      channel: 1,
      data: {},
    })
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

  const worker = startTimerWorker({
    connection,
    prefix: 'durability',
    timers: ctx.system.timers,
    watch: ctx.system.watch,
    clock,
    log,
    concurrency: 50,
  })
  t.teardown(async () => {
    await worker.close()
    await queues.close()
    admin.disconnect()
  })
  const settle = (done: () => Promise<boolean>) =>
    pollUntil(
      'the timer queue to settle',
      async () => {
        const c = await timerQueue.getJobCounts('waiting', 'active', 'prioritized')
        return c.waiting + c.active + c.prioritized === 0 && (await done())
      },
      { timeoutMs: 120_000 },
    )
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
  t.equal(
    Number((await ctx.db('tasks').where({ activity_id: 'After', status: 'open' }).count('* as n'))[0]!.n),
    1000,
    'every process moved on',
  )
})
