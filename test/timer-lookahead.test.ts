import t from 'tap'
import { manualClock } from '../src/clock.ts'
import { auth, fixture, testContext, type TestContext } from './helpers/context.ts'

const vn = (s: string) => new Date(`${s}+07:00`)
const count = async (ctx: TestContext, table: string, where: Record<string, unknown>) =>
  Number((await ctx.db(table).where(where).count('* as n'))[0]!.n)

async function submit(ctx: TestContext, headers: Record<string, string>, procedureCode: string, i: number) {
  const res = await ctx.app.inject({
    method: 'POST',
    url: '/api/dossiers',
    headers,
    payload: { procedureCode, applicant: { name: `Công dân ${i}`, idNumber: `0010990${String(10000 + i)}` }, channel: 1, data: {} },
  })
  if (res.statusCode !== 201) throw new Error(res.body)
  return res.json().dossier.id as string
}

t.test('a firing prepared ahead commits at its due time what the live firing would, exactly once', async (t) => {
  const clock = manualClock(vn('2026-11-23T09:00'))
  const ctx = await testContext(t, { clock, env: { TIMER_LOOKAHEAD_MS: '10000' } })
  await ctx.deploy(fixture('wait-timer.bpmn'))
  const officer = await auth(ctx, { roles: ['officer'], groups: ['one-stop'] })
  const [a, b] = [await submit(ctx, officer, 'WaitDemo', 1), await submit(ctx, officer, 'WaitDemo', 2)]
  const timerOf = async (dossierId: string) => (await ctx.db('timers').where({ dossier_id: dossierId }).first())!
  const versionBefore = (await ctx.db('process_instances').where({ dossier_id: a }).first()).version

  clock.set(vn('2026-11-23T09:59:49'))
  t.equal(await ctx.system.timerLookahead.prepareComing(), 0, 'due in more than the window: not prepared yet')
  clock.set(vn('2026-11-23T09:59:55'))
  t.equal(await ctx.system.timerLookahead.prepareComing(), 2, 'both timers come due within 10 s: prepared')
  t.equal(await count(ctx, 'tasks', { status: 'open' }), 0, 'preparing writes nothing')
  t.equal((await timerOf(a)).status, 'pending')
  t.equal(await ctx.system.timers.fire((await timerOf(a)).id), 'not-due', 'a prepared firing never commits early')

  clock.set(vn('2026-11-23T10:00:00.250'))
  t.equal(await ctx.system.timers.fire((await timerOf(a)).id), 'fired')
  t.same(
    ctx.system.timerLookahead.stats(),
    { prepared: 2, committed: 2, stale: 0, unpreparable: 0, held: 0 },
    'the first job commits every prepared firing due by then',
  )
  t.equal(await ctx.system.timers.fire((await timerOf(b)).id), 'fired', "the other timer's own job finds it fired by this process")
  t.equal(await ctx.system.timers.fire((await timerOf(b)).id), 'skipped', 'a redelivered job does nothing')

  for (const d of [a, b]) {
    const timer = await timerOf(d)
    t.equal(timer.status, 'fired')
    t.equal(
      new Date(timer.fired_at).toISOString(),
      vn('2026-11-23T10:00:00.250').toISOString(),
      'fired_at is the commit, not the preparation',
    )
    const tasks = await ctx.db('tasks').where({ dossier_id: d })
    t.same(
      tasks.map((x) => [x.activity_id, x.status, x.candidate_groups]),
      [['After', 'open', ['one-stop']]],
    )
    t.equal(new Date(tasks[0].created_at).toISOString(), vn('2026-11-23T10:00').toISOString(), 'the step ran as of the due instant')
    const history = (await ctx.db('history').where({ dossier_id: d }).orderBy('id')).map((h) => h.action)
    t.same(history.slice(-2), ['timer.fired', 'task.created'])
    t.equal(await count(ctx, 'history', { dossier_id: d, action: 'timer.fired' }), 1, 'fired once (history)')
  }
  t.equal((await ctx.db('process_instances').where({ dossier_id: a }).first()).version, versionBefore + 1, 'one step saved')

  // The saved state is the engine's real state: recovered from Postgres (no engine in memory), the process runs on to its end.
  ctx.system.engine.clear()
  for (const d of [a, b]) {
    const task = (await ctx.db('tasks').where({ dossier_id: d, status: 'open' }).first())!
    const done = await ctx.app.inject({ method: 'POST', url: `/api/tasks/${task.id}/complete`, headers: officer, payload: {} })
    t.equal(done.statusCode, 200, done.body)
    t.equal((await ctx.db('process_instances').where({ dossier_id: d }).first()).status, 'completed')
  }
})

