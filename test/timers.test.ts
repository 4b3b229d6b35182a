import t from 'tap'
import { manualClock } from '../src/clock.ts'
import { auth, fixture, testContext } from './helpers/context.ts'

const vn = (s: string) => new Date(`${s}+07:00`)
const local = (d: Date | string) => new Date(new Date(d).getTime() + 7 * 3600_000).toISOString().slice(0, 16).replace('T', ' ')

t.test('boundary timers are durable rows: none fires early, each fires once, working-day durations count working days', async (t) => {
  const clock = manualClock(vn('2026-11-20T09:00')) // a Friday
  const ctx = await testContext(t, { clock })
  t.equal((await ctx.deploy(fixture('timers.bpmn'))).status, 201)
  const officer = await auth(ctx, { roles: ['officer'], groups: ['one-stop', 'leaders'] })
  const s = await ctx.app.inject({
    method: 'POST',
    url: '/api/dossiers',
    headers: officer,
    payload: { procedureCode: 'TimerDemo', applicant: { name: 'A', idNumber: '001099001234' }, channel: 1, data: {} },
  })
  t.equal(s.statusCode, 201, s.body)
  const timers = await ctx.db('timers').orderBy('due_at')
  t.equal(timers.length, 2)
  t.same(
    timers.map((x) => [x.activity_id, local(x.due_at), x.status]),
    [
      ['Escalation', '2026-11-20 11:00', 'pending'],
      ['Reminder', '2026-11-23 09:00', 'pending'],
    ],
    'PT2H is clock time; P1D is one working day (Friday → Monday)',
  )
  const outbox = await ctx.db('outbox').where({ topic: 'timer.scheduled' })
  t.equal(outbox.length, 2, 'each timer has a job in the outbox, written in the same transaction')

  clock.set(vn('2026-11-20T10:59'))
  t.equal(await ctx.system.timers.fireDue(), 0, 'nothing fires early')
  t.equal(await ctx.system.timers.fire(timers[0].id), 'not-due', 'a job arriving early is refused')

  clock.set(vn('2026-11-20T11:00'))
  t.equal(await ctx.system.timers.fire(timers[0].id), 'fired')
  t.equal(await ctx.system.timers.fire(timers[0].id), 'skipped', 'a second job for the same timer does nothing')
  t.equal(await ctx.system.timers.fireDue(), 0)
  const open = await ctx.db('tasks').where({ dossier_id: s.json().dossier.id, status: 'open' })
  t.same(
    open.map((x) => x.activity_id),
    ['Escalate'],
    'the interrupting timer cancelled Review and opened Escalate',
  )
  t.equal((await ctx.db('timers').where({ activity_id: 'Reminder' }).first()).status, 'cancelled', 'the reminder died with its task')
  t.equal(Number((await ctx.db('history').where({ action: 'timer.fired' }).count('* as n'))[0]!.n), 1, 'fired once (history)')
  t.equal(
    await ctx
      .db('outbox')
      .where({ topic: 'timer.cancelled' })
      .count('* as n')
      .then((r) => Number(r[0]!.n)),
    1,
    'its job is cancelled through the outbox',
  )
})

t.test('a task completed before its timer cancels the timer; an intermediate timer resumes the flow', async (t) => {
  const clock = manualClock(vn('2026-11-23T09:00'))
  const ctx = await testContext(t, { clock })
  await ctx.deploy(fixture('timers.bpmn'))
  await ctx.deploy(fixture('wait-timer.bpmn'))
  const officer = await auth(ctx, { roles: ['officer'], groups: ['one-stop', 'leaders'] })
  const s = await ctx.app.inject({
    method: 'POST',
    url: '/api/dossiers',
    headers: officer,
    payload: { procedureCode: 'TimerDemo', applicant: { name: 'A', idNumber: '001099001234' }, channel: 1, data: {} },
  })
  await ctx.app.inject({ method: 'POST', url: `/api/tasks/${s.json().tasks[0].id}/complete`, headers: officer })
  t.same(
    (await ctx.db('timers').select('status')).map((x) => x.status),
    ['cancelled', 'cancelled'],
  )
  clock.set(vn('2026-12-31T09:00'))
  t.equal(await ctx.system.timers.fireDue(), 0, 'cancelled timers never fire')

  clock.set(vn('2026-11-23T09:00'))
  const w = await ctx.app.inject({
    method: 'POST',
    url: '/api/dossiers',
    headers: officer,
    payload: { procedureCode: 'WaitDemo', applicant: { name: 'B', idNumber: '001099001235' }, channel: 1, data: {} },
  })
  t.same(w.json().tasks, [], 'waiting on the timer, no task yet')
  clock.set(vn('2026-11-23T10:00'))
  t.equal(await ctx.system.timers.fireDue(), 1)
  t.same(
    (await ctx.db('tasks').where({ dossier_id: w.json().dossier.id, status: 'open' })).map((x) => x.activity_id),
    ['After'],
  )
})
