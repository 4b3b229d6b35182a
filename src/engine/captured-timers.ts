/**
 * bpmn-engine `timers` option that never schedules anything in memory: it records what the engine
 * asks for, so that each step can persist its pending timers (rows in Postgres, delayed jobs in
 * BullMQ). The engine's in-memory timers are never the source of truth.
 */
import { type Clock, systemClock } from '../clock.ts'

export interface PendingTimer {
  /** Activity that owns the timer (boundary event, intermediate catch, start event). */
  activityId: string
  /** Engine execution id of the timer event: stable across save/recover. */
  executionId: string
  timerType: string | null
  /** ISO value from the diagram (`PT1H`, `R3/PT10M`, a date). */
  value: string | null
  expireAt: Date
}

interface Registration extends PendingTimer {
  callback: (...args: unknown[]) => void
  args: unknown[]
}

export class CapturingTimers {
  readonly executing: Registration[] = []
  private readonly live = new Set<Registration>()

  /** `clock` dates a timer the engine asks for by delay alone (a timer event brings its own expireAt). */
  constructor(private readonly clock: Clock = systemClock) {}

  register(owner: { id?: string; executionId?: string; expireAt?: Date | string; timerType?: string; [k: string]: unknown } = {}) {
    return {
      setTimeout: (callback: (...args: unknown[]) => void, delay: number, ...args: unknown[]) => this.add(owner, callback, delay, args),
      clearTimeout: (ref: unknown) => this.clearTimeout(ref),
    }
  }

  setTimeout = (callback: (...args: unknown[]) => void, delay: number, ...args: unknown[]) => this.add({}, callback, delay, args)

  clearTimeout = (ref: unknown): undefined => {
    this.live.delete(ref as Registration)
    const i = this.executing.indexOf(ref as Registration)
    if (i >= 0) this.executing.splice(i, 1)
    return undefined
  }

  private add(owner: Record<string, unknown>, callback: (...args: unknown[]) => void, delay: number, args: unknown[]): Registration {
    const timerType = typeof owner.timerType === 'string' ? owner.timerType : null
    const value = timerType ? owner[timerType] : null
    const reg: Registration = {
      activityId: String(owner.id ?? 'unknown'),
      executionId: String(owner.executionId ?? owner.id ?? 'unknown'),
      timerType,
      value: typeof value === 'string' ? value : null,
      expireAt: owner.expireAt ? new Date(owner.expireAt as Date | string) : new Date(this.clock.now().getTime() + delay),
      callback,
      args,
    }
    this.live.add(reg)
    this.executing.push(reg)
    return reg
  }

  /** Timers the engine still waits for, after the step settled. */
  pending(): PendingTimer[] {
    return [...this.live].map(({ activityId, executionId, timerType, value, expireAt }) => ({
      activityId,
      executionId,
      timerType,
      value,
      expireAt,
    }))
  }

  /** Fires the timer of that execution now, as the engine's own timeout would. */
  fire(executionId: string): boolean {
    const reg = [...this.live].find((r) => r.executionId === executionId)
    if (!reg) return false
    this.clearTimeout(reg)
    reg.callback(...reg.args)
    return true
  }
}
