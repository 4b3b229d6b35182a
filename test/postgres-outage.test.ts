import { randomBytes } from 'node:crypto'
import t from 'tap'
import { pino } from 'pino'
import { createTokenService } from '../src/auth/principal.ts'
import { systemClock } from '../src/clock.ts'
import { loadConfig } from '../src/config.ts'
import { createDb } from '../src/db/knex.ts'
import { buildApp } from '../src/app.ts'
import { freePort } from '../src/infra/free-port.ts'
import { createOutboxRelay } from '../src/outbox/relay.ts'
import { createSystem } from '../src/system.ts'
import { createQueues, redisConnection } from '../src/outbox/queues.ts'
import { testContext, testUrls } from './helpers/context.ts'

/** Polls `check` until it holds (real-time events: a terminated backend, a NOTIFY), failing after `ms`. */
async function until(check: () => Promise<boolean>, ms: number, what: string) {
  const end = performance.now() + ms
  while (!(await check())) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setImmediate(r))
  }
}

t.test('the outbox relay listens again after its LISTEN backend is terminated, and publishes on NOTIFY', async (t) => {
  const ctx = await testContext(t)
  const queues = createQueues(redisConnection(testUrls().redisUrl), `listen${randomBytes(4).toString('hex')}`)
  t.teardown(() => queues.close())
  // A poll of an hour: only a NOTIFY can wake the relay within the test.
  const relay = createOutboxRelay({
    db: ctx.db,
    repo: ctx.system.repos.outbox,
    queues,
    clock: ctx.clock,
    log: pino({ level: 'silent' }),
    pollMs: 3_600_000,
  })
  await relay.start()
  t.teardown(() => relay.stop())
  const publishOne = async () => {
    const [{ id }] = await ctx
      .db('outbox')
      .insert({ topic: 'timer.scheduled', payload: JSON.stringify({ test: true }) })
      .returning('id')
    await ctx.db.raw(`SELECT pg_notify('outbox', '')`)
    const t0 = performance.now()
    await until(async () => (await ctx.db('outbox').where({ id }).first()).published_at !== null, 5000, `outbox row ${id} published`)
    return performance.now() - t0
  }
  const listener = () =>
    ctx
      .db('pg_stat_activity')
      .where({ datname: ctx.db.raw('current_database()'), query: 'LISTEN outbox' })
      .pluck('pid')

  const woken = relay.stats().notifications
  t.ok((await publishOne()) < 1000, 'published at once while listening')
  t.ok(relay.stats().notifications > woken, 'woken by NOTIFY')

  const [pid] = await listener()
  t.ok(pid, 'one backend listens')
  await ctx.db.raw('SELECT pg_terminate_backend(?)', [pid])
  await until(async () => (await listener()).some((p) => p !== pid), 10_000, 'a new LISTEN backend')
  await until(async () => relay.stats().listening, 1000, 'the relay to use it')
  const before = relay.stats().notifications
  t.ok((await publishOne()) < 1000, 'published at once again after the reconnection')
  t.ok(relay.stats().notifications > before, 'woken by NOTIFY, not by the poll')
  t.equal(relay.stats().listenConnects, 2)
})

t.test('with Postgres unreachable the API answers 503 SERVICE_UNAVAILABLE with Retry-After, not 500', async (t) => {
  const config = loadConfig({ NODE_ENV: 'test' }, { redisUrl: testUrls().redisUrl })
  // A port nothing listens on: every connection attempt is refused.
  const db = createDb(`postgres://postgres:postgres@127.0.0.1:${await freePort()}/nothing`, 2)
  t.teardown(() => db.destroy())
  const log = pino({ level: 'silent' })
  const system = createSystem({ db, clock: systemClock, log, config })
  const tokens = createTokenService(config.jwtSecret)
  const app = await buildApp({ config, log, tokens, system, health: async () => ({ postgres: 'down', redis: 'ok' }) })
  t.teardown(() => app.close())
  const token = await tokens.sign({ userId: 'o1', roles: ['officer'], groups: ['one-stop'], agency: 'UBND-XA-DEMO' })
  for (const url of ['/api/tasks', '/api/dossiers/3f1c1e52-3a4e-4a63-9a53-3a0c44b0d6a1', '/api/procedures']) {
    const res = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } })
    t.equal(res.statusCode, 503, url)
    t.equal(res.json().error.code, 'SERVICE_UNAVAILABLE', url)
    t.equal(res.headers['retry-after'], '5', url)
  }
  const ready = await app.inject({ method: 'GET', url: '/health/ready' })
  t.equal(ready.statusCode, 503, 'not ready without Postgres')
  t.equal((await app.inject({ method: 'GET', url: '/health/live' })).statusCode, 200, 'but alive')
})
