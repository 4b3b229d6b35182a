import { setTimeout as pause } from 'node:timers/promises'

/**
 * Waits for a condition that another process or queue brings about (a worker, Redis, a restarted
 * server): checks it, and pauses a few milliseconds between checks instead of spinning. Throws,
 * naming what it waited for, when `timeoutMs` passes first. Time in the system under test is
 * moved with the injected clock, never waited for: this only waits for real infrastructure.
 */
export async function pollUntil(
  what: string,
  done: () => boolean | Promise<boolean>,
  opts: { timeoutMs?: number; pauseMs?: number } = {},
): Promise<void> {
  const { timeoutMs = 30_000, pauseMs = 5 } = opts
  const end = Date.now() + timeoutMs
  for (;;) {
    if (await done()) return
    if (Date.now() >= end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await pause(pauseMs)
  }
}

/** A short pause between two attempts at something that is not ready yet. */
export const shortPause = (ms = 5) => pause(ms)