t.test('a prepared firing whose instance changed after preparation fires live or not at all, never from the old state', async (t) => {
  const clock = manualClock(vn('2026-11-20T09:00'))
  const ctx = await testContext(t, { clock, env: { TIMER_LOOKAHEAD_MS: '10000' } })
  await ctx.deploy(fixture('timers.bpmn'))
  const officer = await auth(ctx, { roles: ['officer'], groups: ['one-stop', 'leaders'] })
  const [claimed, completed, untouched] = [
    await submit(ctx, officer, 'TimerDemo', 1),
    await submit(ctx, officer, 'TimerDemo', 2),
    await submit(ctx, officer, 'TimerDemo', 3),
  ]
  const escalation = async (d: string) => (await ctx.db('timers').where({ dossier_id: d, activity_id: 'Escalation' }).first())!
  const review = async (d: string) => (await ctx.db('tasks').where({ dossier_id: d, activity_id: 'Review' }).first())!

  clock.set(vn('2026-11-20T10:59:52'))
  t.equal(await ctx.system.timerLookahead.prepareComing(), 3, 'the three escalation timers (due 11:00) are prepared')

  // After preparation: an officer claims one dossier's Review task, and completes another's.
  t.equal(
    (await ctx.app.inject({ method: 'POST', url: `/api/tasks/${(await review(claimed)).id}/claim`, headers: officer })).statusCode,
    200,
  )
  t.equal(
    (await ctx.app.inject({ method: 'POST', url: `/api/tasks/${(await review(completed)).id}/complete`, headers: officer, payload: {} }))
      .statusCode,
    200,
  )
  t.equal((await escalation(completed)).status, 'cancelled', 'completing Review cancelled its timer')

  clock.set(vn('2026-11-20T11:00'))
  t.equal(await ctx.system.timers.fire((await escalation(untouched)).id), 'fired')
  t.same(
    ctx.system.timerLookahead.stats(),
    { prepared: 3, committed: 1, stale: 1, unpreparable: 0, held: 0 },
    'one committed as prepared, one stale (claimed), one no longer pending',
  )
  t.equal(await ctx.system.timers.fire((await escalation(claimed)).id), 'fired', 'the stale one fires live')
  t.equal(await ctx.system.timers.fire((await escalation(completed)).id), 'skipped', 'a cancelled timer never fires')

  for (const d of [claimed, untouched]) {
    t.same(
      (await ctx.db('tasks').where({ dossier_id: d }).orderBy('created_at')).map((x) => [x.activity_id, x.status]),
      [
        ['Review', 'cancelled'],
        ['Escalate', 'open'],
      ],
      'the interrupting timer cancelled Review and opened Escalate',
    )
    t.equal(await count(ctx, 'history', { dossier_id: d, action: 'timer.fired' }), 1)
    t.equal(
      (await ctx.db('timers').where({ dossier_id: d, activity_id: 'Reminder' }).first()).status,
      'cancelled',
      'the reminder died with its task',
    )
  }
  t.equal(
    await count(ctx, 'history', { dossier_id: completed, action: 'timer.fired' }),
    0,
    'the completed dossier was never stepped by the prepared firing',
  )
  t.equal(
    (await ctx.db('process_instances').where({ dossier_id: completed }).first()).status,
    'completed',
    'it went on from the completion to its end',
  )
})

t.test('a burst: every prepared firing is committed once however many jobs arrive at once', async (t) => {
  const clock = manualClock(vn('2026-11-23T09:00'))
  const ctx = await testContext(t, { clock, env: { TIMER_LOOKAHEAD_MS: '10000' } })
  await ctx.deploy(fixture('wait-timer.bpmn'))
  const officer = await auth(ctx, { roles: ['officer'], groups: ['one-stop'] })
  const n = 30
  for (let i = 0; i < n; i++) await submit(ctx, officer, 'WaitDemo', i)
  clock.set(vn('2026-11-23T09:59:58'))
  t.equal(await ctx.system.timerLookahead.prepareComing(), n)
  clock.set(vn('2026-11-23T10:00:01'))
  const ids = (await ctx.db('timers').select('id')).map((r) => r.id as string)
  // Every job delivered twice, all at once.
  const outcomes = await Promise.all([...ids, ...ids].map((id) => ctx.system.timers.fire(id)))
  t.equal(outcomes.filter((o) => o === 'fired').length, n, 'each timer fired once')
  t.equal(outcomes.filter((o) => o === 'skipped').length, n, 'each duplicate did nothing')
  t.equal(ctx.system.timerLookahead.stats().committed, n, 'all of them through the prepared path')
  t.equal(await count(ctx, 'history', { action: 'timer.fired' }), n)
  t.equal(await count(ctx, 'tasks', { status: 'open', activity_id: 'After' }), n)
  t.equal(await count(ctx, 'timers', { status: 'fired' }), n)
})
