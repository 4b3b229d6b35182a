import { EventEmitter } from 'node:events'
import type pg from 'pg'
import type { Logger } from 'pino'
import type { Db } from '../db/knex.ts'
import { FETCHABLE_CHANNEL } from './handoff.repository.ts'

/**
 * Wakes long-polling fetch-and-lock requests when an external task may have become fetchable: a
 * NOTIFY on `handoffs` (sent with the commit that created or unlocked it), on one LISTEN connection
 * opened at the first long poll. Without it (connection lost), waiters still re-check on their own
 * interval: locks that lapse and retries that come due are found that way.
 */
export function createFetchWake(deps: { db: Db; log: Logger }) {
  const events = new EventEmitter()
  events.setMaxListeners(0)
  let conn: pg.Client | null = null
  let opening: Promise<void> | null = null
  let closed = false

  async function listen(): Promise<void> {
    try {
      const own = await (deps.db.client as { acquireRawConnection(): Promise<pg.Client> }).acquireRawConnection()
      const lost = () => {
        if (conn === own) conn = null
        own.end().catch(() => {})
      }
      own.on('error', lost)
      own.on('end', lost)
      own.on('notification', () => events.emit('wake'))
      await own.query(`LISTEN ${FETCHABLE_CHANNEL}`)
      if (closed) return void (await own.end().catch(() => {}))
      conn = own
    } catch (err) {
      deps.log.warn({ err }, 'external-task LISTEN unavailable: long polls re-check on their interval')
    } finally {
      opening = null
    }
  }

  return {
    /** Resolves at the next wake-up, after `ms`, or when `signal` aborts, whichever comes first. */
    async wait(ms: number, signal?: AbortSignal): Promise<void> {
      if (!conn && !opening && !closed) opening = listen()
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer)
          events.off('wake', done)
          signal?.removeEventListener('abort', done)
          resolve()
        }
        const timer = setTimeout(done, ms)
        events.on('wake', done)
        signal?.addEventListener('abort', done)
      })
    },
    async close(): Promise<void> {
      closed = true
      events.emit('wake')
      await opening
      const c = conn
      conn = null
      if (c) await c.end().catch(() => {})
    },
  }
}
export type FetchWake = ReturnType<typeof createFetchWake>
