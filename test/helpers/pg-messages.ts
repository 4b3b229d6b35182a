import pg from 'pg'
import { SIDE_CONNECTION } from '../../src/db/plan-cache.ts'

/**
 * Records every message node-pg sends to Postgres from now on, for tests that count round trips.
 * Install it before the connections are created (pooled connections wrap the prototype's query then).
 * The plan cache's side connection (src/db/plan-cache.ts) serves no request: its messages are not counted.
 */
export function recordPostgresMessages(t: { teardown(fn: () => void): void }): string[] {
  const sent: string[] = []
  const original = pg.Client.prototype.query
  pg.Client.prototype.query = function (this: pg.Client, config: unknown, ...rest: unknown[]) {
    if (!(this as unknown as Record<symbol, unknown>)[SIDE_CONNECTION])
      sent.push(typeof config === 'string' ? config : ((config as { text?: string } | null)?.text ?? '(submittable)'))
    return (original as (...a: unknown[]) => unknown).call(this, config, ...rest)
  } as typeof original
  t.teardown(() => {
    pg.Client.prototype.query = original
  })
  return sent
}
