import type pg from 'pg'
import type { Logger } from 'pino'
import type { Db } from '../db/knex.ts'
import type { Clock } from '../clock.ts'
import { TOPIC_ROUTE, type Queues } from '../workers/queues.ts'
import type { OutboxRepository, OutboxRow } from './outbox.repository.ts'

/**
 * Moves committed outbox rows to BullMQ. A row is marked published only after Redis accepted the
 * job; the job id is derived from the row id so that a relay crash between the two never
 * duplicates a job. Woken by NOTIFY, with a polling fallback.
 */
export function createOutboxRelay(deps: { db: Db; repo: OutboxRepository; queues: Queues; clock: Clock; log: Logger; pollMs?: number; batchSize?: number }) {
  const { db, repo, queues, log } = deps
  let running = false
  let stopped = true
  let wake: (() => void) | null = null
  let listenConn: pg.Client | null = null

  function routeOf(row: OutboxRow) {
    const route = TOPIC_ROUTE[row.topic]
    if (!route) throw new Error(`no queue for outbox topic ${row.topic}`)
    return route
  }
  const jobIdOf = (row: OutboxRow) => (typeof row.payload.jobId === 'string' ? row.payload.jobId : `outbox-${row.id}`)

  /**
   * Publishes a run of rows that share a queue and an action, in one round trip to Redis when they
   * add jobs (`addBulk`). Runs keep the rows' order, so an add and a later remove of one job never swap.
   */
  async function publishRun(rows: OutboxRow[]): Promise<void> {
    const route = routeOf(rows[0]!)
    const queue = queues.get(route.queue)
    if (route.action === 'remove') {
      for (const row of rows) await queue.remove(jobIdOf(row))
      return
    }
    const now = deps.clock.now().getTime()
    await queue.addBulk(rows.map((row) => {
      const at = typeof row.payload.dueAt === 'string' ? new Date(row.payload.dueAt) : new Date(row.available_at)
      return { name: row.topic, data: row.payload, opts: { jobId: jobIdOf(row), delay: Math.max(0, at.getTime() - now) } }
    }))
  }

  /** Consecutive rows with the same queue and action, in order. */
  function runsOf(rows: OutboxRow[]): OutboxRow[][] {
    const runs: OutboxRow[][] = []
    let key = ''
    for (const row of rows) {
      const route = TOPIC_ROUTE[row.topic]
      const k = route ? `${route.queue}|${route.action}` : `?${row.id}`
      if (k === key) runs.at(-1)!.push(row)
      else { runs.push([row]); key = k }
    }
    return runs
  }

  /** Publishes everything pending; returns how many rows went out. */
  async function drain(): Promise<number> {
    const batchSize = deps.batchSize ?? 200
    let total = 0
    for (;;) {
      let more = false
      const n = await db.transaction(async (tx) => {
        const rows = await repo.claimBatch(tx, batchSize)
        // A short batch took everything there was: no second transaction just to find nothing.
        more = rows.length === batchSize
        const done: number[] = []
        let failed: { id: number; error: string } | null = null
        for (const run of runsOf(rows)) {
          try {
            await publishRun(run)
            done.push(...run.map((r) => r.id))
          } catch (err) {
            log.warn({ err, outboxId: run[0]!.id }, 'outbox publish failed')
            failed = { id: run[0]!.id, error: (err as Error).message }
            break
          }
        }
        await repo.finishBatch(tx, { published: done, failed }, deps.clock.now())
        return done.length === rows.length ? rows.length : -1
      })
      if (n <= 0) return total
      total += n
      if (!more) return total
    }
  }

  /** Set by a NOTIFY; a drain that started before it may have missed its rows. */
  let notified = false
  async function loop(): Promise<void> {
    while (!stopped) {
      notified = false
      let failed = false
      try {
        await drain()
      } catch (err) {
        failed = true
        if (!stopped) log.error({ err }, 'outbox relay error')
      }
      if (notified && !failed) continue
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, deps.pollMs ?? 1000)
        wake = () => { clearTimeout(t); resolve() }
      })
      wake = null
    }
  }

  return {
    drain,
    async start(): Promise<void> {
      if (running) return
      running = true
      stopped = false
      try {
        // A connection of its own, outside the pool: LISTEN lasts as long as the connection.
        const conn: pg.Client = await (db.client as { acquireRawConnection(): Promise<pg.Client> }).acquireRawConnection()
        listenConn = conn
        conn.on('notification', () => { notified = true; wake?.() })
        await conn.query('LISTEN outbox')
      } catch (err) {
        log.warn({ err }, 'outbox LISTEN unavailable, polling only')
      }
      void loop().finally(() => { running = false })
    },
    async stop(): Promise<void> {
      stopped = true
      wake?.()
      if (listenConn) await listenConn.end().catch(() => {})
      listenConn = null
      while (running) await new Promise((r) => setImmediate(r))
    },
  }
}
export type OutboxRelay = ReturnType<typeof createOutboxRelay>
