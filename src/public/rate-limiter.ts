/**
 * Fixed-window request limiter per client key (the public lookup). In memory: each API process
 * limits on its own, which bounds probing per process; the injected clock keeps it testable.
 */
export function createRateLimiter(opts: { max: number; windowMs: number; now: () => Date; maxKeys?: number }) {
  const windows = new Map<string, { start: number; count: number }>()
  const maxKeys = opts.maxKeys ?? 100_000
  return {
    /** Counts one request; returns the seconds to wait when over the limit, else 0. */
    hit(key: string): number {
      const now = opts.now().getTime()
      let w = windows.get(key)
      if (!w || now - w.start >= opts.windowMs) {
        if (windows.size >= maxKeys) for (const [k, v] of windows) if (now - v.start >= opts.windowMs) windows.delete(k)
        if (windows.size >= maxKeys) windows.delete(windows.keys().next().value!)
        w = { start: now, count: 0 }
        windows.set(key, w)
      }
      w.count++
      return w.count > opts.max ? Math.ceil((w.start + opts.windowMs - now) / 1000) : 0
    },
  }
}
