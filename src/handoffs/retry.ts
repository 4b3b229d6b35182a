import { DEFAULT_RETRY_CYCLE, parseRetryCycle } from '../engine/handoff-task.ts'

/**
 * After a failed attempt of one of our adapters, as Camunda 7 runs `camunda:failedJobRetryTimeCycle`:
 * the first failure leaves the cycle's number of retries, each later one one fewer; none left opens
 * an incident. `retryAt` is when the next attempt runs.
 */
export function nextRetry(cycleText: string, retriesLeft: number | null, now: Date): { retries: number; retryAt: Date | null } {
  const cycle = parseRetryCycle(cycleText) ?? parseRetryCycle(DEFAULT_RETRY_CYCLE)!
  const left = Math.max(0, (retriesLeft ?? cycle.retries + 1) - 1)
  if (left === 0) return { retries: 0, retryAt: null }
  const index = Math.min(cycle.retries - left, cycle.intervals.length - 1)
  return { retries: left, retryAt: new Date(now.getTime() + cycle.intervals[Math.max(0, index)]!) }
}

/** The retries an incident's retry sets again when the caller names none: the full cycle. */
export const fullRetries = (cycleText: string) => (parseRetryCycle(cycleText) ?? parseRetryCycle(DEFAULT_RETRY_CYCLE)!).retries
