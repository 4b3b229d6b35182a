import path from 'node:path'
import { pino, type Logger } from 'pino'
import { createTokenService } from './auth/principal.ts'
import { systemClock, type Clock } from './clock.ts'
import { loadConfig, type Config } from './config.ts'
import { createDb, migrateLatest } from './db/knex.ts'
import { createHttpPortal, createPortalSimulator } from './handoffs/national-portal.ts'
import { createPortalDelivery } from './handoffs/portal-delivery.ts'
import { buildApp } from './app.ts'
import { createMetrics } from './metrics/metrics.ts'
import { startLocalPostgres } from './infra/local-postgres.ts'
import { startLocalRedis } from './infra/local-redis.ts'
import { createReadiness } from './infra/readiness.ts'
import { createOutboxRelay } from './outbox/relay.ts'
import { deployDirectory } from './procedures/deploy-directory.ts'
import { createSystem } from './system.ts'
import { startPortalSyncWorker } from './workers/portal-sync.worker.ts'
import { startTimerWorker } from './workers/timer.worker.ts'
import { startHandoffWorker } from './workers/handoff.worker.ts'
import { startPeerCallbackWorker } from './workers/peer-callback.worker.ts'
import { requeueTimers } from './workers/timer-requeue.ts'
import { requeueUnacknowledgedEvents } from './workers/portal-requeue.ts'
import { createQueues, QUEUE, redisConnection } from './outbox/queues.ts'
import { createChannelAdapters } from './notifications/channels.ts'
import { createCitizenDelivery } from './notifications/citizen-delivery.ts'
import type { NotifyChannel } from './notifications/citizen-notification.repository.ts'
import { queueDueNotifications, startCitizenNotificationWorker } from './workers/citizen-notification.worker.ts'

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
    const pg = await startLocalPostgres({
      dataDir: path.join(config.dataDir, 'postgres'),
      port: config.localPostgresPort,
      persistent: true,
    })
    stops.push(() => pg.stop())
    databaseUrl = pg.url
    log.info('started embedded Postgres on port %d (data in %s)', config.localPostgresPort, path.join(config.dataDir, 'postgres'))
  }
  let redisUrl = config.redisUrl
  if (!redisUrl) {
    const redis = await startLocalRedis({ dataDir: path.join(config.dataDir, 'redis'), port: config.localRedisPort, persistent: true })
    stops.push(() => redis.stop())
    redisUrl = redis.url
    log.info('started local redis-server on port %d', config.localRedisPort)
  }

  const db = createDb(databaseUrl, config.dbPoolMax)
  stops.unshift(() => db.destroy())
  await migrateLatest(db)

  // Handoff work has a pool of its own: its attempts and answers never queue behind the API's requests.
  const jobsDb = createDb(databaseUrl, config.dbJobsPoolMax)
  stops.unshift(() => jobsDb.destroy())
  const system = createSystem({ db, clock, log, config, jobsDb })
  await system.calendar.init()
  await deployDirectory(config.processesDir, system.procedures, log)

  const connection = redisConnection(redisUrl)
  const queues = createQueues(connection, config.queuePrefix)
  stops.unshift(() => queues.close())
  // Redis being away is reported, never fatal: Postgres-backed requests keep working, the outbox holds the jobs.
  const redisDown = warnOnce(log, 'Redis unavailable; jobs wait in the outbox until it is back')
  for (const q of queues.all()) q.on('error', redisDown)
  const readiness = createReadiness({ db, redisUrl, log })
  stops.unshift(() => readiness.close())

  if (config.runWorkers) {
    const relay = createOutboxRelay({
      db: jobsDb,
      repo: system.repos.outbox,
      queues,
      clock,
      log,
      pollMs: config.outboxPollMs,
      canPublish: readiness.redisUp,
    })
    await relay.start()
    const nationalPortal = config.portalUrl
      ? createHttpPortal({ url: config.portalUrl, timeoutMs: config.portalTimeoutMs })
      : createPortalSimulator()
    const portal = startPortalSyncWorker({
      connection,
      prefix: config.queuePrefix,
      delivery: createPortalDelivery({
        db,
        clock,
        log,
        portal: nationalPortal,
        events: system.repos.portalEvents,
        outbox: system.repos.outbox,
        incidents: system.repos.incidents,
        retryCycle: config.portalRetryCycle,
      }),
      log,
    })
    const timerWorker = startTimerWorker({
      connection,
      prefix: config.queuePrefix,
      timers: system.timers,
      watch: system.watch,
      clock,
      log,
      lockMs: config.workerLockMs,
    })
    const handoffWorker = startHandoffWorker({
      connection,
      prefix: config.queuePrefix,
      handoffs: system.handoffs,
      clock,
      log,
      lockMs: config.workerLockMs,
      concurrency: config.handoffConcurrency,
    })
    const peerCallbackWorker = startPeerCallbackWorker({
      connection,
      prefix: config.queuePrefix,
      callbacks: system.peerCallbacks,
      log,
      lockMs: config.workerLockMs,
    })
    // Messages to applicants: a channel without configuration keeps its rows pending (logged), never "sent".
    const channels = createChannelAdapters(config)
    const notifyChannels = Object.keys(channels.adapters) as NotifyChannel[]
    if (!channels.adapters.email) log.warn('SMTP_URL not set: email notifications to applicants stay pending until it is')
    const citizenWorker = startCitizenNotificationWorker({
      connection,
      prefix: config.queuePrefix,
      delivery: createCitizenDelivery({
        db,
        repo: system.repos.citizenNotifications,
        history: system.repos.history,
        outbox: system.repos.outbox,
        incidents: system.repos.incidents,
        adapters: channels.adapters,
        clock,
        log,
        publicBaseUrl: config.publicBaseUrl,
      }),
      log,
      lockMs: config.workerLockMs,
    })
    for (const w of [portal, timerWorker, handoffWorker, citizenWorker, peerCallbackWorker]) w.on('error', redisDown)
    // Redis may have lost jobs (FLUSHALL, no persistence): Postgres holds every pending timer, deadline
    // alarm and unacknowledged portal event. The pass waits for Redis; nothing else waits for the pass.
    const timerQueue = queues.get(QUEUE.timers)
    /** `sweep`: the per-minute pass (events published in the last minute are still in flight); otherwise everything. */
    const requeue = async (sweep = false) => {
      if (!readiness.redisUp()) return
      await requeueTimers({
        db,
        queue: timerQueue,
        timers: system.timers,
        watch: system.watch,
        timerRows: system.repos.timers,
        alarmRows: system.repos.alarms,
      }).then(
        (n) => log.debug(n, 'pending timers and deadline alarms re-queued'),
        (err) => log.error({ err }, 're-queue failed'),
      )
      const publishedBefore = sweep ? new Date(clock.now().getTime() - 60_000) : undefined
      await requeueUnacknowledgedEvents({
        db,
        queue: queues.get(QUEUE.dossierEvents),
        events: system.repos.portalEvents,
        now: clock.now(),
        publishedBefore,
      }).then(
        (n) => log.debug(n, 'unacknowledged portal events re-queued'),
        (err) => log.error({ err }, 'portal event re-queue failed'),
      )
      // Adapter handoffs whose attempt is due and whose job Redis lost run here.
      if (sweep)
        await system.handoffs.dispatchDue({ quietMs: 5 * 60_000 }).then(
          (n) => log.debug({ n }, 'due handoffs dispatched by the sweep'),
          (err) => log.error({ err }, 'handoff sweep failed'),
        )
      // Callbacks owed to peer deployments whose dossiers ended here (and retries of refused ones).
      await system.peerCallbacks.deliverDue().then(
        (n) => log.debug({ n }, 'peer callbacks delivered'),
        (err) => log.error({ err }, 'peer callback delivery failed'),
      )
      // Handoffs whose answer is due soon or overdue: one alarm each, naming the late agency.
      if (sweep)
        await system.handoffDeadlines.run().then(
          (n) => log.debug({ n }, 'handoff deadline alarms raised'),
          (err) => log.error({ err }, 'handoff deadline watch failed'),
        )
      await queueDueNotifications({
        db,
        repo: system.repos.citizenNotifications,
        queue: queues.get(QUEUE.citizenNotifications),
        channels: notifyChannels,
        now: clock.now(),
      }).then(
        (n) => log.debug({ n }, 'due citizen notifications queued'),
        (err) => log.error({ err }, 'citizen notification re-queue failed'),
      )
    }
    readiness.onRedisBack(() => {
      void requeue()
    })
    void readiness.checks().then(() => requeue())
    const sweep = setInterval(() => void requeue(true), 60_000)
    const stopLookahead = config.timerLookaheadMs > 0 ? system.timerLookahead.start() : async () => {}
    stops.unshift(
      () => portal.close(),
      () => timerWorker.close(),
      () => handoffWorker.close(),
      () => peerCallbackWorker.close(),
      () => citizenWorker.close(),
      async () => channels.close(),
      stopLookahead,
      async () => clearInterval(sweep),
      () => relay.stop(),
    )
    log.info('workers started: outbox relay, national portal sync, timers and deadlines, handoffs, citizen notifications, peer callbacks')
  }

  let url: string | null = null
  if (config.runApi) {
    const tokens = createTokenService(config.jwtSecret, { maxLifetimeHours: config.tokenMaxLifetimeHours })
    const app = await buildApp({
      config,
      log,
      tokens,
      system,
      health: readiness.checks,
      metrics: createMetrics({ db, clock, queues, processMetrics: true }),
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
  start(config).then(
    (running) => {
      const shutdown = () => {
        void running.stop().finally(() => process.exit(0))
      }
      process.once('SIGINT', shutdown)
      process.once('SIGTERM', shutdown)
    },
    (err) => {
      console.error(`Không khởi động được / start-up failed: ${describeError(err)}`)
      process.exit(1)
    },
  )
}

/** The real cause of a start-up failure, also for libraries that reject with a non-Error (or nothing). */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    const cause = err.cause !== undefined ? `\ncaused by: ${describeError(err.cause)}` : ''
    return `${code ? `[${String(code)}] ` : ''}${err.message || err.name}${cause}`
  }
  if (err === undefined || err === null)
    return `an unnamed error (${String(err)}) was thrown; run with LOG_LEVEL=debug for the services' own logs`
  return typeof err === 'string' ? err : JSON.stringify(err)
}

/** A logger call that reports the first failure of an outage, and again only after a minute. */
function warnOnce(log: Logger, message: string) {
  let last = 0
  return (err: Error) => {
    const now = Date.now()
    if (now - last < 60_000) return
    last = now
    log.warn({ err: err.message }, message)
  }
}
