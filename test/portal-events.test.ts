import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import { freePort } from '../src/infra/free-port.ts'
import { startLocalRedis } from '../src/infra/local-redis.ts'
import { createHttpPortal } from '../src/handoffs/national-portal.ts'
import { createPortalDelivery } from '../src/handoffs/portal-delivery.ts'
import { createOutboxRelay } from '../src/outbox/relay.ts'
import { startPortalSyncWorker } from '../src/workers/portal-sync.worker.ts'
import { requeueUnacknowledgedEvents } from '../src/workers/portal-requeue.ts'
import { createQueues, QUEUE, redisConnection } from '../src/outbox/queues.ts'
import { auth, fixture, testContext } from './helpers/context.ts'

/** A portal receiver over real HTTP: acknowledges every event, counts deliveries per event id. */
async function portalReceiver(t: { teardown(fn: () => unknown): void }) {
  const deliveries = new Map<string, number>()
  let arrived: (() => void) | null = null
  const server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (c) => {
      body += c
    })
    req.on('end', () => {
      const e = JSON.parse(body) as { eventId: string }
      deliveries.set(e.eventId, (deliveries.get(e.eventId) ?? 0) + 1)
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ receipt: `R-${e.eventId}` }))
      arrived?.()
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise((r) => server.close(r)))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/status`,
    deliveries,
    /** Resolves once `n` distinct events have been received. */
    async distinct(n: number) {
      while (deliveries.size < n)
        await new Promise<void>((r) => {
          arrived = r
        })
    },
  }
}

t.test(
  'Redis FLUSHALL after events were handed to BullMQ: every portal event still reaches the portal, each acknowledged once',
  async (t) => {
    // A private redis-server: FLUSHALL must not touch the other test files' queues.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dvc-redis-'))
    const redis = await startLocalRedis({ dataDir: dir, port: await freePort(), persistent: false })
    t.teardown(async () => {
      await redis.stop()
      fs.rmSync(dir, { recursive: true, force: true })
    })
    const ctx = await testContext(t)
    await ctx.deploy(fixture('three-step-procedure.bpmn'))
    const officer = await auth(ctx, { roles: ['officer'], groups: ['one-stop'], agency: 'UBND-XA-DEMO' })
    const submit = async (i: number) => {
      const res = await ctx.app.inject({
        method: 'POST',
        url: '/api/dossiers',
        headers: officer,
        payload: { procedureCode: 'TEST.3STEP', applicant: { name: `Hộ ${i}`, idNumber: '001099001234' }, channel: 1, data: {} },
      })
      t.equal(res.statusCode, 201)
      // Reception accepts it: the dossier moves to "in process", one status event for the portal.
      const task = res.json().tasks[0]
      await ctx.app.inject({ method: 'POST', url: `/api/tasks/${task.id}/claim`, headers: officer, payload: {} })
      const done = await ctx.app.inject({
        method: 'POST',
        url: `/api/tasks/${task.id}/complete`,
        headers: officer,
        payload: { variables: { valid: true } },
      })
      t.equal(done.statusCode, 200)
    }
    const receiver = await portalReceiver(t)
    const connection = redisConnection(redis.url)
    const prefix = `portal${Date.now()}`
    const queues = createQueues(connection, prefix)
    const log = pino({ level: 'silent' })
    const relay = createOutboxRelay({ db: ctx.db, repo: ctx.system.repos.outbox, queues, clock: ctx.clock, log })
    const portal = createHttpPortal({ url: receiver.url, timeoutMs: 5000 })
    const delivery = createPortalDelivery({
      db: ctx.db,
      clock: ctx.clock,
      log,
      portal,
      events: ctx.system.repos.portalEvents,
      outbox: ctx.system.repos.outbox,
      incidents: ctx.system.repos.incidents,
      retryCycle: ctx.config.portalRetryCycle,
    })
    const startWorker = () => startPortalSyncWorker({ connection, prefix, delivery, log })
    const admin = new Redis(redis.url)
    t.teardown(async () => {
      await queues.close()
      admin.disconnect()
    })
    const portalEvents = async () => Number((await ctx.db('outbox').where({ topic: 'dossier.status-changed' }).count('* as n'))[0]!.n)

    // Three dossiers whose events the portal acknowledged.
    for (let i = 0; i < 3; i++) await submit(i)
    const acked = await portalEvents()
    t.ok(acked >= 3, 'each submission produced a portal status event')
    await relay.drain()
    let worker = startWorker()
    await receiver.distinct(acked)
    await worker.close()

    // Three more, handed to Redis while no worker runs; then Redis loses everything.
    for (let i = 3; i < 6; i++) await submit(i)
    const total = await portalEvents()
    t.ok((await relay.drain()) > 0, 'the new events were handed to BullMQ')
    t.ok((await queues.get(QUEUE.dossierEvents).getWaitingCount()) > 0)
    await admin.flushall()
    t.equal(await queues.get(QUEUE.dossierEvents).getWaitingCount(), 0, 'Redis lost the waiting events')
    t.equal(Number((await ctx.db('outbox').whereNull('published_at').count('* as n'))[0]!.n), 0, 'the relay sees nothing left to publish')

    // The per-minute sweep leaves alone events published within the last minute (still in flight)...
    const recent = await requeueUnacknowledgedEvents({
      db: ctx.db,
      queue: queues.get(QUEUE.dossierEvents),
      events: ctx.system.repos.portalEvents,
      now: ctx.clock.now(),
      publishedBefore: new Date(Date.now() - 60_000),
    })
    t.equal(recent.queued, 0, 'the sweep does not re-add events published in the last minute')
    // ...the pass at start or when Redis comes back re-derives every unacknowledged event from Postgres.
    const pass = await requeueUnacknowledgedEvents({
      db: ctx.db,
      queue: queues.get(QUEUE.dossierEvents),
      events: ctx.system.repos.portalEvents,
      now: ctx.clock.now(),
    })
    t.equal(pass.queued, total - acked, 'only the unacknowledged events are queued again')
    worker = startWorker()
    t.teardown(() => worker.close())
    await receiver.distinct(total)
    await worker.close()

    t.equal(receiver.deliveries.size, total, 'every event reached the portal')
    t.same(
      [...receiver.deliveries.values()].filter((n) => n !== 1),
      [],
      'each event delivered once',
    )
    const log766 = await ctx.db('portal_sync_log').select('event_id', 'receipt')
    t.equal(log766.length, total, 'every acknowledgement recorded')
    t.ok(
      log766.every((r) => r.receipt === `R-${r.event_id}`),
      "with the portal's own receipt",
    )
    const again = await requeueUnacknowledgedEvents({
      db: ctx.db,
      queue: queues.get(QUEUE.dossierEvents),
      events: ctx.system.repos.portalEvents,
      now: ctx.clock.now(),
    })
    t.equal(again.queued, 0, 'nothing left pending once the portal acknowledged everything')
  },
)
