import t from 'tap'
import { pino } from 'pino'
import { manualClock } from '../src/clock.ts'
import { createOutboxRelay } from '../src/outbox/relay.ts'
import { createQueues, QUEUE, redisConnection } from '../src/outbox/queues.ts'
import { testContext } from './helpers/context.ts'
import { pollUntil } from './helpers/poll.ts'

t.test('the outbox relay publishes runs of jobs in bulk and keeps the order of adds and removes', async (t) => {
  const clock = manualClock(new Date(Date.now() + 24 * 3600_000))
  const ctx = await testContext(t, { clock })
  const queues = createQueues(redisConnection(ctx.config.redisUrl!), ctx.config.queuePrefix)
  t.teardown(() => queues.close())
  const relay = createOutboxRelay({ db: ctx.db, repo: ctx.system.repos.outbox, queues, clock, log: pino({ level: 'silent' }) })
  const due = (min: number) => new Date(clock.now().getTime() + min * 60_000).toISOString()
  await ctx.system.repos.outbox.enqueue(ctx.db, [
    ...Array.from({ length: 5 }, (_, i) => ({
      topic: 'timer.scheduled',
      payload: { timerId: `t${i}`, jobId: `timer-t${i}`, dueAt: due(10 + i) },
    })),
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
  const repo = {
    ...outbox,
    claimBatch: async (q: Parameters<typeof outbox.claimBatch>[0], limit: number) => {
      const claimed = await outbox.claimBatch(q, limit)
      if (!injected && claimed.length) {
        injected = true
        await outbox.enqueue(ctx.db, rows(100, 3))
      }
      return claimed
    },
  }
  const relay = createOutboxRelay({ db: ctx.db, repo, queues, clock, log: pino({ level: 'silent' }), pollMs: 60_000, batchSize: 10 })
  t.teardown(async () => {
    await relay.stop()
    await queues.close()
  })
  await relay.start()
  const timers = queues.get(QUEUE.timers)
  const rows = (from: number, n: number) =>
    Array.from({ length: n }, (_, i) => ({
      topic: 'timer.scheduled',
      payload: { timerId: `w${from + i}`, jobId: `timer-w${from + i}`, dueAt: new Date(clock.now().getTime() + 3600_000).toISOString() },
    }))
  // Waits (at most 10 s, far below the 60 s poll) until n jobs are in Redis and every row is marked published.
  const until = async (n: number) => {
    const published = async () => (await timers.getDelayedCount()) >= n && (await ctx.system.repos.outbox.pendingCount(ctx.db)) === 0
    await pollUntil(`${n} published jobs`, published, { timeoutMs: 10_000 }).catch(() => {})
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
  const job = (i: number) => ({
    topic: 'timer.scheduled',
    payload: { timerId: `f${i}`, jobId: `timer-f${i}`, dueAt: new Date(clock.now().getTime() + 3600_000).toISOString() },
  })
  await outbox.enqueue(ctx.db, [job(1), job(2), job(3)])
  // A real queue whose connection is closed: Redis refuses the jobs.
  const broken = createQueues(redisConnection(ctx.config.redisUrl!), ctx.config.queuePrefix)
  await broken.close()
  t.equal(await createOutboxRelay({ db: ctx.db, repo: outbox, queues: broken, clock, log }).drain(), 0, 'nothing went out')
  const rows = await ctx.db('outbox').orderBy('id').select('published_at', 'attempts', 'last_error')
  t.equal(rows.length, 3)
  t.ok(
    rows.every((r) => r.published_at === null),
    'every row is still to publish',
  )
  t.same(
    rows.map((r) => r.attempts),
    [1, 0, 0],
    'the failed run counts an attempt on its first row',
  )
  t.match(rows[0].last_error, /closed/i, 'with the error')

  const queues = createQueues(redisConnection(ctx.config.redisUrl!), ctx.config.queuePrefix)
  t.teardown(() => queues.close())
  t.equal(await createOutboxRelay({ db: ctx.db, repo: outbox, queues, clock, log }).drain(), 3, 'the next drain publishes them')
  t.equal(await queues.get(QUEUE.timers).getDelayedCount(), 3)
  t.equal(await outbox.pendingCount(ctx.db), 0)
})
