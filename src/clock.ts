import { AsyncLocalStorage } from 'node:async_hooks'

/** Injected time source: domain code never calls Date.now() itself, so tests can move time. */
export interface Clock {
  now(): Date
}

export const systemClock: Clock = { now: () => new Date() }

/** A clock tests can set and advance. */
export function manualClock(start: Date | string): Clock & { set(d: Date | string): void; advance(ms: number): void } {
  let t = new Date(start).getTime()
  return {
    now: () => new Date(t),
    set: (d) => {
      t = new Date(d).getTime()
    },
    advance: (ms) => {
      t += ms
    },
  }
}

const stepInstant = new AsyncLocalStorage<Date>()

/**
 * Runs `fn` with the engine's clock set to `at` (a timer firing prepared ahead of its due time runs
 * the engine as of the due instant). Only the engine reads it, through `engineNow`.
 */
export function atInstant<T>(at: Date, fn: () => T): T {
  return stepInstant.run(at, fn)
}

/** The instant the engine sees: the one set by `atInstant` around this step, else the clock's. */
export function engineNow(clock: Clock): Date {
  return stepInstant.getStore() ?? clock.now()
}
