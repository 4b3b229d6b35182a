import * as elements from 'bpmn-elements'

export interface TimerResolution { expireAt: Date; repeat?: number }
/** Our reading of a timer value; `null` falls back to bpmn-elements' own ISO 8601 parsing. */
export type TimerResolver = (timerType: string, value: string, now: Date) => TimerResolution | null

const Base = (elements as any).TimerEventDefinition
const TIMER_TYPES = ['timeDuration', 'timeDate', 'timeCycle']

/**
 * bpmn-elements' TimerEventDefinition with an injected clock and our duration rules (working days).
 * The original reads `new Date()`; with this one a test that moves the clock moves the engine too.
 */
export function clockedTimerDefinition(now: () => Date, resolve: TimerResolver) {
  function ClockedTimerEventDefinition(this: any, activity: unknown, eventDefinition: unknown) {
    Base.call(this, activity, eventDefinition)
  }
  ClockedTimerEventDefinition.prototype = Object.create(Base.prototype, { constructor: { value: ClockedTimerEventDefinition } })

  ClockedTimerEventDefinition.prototype.parse = function parse(timerType: string, value: string) {
    const n = now()
    const r = resolve(timerType, value, n)
    if (!r) return Base.prototype.parse.call(this, timerType, value)
    return { expireAt: r.expireAt, repeat: r.repeat, delay: r.expireAt.getTime() - n.getTime() }
  }

  // Same algorithm as bpmn-elements 17 `_getTimers`, reading the injected clock.
  ClockedTimerEventDefinition.prototype._getTimers = function getTimers(executeMessage: any) {
    const content = executeMessage.content
    const result: any = { ...('expireAt' in content && { expireAt: new Date(content.expireAt) }) }
    const n = now()
    for (const timerType of TIMER_TYPES) {
      if (timerType in content) result[timerType] = content[timerType]
      else if (timerType in this) result[timerType] = this.environment.resolveExpression(this[timerType], executeMessage)
      else continue
      let expireAtDate: Date
      let repeat: number | undefined
      const timerStr = result[timerType]
      if (timerStr) {
        const parsed = this.parse(timerType, timerStr)
        repeat = parsed.repeat
        if (!parsed.expireAt?.getTime) throw new TypeError(`Parsed ${timerType} "${timerStr}" expireAt failed to resolve to a date`)
        expireAtDate = parsed.expireAt
      } else {
        expireAtDate = n
      }
      if (!('expireAt' in result) || result.expireAt > expireAtDate) {
        result.timerType = timerType
        result.expireAt = expireAtDate
        result.repeat = repeat
      }
    }
    if ('expireAt' in result) result.timeout = result.expireAt - n.getTime()
    else if ('timeout' in content) result.timeout = content.timeout
    else if (!Object.keys(result).length) result.timeout = 0
    if (content.inbound?.[0] && 'repeat' in content.inbound[0]) result.repeat = content.inbound[0].repeat
    return result
  }
  return ClockedTimerEventDefinition
}
