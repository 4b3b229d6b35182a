import { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { Db } from '../db/knex.ts'

export type CheckState = 'ok' | 'down'

/** Resolves `p`, or `fallback` once `ms` have passed (the probe itself is left to finish). */
function within<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  let t: NodeJS.Timeout
  return Promise.race([
    p,
    new Promise<T>((resolve) => {
      t = setTimeout(() => resolve(fallback), ms)
    }),
  ]).finally(() => clearTimeout(t))
}

/**
 * What the health endpoints report: Postgres and Redis probed in the background (each probe bounded,
 * never two at once), answered from the last result, so a health request never waits on a service
 * that is away. Redis state also tells the outbox relay whether it can publish.
 */
export function createReadiness(deps: { db: Db; redisUrl: string; log: Logger; intervalMs?: number; probeTimeoutMs?: number }) {
  const probeTimeoutMs = deps.probeTimeoutMs ?? 1000
  // Fails fast while disconnected (no offline queue), reconnects every second at most.
  const redis = new Redis(deps.redisUrl, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (n) => Math.min(n * 100, 1000),
  })
  redis.on('error', () => {})
  const state: Record<'postgres' | 'redis', CheckState> = { postgres: 'down', redis: 'down' }
  let probing: Promise<void> | null = null
  const onRedisBack: Array<() => void> = []

  async function probe(): Promise<void> {
    const [postgres, redisState] = await Promise.all([
      within(
        deps.db.raw('select 1').then(
          (): CheckState => 'ok',
          (): CheckState => 'down',
        ),
        probeTimeoutMs,
        'down',
      ),
      redis.status !== 'ready'
        ? ('down' as const)
        : within(
            redis.ping().then(
              (): CheckState => 'ok',
              (): CheckState => 'down',
            ),
            probeTimeoutMs,
            'down',
          ),
    ])
    if (postgres !== state.postgres || redisState !== state.redis) deps.log.info({ postgres, redis: redisState }, 'service health changed')
    const redisBack = state.redis !== 'ok' && redisState === 'ok'
    state.postgres = postgres
    state.redis = redisState
    if (redisBack) for (const fn of onRedisBack) fn()
  }
  function probeOnce(): Promise<void> {
    probing ??= probe().finally(() => {
      probing = null
    })
    return probing
  }
  const first = probeOnce()
  const timer = setInterval(() => {
    void probeOnce()
  }, deps.intervalMs ?? 1000)
  timer.unref()
  redis.on('ready', () => {
    void probeOnce()
  })
  redis.on('close', () => {
    state.redis = 'down'
  })

  return {
    /** The last known state of each service; waits at most 50 ms for the very first probe. */
    async checks(): Promise<Record<string, CheckState>> {
      await within(first, 50, undefined)
      return { ...state }
    },
    redisUp: () => redis.status === 'ready' && state.redis === 'ok',
    /** Calls `fn` each time Redis is found reachable after being away (and at the first successful probe). */
    onRedisBack(fn: () => void): void {
      onRedisBack.push(fn)
    },
    async close(): Promise<void> {
      clearInterval(timer)
      redis.disconnect()
    },
  }
}
export type Readiness = ReturnType<typeof createReadiness>
