import t from 'tap'
import { Queue } from 'bullmq'
import { manualClock } from '../src/clock.ts'
import { QUEUE, redisConnection } from '../src/outbox/queues.ts'
import { fixture, testContext, testUrls } from './helpers/context.ts'
import { startMain } from './helpers/main-process.ts'
import { pollUntil } from './helpers/poll.ts'
import { slow } from './helpers/slow.ts'

const N = 20

/** The workers alone (no API), as `npm start` runs them, in a child process we can kill -9. */
const startWorkers = (env: Record<string, string>) => startMain(env, 'workers started')

/** Waits for a condition another process brings about. */
const until = (what: string, check: () => Promise<boolean>, limitMs = 60_000) => pollUntil(what, check, { timeoutMs: limitMs })

t.test("kill -9 the worker between timers' due time and their firing: after restart each fires exactly once", slow, async (t) => {
  // Timers are created with the clock two hours back, so they are already due for the worker's real clock.
  const clock = manualClock(new Date(Date.now() - 2 * 3600_000))
  const ctx = await testContext(t, { clock })
  await ctx.deploy(fixture('wait-timer.bpmn'))
  const officer = { userId: 'o1', roles: ['officer' as const], groups: ['one-stop'], agency: ctx.config.defaultAgency }
  for (let i = 0; i < N; i++)
    await ctx.system.dossiers.submit(officer, {
      procedureCode: 'WaitDemo',
      applicant: { name: `A${i}`, idNumber: '001099001234' },
      channel: 1,
      data: {},
    })
  const { redisUrl } = testUrls()
  const env = {
    DATABASE_URL: ctx.databaseUrl,
    REDIS_URL: redisUrl,
    RUN_API: 'false',
    QUEUE_PREFIX: ctx.config.queuePrefix,
    WORKER_LOCK_MS: '1000',
    LOG_LEVEL: 'info',
    NODE_ENV: 'test',
  }
  const timerQueue = new Queue(QUEUE.timers, { connection: redisConnection(redisUrl), prefix: ctx.config.queuePrefix })
  t.teardown(() => timerQueue.close())
  const fired = async () => Number((await ctx.db('timers').where({ status: 'fired' }).count('* as n'))[0]!.n)

  // Hold every process instance: the worker takes the due jobs and blocks inside its firing transactions.
  const hold = await ctx.db.transaction()
  await hold('process_instances').forUpdate().select('id')
  let child = await startWorkers(env)
  t.teardown(() => {
    child.kill('SIGKILL')
  })
  await until(`${N} firings blocked on the instance locks`, async () => {
    const r = await ctx.db.raw(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )
    return r.rows[0].n === N
  })
  t.equal((await timerQueue.getJobCounts('active')).active, N, `${N} jobs taken by the worker`)
  child.kill('SIGKILL')
  await new Promise((r) => child.once('exit', r))
  await hold.rollback()
  t.equal(await fired(), 0, 'the killed worker fired nothing: its transactions rolled back')

  child = await startWorkers(env)
  await until('every timer fired', async () => (await fired()) === N)
  await until('the queue drained', async () => {
    const c = await timerQueue.getJobCounts('active', 'waiting', 'delayed')
    return c.active + c.waiting + c.delayed === 0
  })
  const history = await ctx.db('history').where({ action: 'timer.fired' }).select('details')
  t.equal(history.length, N, `${N} firings recorded`)
  t.equal(new Set(history.map((h) => h.details.timerId)).size, N, 'each timer exactly once')
  t.equal(
    Number((await ctx.db('tasks').where({ activity_id: 'After', status: 'open' }).count('* as n'))[0]!.n),
    N,
    'every process moved on once',
  )
  child.kill('SIGTERM')
  await new Promise((r) => child.once('exit', r))
})
