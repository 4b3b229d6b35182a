import type pg from 'pg'
import type { Logger } from 'pino'
import type { Db } from '../db/knex.ts'
import type { Clock } from '../clock.ts'
import { TOPIC_ROUTE, type Queues } from './queues.ts'
import { outboxJobId, type OutboxRepository, type OutboxRow } from './outbox.repository.ts'

/**
 * Moves committed outbox rows to BullMQ. A row is marked published only after Redis accepted the
 * job; the job id is derived from the row id so that a relay crash between the two never
 * duplicates a job. Woken by NOTIFY, with a polling fallback; a lost LISTEN connection (Postgres
 * restart, terminated backend) is re-established with back-off. While `canPublish` says Redis is
 * away, rows stay in Postgres and the relay only polls.
 */
export function createOutboxRelay(deps: {
  db: Db
  repo: OutboxRepository
  queues: Queues
  clock: Clock
  log: Logger
  pollMs?: number
  batchSize?: number
  canPublish?: () => boolean
}) {
  const { db, repo, queues, log } = deps
  let running = false
  let stopped = true
  let wake: (() => void) | null = null
  let listenConn: pg.Client | null = null
  let listenTimer: NodeJS.Timeout | null = null
  let listenBackoffMs = 0
  const stats = { listenConnects: 0, notifications: 0 }

  function routeOf(row: OutboxRow) {
    const route = TOPIC_ROUTE[row.topic]
    if (!route) throw new Error(`no queue for outbox topic ${row.topic}`)
    return route
  }
  const jobIdOf = outboxJobId

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
    await queue.addBulk(
      rows.map((row) => {
        const at = typeof row.payload.dueAt === 'string' ? new Date(row.payload.dueAt) : new Date(row.available_at)
        return { name: row.topic, data: row.payload, opts: { jobId: jobIdOf(row), delay: Math.max(0, at.getTime() - now) } }
      }),
    )
  }

  /** Consecutive rows with the same queue and action, in order. */
  function runsOf(rows: OutboxRow[]): OutboxRow[][] {
    const runs: OutboxRow[][] = []
    let key = ''
    for (const row of rows) {
      const route = TOPIC_ROUTE[row.topic]
      const k = route ? `${route.queue}|${route.action}` : `?${row.id}`
      if (k === key) runs.at(-1)!.push(row)
      else {
        runs.push([row])
        key = k
      }
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
      if (deps.canPublish && !deps.canPublish()) {
        failed = true
      } else {
        try {
          await drain()
        } catch (err) {
          failed = true
          if (!stopped) log.error({ err }, 'outbox relay error')
        }
      }
      if (notified && !failed) continue
      // stop() may have come during the drain, when there was nothing to wake: do not sleep a poll interval.
      if (stopped) break
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, deps.pollMs ?? 1000)
        wake = () => {
          clearTimeout(t)
          resolve()
        }
      })
      wake = null
    }
  }

  /** One dedicated connection for LISTEN; when it is lost, another after a back-off (0.1 s doubling to 30 s). */
  async function listen(): Promise<void> {
    let conn: pg.Client | null = null
    try {
      // A connection of its own, outside the pool: LISTEN lasts as long as the connection.
      const own = await (db.client as { acquireRawConnection(): Promise<pg.Client> }).acquireRawConnection()
      conn = own
      const lost = (err?: Error) => {
        if (listenConn !== own) return
        listenConn = null
        own.end().catch(() => {})
        if (!stopped) {
          log.warn({ err }, 'outbox LISTEN connection lost, reconnecting')
          scheduleListen()
        }
      }
      conn.on('error', lost)
      conn.on('end', () => lost())
      conn.on('notification', () => {
        stats.notifications++
        notified = true
        wake?.()
      })
      await conn.query('LISTEN outbox')
      if (stopped) {
        await conn.end().catch(() => {})
        return
      }
      listenConn = conn
      listenBackoffMs = 0
      stats.listenConnects++
      // Notifications sent while nobody listened are gone: look once now.
      notified = true
      wake?.()
    } catch (err) {
      conn?.end().catch(() => {})
      log.warn({ err }, 'outbox LISTEN unavailable, polling until it is back')
      scheduleListen()
    }
  }
  function scheduleListen(): void {
    if (stopped || listenTimer) return
    listenBackoffMs = Math.min(listenBackoffMs ? listenBackoffMs * 2 : 100, 30_000)
    listenTimer = setTimeout(() => {
      listenTimer = null
      void listen()
    }, listenBackoffMs)
    listenTimer.unref()
  }

  return {
    drain,
    /** LISTEN connections established so far and NOTIFYs received (for health and tests). */
    stats: () => ({ ...stats, listening: listenConn !== null }),
    async start(): Promise<void> {
      if (running) return
      running = true
      stopped = false
      await listen()
      void loop().finally(() => {
        running = false
      })
    },
    async stop(): Promise<void> {
      stopped = true
      wake?.()
      if (listenTimer) clearTimeout(listenTimer)
      listenTimer = null
      const conn = listenConn
      listenConn = null
      if (conn) await conn.end().catch(() => {})
      while (running) await new Promise((r) => setImmediate(r))
    },
  }
}
export type OutboxRelay = ReturnType<typeof createOutboxRelay>
