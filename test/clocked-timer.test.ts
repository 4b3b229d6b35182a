import t from 'tap'
import { createHash } from 'node:crypto'
import { manualClock } from '../src/clock.ts'
import { Base, clockedTimerDefinition, type ParsedTimer, type TimerMessageContent } from '../src/engine/clocked-timer.ts'
import { CapturingTimers } from '../src/engine/captured-timers.ts'

/**
 * src/engine/clocked-timer.ts copies bpmn-elements' private `_getTimers` to read the injected clock.
 * Fingerprint of the original it was copied from (whitespace collapsed): when an upgrade of
 * bpmn-elements changes the original, this test fails — compare the two, port the change, then
 * update the fingerprint.
 */
const ORIGINAL_GET_TIMERS_SHA256 = '812eeda44463dbe32968b82eee4788a6e9432dc8914148d507d2ff272242c093'

const fingerprint = (fn: unknown) => createHash('sha256').update(String(fn).replace(/\s+/g, ' ')).digest('hex')

t.test('the installed bpmn-elements still has the _getTimers our clocked copy was made from', async (t) => {
  t.equal(
    fingerprint(Base.prototype._getTimers),
    ORIGINAL_GET_TIMERS_SHA256,
    'bpmn-elements TimerEventDefinition._getTimers changed: re-check src/engine/clocked-timer.ts',
  )
})

t.test('the clocked copy of _getTimers answers as the original does, dated by the injected clock', async (t) => {
  const clock = manualClock('2031-03-04T05:06:07Z')
  const Clocked = clockedTimerDefinition(
    () => clock.now(),
    () => null,
  )
  // The same deterministic parse for both, so that only `_getTimers` is compared.
  const parse = (timerType: string, value: string): ParsedTimer => {
    if (value === 'unparsable') return {}
    if (timerType === 'timeDate') return { expireAt: new Date(value) }
    if (value.startsWith('R3/')) return { expireAt: new Date('2031-03-04T06:00:00Z'), repeat: 3 }
    return { expireAt: new Date('2031-03-04T07:00:00Z') }
  }
  const definition = (proto: object, own: Record<string, unknown>) =>
    Object.assign(
      Object.create(proto) as object,
      { parse, environment: { resolveExpression: (e: unknown) => (e === '${due}' ? '2031-05-01T00:00:00Z' : e) } },
      own,
    )
  const cases: Array<{ name: string; own?: Record<string, unknown>; content: TimerMessageContent }> = [
    { name: 'a duration in the message', content: { timeDuration: 'PT1H' } },
    { name: 'a date from the diagram, through an expression', own: { timeDate: '${due}' }, content: {} },
    { name: 'the earliest of a resumed expireAt and a cycle', content: { expireAt: '2031-03-04T06:30:00Z', timeCycle: 'R3/PT10M' } },
    { name: 'a resumed expireAt earlier than the duration', content: { expireAt: '2031-03-04T05:30:00Z', timeDuration: 'PT1H' } },
    { name: 'only a timeout', content: { timeout: 500 } },
    { name: 'nothing at all', content: {} },
    { name: 'the repeat of the inbound message', content: { timeDuration: 'PT1H', inbound: [{ repeat: 2 }] } },
  ]
  for (const c of cases) {
    const message = { content: c.content }
    const before = Date.now()
    const original = Base.prototype._getTimers.call(definition(Base.prototype, c.own ?? {}) as never, message)
    const after = Date.now()
    const copy = (Clocked.prototype as typeof Base.prototype)._getTimers.call(definition(Clocked.prototype, c.own ?? {}) as never, message)
    const { timeout: originalTimeout, ...originalRest } = original
    const { timeout: copyTimeout, ...copyRest } = copy
    t.same(copyRest, originalRest, c.name)
    if (copy.expireAt) {
      t.equal(copyTimeout, copy.expireAt.getTime() - clock.now().getTime(), `${c.name}: timeout from the injected clock`)
      t.ok(
        originalTimeout! <= copy.expireAt.getTime() - before && originalTimeout! >= copy.expireAt.getTime() - after,
        `${c.name}: the original's timeout from the wall clock`,
      )
    } else {
      t.equal(copyTimeout, originalTimeout, `${c.name}: timeout`)
    }
  }
  const unparsable = { content: { timeDuration: 'unparsable' } }
  t.throws(() => Base.prototype._getTimers.call(definition(Base.prototype, {}) as never, unparsable), TypeError)
  t.throws(
    () => (Clocked.prototype as typeof Base.prototype)._getTimers.call(definition(Clocked.prototype, {}) as never, unparsable),
    TypeError,
  )
})

t.test('a timer the engine asks for by delay alone is dated by the injected clock', async (t) => {
  const clock = manualClock('2031-03-04T05:06:07Z')
  const timers = new CapturingTimers(clock)
  // The engine's timer API: CapturingTimers records the request, nothing waits on real time.
  timers.register({ id: 'script', executionId: 'script_1' }).setTimeout(() => {}, 60_000)
  const [pending] = timers.pending()
  t.equal(pending?.expireAt.toISOString(), '2031-03-04T05:07:07.000Z')
})

t.test('a timer event keeps the expireAt it brings', async (t) => {
  const timers = new CapturingTimers(manualClock('2031-03-04T05:06:07Z'))
  timers
    .register({
      id: 'wait',
      executionId: 'wait_1',
      timerType: 'timeDuration',
      timeDuration: 'PT2H',
      expireAt: new Date('2031-03-04T07:06:07Z'),
    })
    .setTimeout(() => {}, 1)
  t.same(timers.pending(), [
    { activityId: 'wait', executionId: 'wait_1', timerType: 'timeDuration', value: 'PT2H', expireAt: new Date('2031-03-04T07:06:07Z') },
  ])
})
