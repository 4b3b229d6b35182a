import path from 'node:path'
import { pino, type Logger } from 'pino'
import { Redis } from 'ioredis'
import { createTokenService } from './auth/principal.ts'
import { systemClock, type Clock } from './clock.ts'
import { loadConfig, type Config } from './config.ts'
import { createDb, migrateLatest } from './db/knex.ts'
import { createPortalSimulator } from './handoffs/national-portal.ts'
import { buildApp } from './http/app.ts'
import { startLocalPostgres } from './infra/local-postgres.ts'
import { RedisMissingError, startLocalRedis } from './infra/local-redis.ts'
import { createOutboxRelay } from './outbox/relay.ts'
import { deployDirectory } from './procedures/deploy-directory.ts'
import { createSystem } from './system.ts'
import { startPortalSyncWorker } from './workers/portal-sync.worker.ts'
import { startTimerWorker } from './workers/timer.worker.ts'
import { startNotificationWorker } from './workers/notification.worker.ts'
import { requeueTimers } from './workers/timer-requeue.ts'
import { createQueues, QUEUE, redisConnection } from './workers/queues.ts'

export interface Running {
  url: string | null
  stop(): Promise<void>
}

/**
 * Composition root: local services when no URLs are configured, migrations, sample procedures,
 * the HTTP API and the BullMQ workers, each built once and passed explicitly.
 */
export async function start(config: Config, opts: { clock?: Clock; log?: Logger } = {}): Promise<Running> {
  const log = opts.log ?? pino({ level: config.logLevel })
  const clock = opts.clock ?? systemClock
  const stops: Array<() => Promise<unknown>> = []

  let databaseUrl = config.databaseUrl
  if (!databaseUrl) {
    const pg = await startLocalPostgres({ dataDir: path.join(config.dataDir, 'postgres'), port: 54329, persistent: true })
    stops.push(() => pg.stop())
    databaseUrl = pg.url
    log.info('started embedded Postgres on port 54329 (data in %s)', path.join(config.dataDir, 'postgres'))
  }
  let redisUrl = config.redisUrl
  if (!redisUrl) {
    const redis = await startLocalRedis({ dataDir: path.join(config.dataDir, 'redis'), port: 63799, persistent: true })
    stops.push(() => redis.stop())
    redisUrl = redis.url
    log.info('started local redis-server on port 63799')
  }

  const db = createDb(databaseUrl, config.dbPoolMax)
  stops.unshift(() => db.destroy())
  await migrateLatest(db)

  const system = createSystem({ db, clock, log, config })
  await system.calendar.init()
  await deployDirectory(config.processesDir, system.procedures, log)

  const connection = redisConnection(redisUrl)
  const queues = createQueues(connection, config.queuePrefix)
  stops.unshift(() => queues.close())
  const healthRedis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 })
  stops.unshift(async () => healthRedis.disconnect())

  if (config.runWorkers) {
    const relay = createOutboxRelay({ db, repo: system.repos.outbox, queues, clock, log })
    await relay.start()
    const portal = startPortalSyncWorker({ connection, prefix: config.queuePrefix, portal: createPortalSimulator({ db, clock }), log })
    const timerWorker = startTimerWorker({ connection, prefix: config.queuePrefix, timers: system.timers, watch: system.watch, clock, log, lockMs: config.workerLockMs })
    const notificationWorker = startNotificationWorker({ connection, prefix: config.queuePrefix, notifications: system.notifications, log })
    // Redis may have lost delayed jobs (FLUSHALL, no persistence): Postgres holds every pending timer and deadline alarm.
    const timerQueue = queues.get(QUEUE.timers)
    const requeue = () => requeueTimers({ db, queue: timerQueue, timers: system.timers, watch: system.watch, timerRows: system.repos.timers, alarmRows: system.repos.alarms })
      .then((n) => log.debug(n, 'pending timers and deadline alarms re-queued'), (err) => log.error({ err }, 're-queue failed'))
    await requeue()
    const sweep = setInterval(() => void requeue(), 60_000)
    const stopLookahead = config.timerLookaheadMs > 0 ? system.timerLookahead.start() : async () => {}
    stops.unshift(() => portal.close(), () => timerWorker.close(), stopLookahead, () => notificationWorker.close(), async () => clearInterval(sweep), () => relay.stop())
    log.info('workers started: outbox relay, national portal sync, timers and deadlines, notifications')
  }

  let url: string | null = null
  if (config.runApi) {
    const tokens = createTokenService(config.jwtSecret, { maxLifetimeHours: config.tokenMaxLifetimeHours })
    const app = await buildApp({
      config, log, tokens, system,
      health: async () => ({
        postgres: await db.raw('select 1').then(() => 'ok', () => 'down'),
        redis: await healthRedis.ping().then(() => 'ok', () => 'down'),
      }),
    })
    url = await app.listen({ host: config.host, port: config.port })
    stops.unshift(() => app.close())
    log.info(`API on ${url} — OpenAPI at ${url}/docs`)
  }

  return {
    url,
    async stop() {
      for (const s of stops) await s().catch((err) => log.warn({ err }, 'shutdown step failed'))
    },
  }
}

const isEntry = import.meta.url === `file://${process.argv[1]}`
if (isEntry) {
  const config = loadConfig()
  start(config).then((running) => {
    const shutdown = () => { void running.stop().finally(() => process.exit(0)) }
    process.once('SIGINT', shutdown)
    process.once('SIGTERM', shutdown)
  }, (err) => {
    if (err instanceof RedisMissingError) console.error(err.message)
    else console.error(err)
    process.exit(1)
  })
}
