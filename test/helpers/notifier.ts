import { pino } from 'pino'
import { createOutboxRelay } from '../../src/outbox/relay.ts'
import { createQueues, QUEUE, redisConnection } from '../../src/outbox/queues.ts'
import { createChannelAdapters } from '../../src/notifications/channels.ts'
import { createCitizenDelivery } from '../../src/notifications/citizen-delivery.ts'
import type { NotifyChannel } from '../../src/notifications/citizen-notification.repository.ts'
import { queueDueNotifications, startCitizenNotificationWorker } from '../../src/workers/citizen-notification.worker.ts'
import { testUrls, type TestContext, type Teardown } from './context.ts'
import { pollUntil } from './poll.ts'

/**
 * The delivery side of a test context, as `main.ts` wires it: the outbox relay, the BullMQ worker with
 * the adapters the context's configuration names, and the due pass (`sweep`) the tests call after
 * moving the clock.
 */
export async function startNotifier(t: Teardown, ctx: TestContext) {
  const log = pino({ level: 'silent' })
  const connection = redisConnection(testUrls().redisUrl)
  const queues = createQueues(connection, ctx.config.queuePrefix)
  const relay = createOutboxRelay({ db: ctx.db, repo: ctx.system.repos.outbox, queues, clock: ctx.clock, log, pollMs: 50 })
  const channels = createChannelAdapters(ctx.config)
  const delivery = createCitizenDelivery({
    db: ctx.db,
    repo: ctx.system.repos.citizenNotifications,
    history: ctx.system.repos.history,
    outbox: ctx.system.repos.outbox,
    incidents: ctx.system.repos.incidents,
    adapters: channels.adapters,
    clock: ctx.clock,
    log,
    publicBaseUrl: ctx.config.publicBaseUrl,
  })
  const worker = startCitizenNotificationWorker({ connection, prefix: ctx.config.queuePrefix, delivery, log, lockMs: 5000 })
  await relay.start()
  t.teardown(async () => {
    await worker.close()
    await relay.stop()
    channels.close()
    await queues.get(QUEUE.citizenNotifications).obliterate({ force: true })
    await queues.close()
  })
  const rows = (dossierId?: string) =>
    ctx
      .db('citizen_notifications')
      .modify((q) => void (dossierId ? q.where({ dossier_id: dossierId }) : q))
      .orderBy('created_at')
  return {
    rows,
    jobCounts: () => queues.get(QUEUE.citizenNotifications).getJobCounts('completed', 'failed', 'active', 'waiting', 'delayed'),
    /** Queues the attempts due on the context's clock (what the per-minute pass does). */
    sweep: () =>
      queueDueNotifications({
        db: ctx.db,
        repo: ctx.system.repos.citizenNotifications,
        queue: queues.get(QUEUE.citizenNotifications),
        channels: Object.keys(channels.adapters) as NotifyChannel[],
        now: ctx.clock.now(),
      }),
    /** Waits until no row of the dossier is pending with an attempt in flight: each is sent, failed or waits for a retry. */
    async settled(what: string, check: () => Promise<boolean>) {
      await pollUntil(what, check, { timeoutMs: 20_000 })
    },
  }
}
