/**
 * Tap options for a slow test (kill -9 and restart, 1,000 timers): `npm test -- --fast` skips it
 * locally; `npm test` and CI run it. Use: `t.test('…', slow, async (t) => { … })`.
 */
export const slow = { skip: process.env.TEST_FAST === '1' ? 'slow: skipped by npm test -- --fast' : false }
