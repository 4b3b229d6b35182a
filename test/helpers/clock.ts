import { type Clock, manualClock } from '../../src/clock.ts'

/** The clock tests move: set it, advance it. */
export type TestClock = ReturnType<typeof manualClock>

export function testClock(start: Date | string): TestClock {
  return manualClock(start)
}

/** The context's clock, to move: a context made with `{ now }` or `{ clock: testClock(…) }` has one. */
export function clockOf(ctx: { clock: Clock }): TestClock {
  const c = ctx.clock as Partial<TestClock>
  if (typeof c.set !== 'function' || typeof c.advance !== 'function')
    throw new Error('this test context runs on the system clock: create it with { now } or { clock: testClock(…) }')
  return ctx.clock as TestClock
}
