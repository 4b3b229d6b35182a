import * as elements from 'bpmn-elements'

export interface TimerResolution {
  expireAt: Date
  repeat?: number
}
/** Our reading of a timer value; `null` falls back to bpmn-elements' own ISO 8601 parsing. */
export type TimerResolver = (timerType: string, value: string, now: Date) => TimerResolution | null

const TIMER_TYPES = ['timeDuration', 'timeDate', 'timeCycle'] as const
type TimerType = (typeof TIMER_TYPES)[number]

/** What `parse` returns, as bpmn-elements' own TimerEventDefinition does. */
export interface ParsedTimer {
  expireAt?: Date
  repeat?: number
  delay?: number
}

/** The execute message's content that `_getTimers` reads (a resumed timer carries its expireAt). */
export interface TimerMessageContent {
  expireAt?: string | number | Date
  timeout?: number
  inbound?: Array<{ repeat?: number }>
  timeDuration?: string
  timeDate?: string
  timeCycle?: string
}

/** What `_getTimers` hands to the engine: the earliest timer of the definition and its timeout. */
export interface ResolvedTimer {
  expireAt?: Date
  timerType?: TimerType
  repeat?: number
  timeout?: number
  timeDuration?: unknown
  timeDate?: unknown
  timeCycle?: unknown
}

/** The part of bpmn-elements' TimerEventDefinition instance that the methods below use. */
export interface TimerDefinition {
  environment: { resolveExpression(expression: unknown, message: unknown): unknown }
  parse(timerType: TimerType, value: string): ParsedTimer
  timeDuration?: string
  timeDate?: string
  timeCycle?: string
}

/** bpmn-elements' constructor: its shipped types declare an instance, not the function it exports. */
interface TimerDefinitionConstructor {
  (this: TimerDefinition, activity: unknown, eventDefinition: unknown): void
  prototype: TimerPrototype
}
type TimerPrototype = TimerDefinition & { _getTimers(executeMessage: { content: TimerMessageContent }): ResolvedTimer }
export const Base = (elements as unknown as { TimerEventDefinition: TimerDefinitionConstructor }).TimerEventDefinition

/**
 * bpmn-elements' TimerEventDefinition with an injected clock and our duration rules (working days).
 * The original reads `new Date()`; with this one a test that moves the clock moves the engine too.
 */
export function clockedTimerDefinition(now: () => Date, resolve: TimerResolver) {
  function ClockedTimerEventDefinition(this: TimerDefinition, activity: unknown, eventDefinition: unknown) {
    Base.call(this, activity, eventDefinition)
  }
  ClockedTimerEventDefinition.prototype = Object.create(Base.prototype, {
    constructor: { value: ClockedTimerEventDefinition },
  }) as TimerPrototype

  ClockedTimerEventDefinition.prototype.parse = function parse(this: TimerDefinition, timerType: TimerType, value: string): ParsedTimer {
    const n = now()
    const r = resolve(timerType, value, n)
    if (!r) return Base.prototype.parse.call(this, timerType, value)
    return { expireAt: r.expireAt, repeat: r.repeat, delay: r.expireAt.getTime() - n.getTime() }
  }

  // Same algorithm as bpmn-elements 17 `_getTimers`, reading the injected clock
  // (test/clocked-timer.test.ts fails when the installed bpmn-elements changes the original).
  ClockedTimerEventDefinition.prototype._getTimers = function getTimers(
    this: TimerDefinition,
    executeMessage: { content: TimerMessageContent },
  ): ResolvedTimer {
    const content = executeMessage.content
    const result: ResolvedTimer = { ...('expireAt' in content && { expireAt: new Date(content.expireAt!) }) }
    const n = now()
    for (const timerType of TIMER_TYPES) {
      if (timerType in content) result[timerType] = content[timerType]
      else if (timerType in this) result[timerType] = this.environment.resolveExpression(this[timerType], executeMessage)
      else continue
      let expireAtDate: Date
      let repeat: number | undefined
      const timerStr = result[timerType] as string
      if (timerStr) {
        const parsed = this.parse(timerType, timerStr)
        repeat = parsed.repeat
        if (!parsed.expireAt?.getTime) throw new TypeError(`Parsed ${timerType} "${timerStr}" expireAt failed to resolve to a date`)
        expireAtDate = parsed.expireAt
      } else {
        expireAtDate = n
      }
      if (!('expireAt' in result) || result.expireAt! > expireAtDate) {
        result.timerType = timerType
        result.expireAt = expireAtDate
        result.repeat = repeat
      }
    }
    if ('expireAt' in result) result.timeout = result.expireAt!.getTime() - n.getTime()
    else if ('timeout' in content) result.timeout = content.timeout
    else if (!Object.keys(result).length) result.timeout = 0
    if (content.inbound?.[0] && 'repeat' in content.inbound[0]) result.repeat = content.inbound[0].repeat
    return result
  }
  return ClockedTimerEventDefinition
}
