import t from 'tap'
import { manualClock } from '../src/clock.ts'
import { auth, testContext, type Teardown, type TestContext } from './helpers/context.ts'

/**
 * A task completion racing its boundary timer: whichever came first in time wins, and the timer row
 * and the history say what happened (fired, or cancelled), never both, never the wrong one. A
 * completion that lost the race answers 409.
 */
const vn = (s: string) => new Date(`${s}+07:00`)

const diagram = (id: string, interrupting: boolean) => `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="D_${id}" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="${id}" isExecutable="true">
    <bpmn:startEvent id="Start" /><bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Review" />
    <bpmn:userTask id="Review" name="Xem xét" camunda:candidateGroups="one-stop" /><bpmn:sequenceFlow id="f2" sourceRef="Review" targetRef="End" />
    <bpmn:endEvent id="End" />
    <bpmn:boundaryEvent id="Late" attachedToRef="Review" cancelActivity="${interrupting}"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="Late" targetRef="Escalate" />
    <bpmn:userTask id="Escalate" name="Lãnh đạo xử lý hồ sơ quá hạn" camunda:candidateGroups="leaders" /><bpmn:sequenceFlow id="f4" sourceRef="Escalate" targetRef="EndLate" />
    <bpmn:endEvent id="EndLate" />
  </bpmn:process>
</bpmn:definitions>`

const count = async (ctx: TestContext, where: Record<string, unknown>) =>
  Number((await ctx.db('history').where(where).count('* as n'))[0]!.n)

async function world(t: Teardown, env: Record<string, string> = {}) {
  const clock = manualClock(vn('2026-11-23T09:00'))
  const ctx = await testContext(t, { clock, env })
  for (const [id, interrupting] of [
    ['RaceSoft', false],
    ['RaceHard', true],
  ] as const) {
    const r = await ctx.deploy(diagram(id, interrupting))
    if (r.status !== 201) throw new Error(JSON.stringify(r.body))
  }
  const officer = await auth(ctx, { roles: ['officer'], groups: ['one-stop', 'leaders'] })
  async function dossier(code: string) {
    clock.set(vn('2026-11-23T09:00'))
    const s = await ctx.app.inject({
      method: 'POST',
      url: '/api/dossiers',
      headers: officer,
      payload: { procedureCode: code, applicant: { name: 'A', idNumber: '001099001234' }, channel: 1, data: {} },
    })
    if (s.statusCode !== 201) throw new Error(s.body)
    const id = s.json().dossier.id as string
    const timer = (await ctx.db('timers').where({ dossier_id: id }).first())!
    return { id, task: s.json().tasks[0].id as string, timer: timer.id as string }
  }
  const complete = (task: string) => ctx.app.inject({ method: 'POST', url: `/api/tasks/${task}/complete`, headers: officer, payload: {} })
  /** What the records say about the race of dossier `d`. */
  async function record(d: { id: string; timer: string }) {
    const timer = (await ctx.db('timers').where({ id: d.timer }).first())!
    const tasks = await ctx.db('tasks').where({ dossier_id: d.id }).orderBy('created_at')
    return {
      timer: timer.status as string,
      fired: await count(ctx, { dossier_id: d.id, action: 'timer.fired' }),
      cancelled: await count(ctx, { dossier_id: d.id, action: 'timer.cancelled' }),
      escalation: tasks.filter((x) => x.activity_id === 'Escalate').length,
      review: tasks.find((x) => x.activity_id === 'Review')!.status as string,
    }
  }
  return { clock, ctx, dossier, complete, record }
}

t.test('non-interrupting timer: a completion after the due time finds the timer fired first (engine in memory or recovered)', async (t) => {
  const w = await world(t)
  for (const cached of [true, false]) {
    const d = await w.dossier('RaceSoft')
    if (!cached) w.ctx.system.engine.clear()
    w.clock.set(vn('2026-11-23T10:00:00.150')) // due at 10:00, its job not run yet
    const r = await w.complete(d.task)
    t.equal(r.statusCode, 200, r.body)
    t.match(r.json().nextTasks, [{ activityId: 'Escalate' }], "the timer's path was taken")
    t.same(
      await w.record(d),
      { timer: 'fired', fired: 1, cancelled: 0, escalation: 1, review: 'completed' },
      `timer recorded as fired (${cached ? 'cached engine' : 'recovered engine'})`,
    )
    t.equal(await w.ctx.system.timers.fire(d.timer), 'skipped', 'its late job does nothing')
    t.equal((await w.record(d)).fired, 1)
  }
})

t.test('non-interrupting timer: a completion before the due time cancels it, and its job then does nothing', async (t) => {
  const w = await world(t)
  const d = await w.dossier('RaceSoft')
  w.clock.set(vn('2026-11-23T09:59:59.999'))
  t.equal((await w.complete(d.task)).statusCode, 200)
  w.clock.set(vn('2026-11-23T10:00:00.100'))
  t.equal(await w.ctx.system.timers.fire(d.timer), 'skipped')
  t.same(await w.record(d), { timer: 'cancelled', fired: 0, cancelled: 1, escalation: 0, review: 'completed' })
})

t.test('interrupting timer: a completion after the due time lost the race and answers 409; the timer fires once', async (t) => {
  const w = await world(t)
  for (const cached of [true, false]) {
    const d = await w.dossier('RaceHard')
    if (!cached) w.ctx.system.engine.clear()
    w.clock.set(vn('2026-11-23T10:00:00.050'))
    const r = await w.complete(d.task)
    t.equal(r.statusCode, 409, r.body)
    t.equal(r.json().error.code, 'TASK_CANCELLED')
    t.equal(await w.ctx.system.timers.fire(d.timer), 'fired')
    t.same(await w.record(d), { timer: 'fired', fired: 1, cancelled: 0, escalation: 1, review: 'cancelled' })
    const again = await w.complete(d.task)
    t.equal(again.statusCode, 409, 'and again after the firing')
    t.equal(again.json().error.code, 'TASK_CANCELLED', 'the task was cancelled by the timer, not completed')
  }
})

t.test('timer look-ahead: a firing prepared ahead never overrides a completion that committed after the due time', async (t) => {
  const w = await world(t, { TIMER_LOOKAHEAD_MS: '10000' })
  const d = await w.dossier('RaceSoft')
  w.clock.set(vn('2026-11-23T09:59:55'))
  t.equal(await w.ctx.system.timerLookahead.prepareComing(), 1, 'prepared')
  w.clock.set(vn('2026-11-23T10:00:00.200'))
  t.equal((await w.complete(d.task)).statusCode, 200)
  t.equal(await w.ctx.system.timers.fire(d.timer), 'skipped', 'the prepared firing is stale, the live one finds the timer fired')
  t.same(await w.record(d), { timer: 'fired', fired: 1, cancelled: 0, escalation: 1, review: 'completed' })

  const h = await w.dossier('RaceHard')
  w.clock.set(vn('2026-11-23T09:59:55'))
  t.equal(await w.ctx.system.timerLookahead.prepareComing(), 1)
  w.clock.set(vn('2026-11-23T10:00:00.200'))
  t.equal((await w.complete(h.task)).statusCode, 409)
  t.equal(await w.ctx.system.timers.fire(h.timer), 'fired', 'the prepared firing commits')
  t.same(await w.record(h), { timer: 'fired', fired: 1, cancelled: 0, escalation: 1, review: 'cancelled' })
})

t.test('concurrent completion and timer job, repeated over real Postgres: the records always agree with what happened', async (t) => {
  const w = await world(t)
  // Offsets from the due time (10:00); a fixed list, so every run covers both sides of it.
  const offsets = [-5, -1, 0, 0, 1, 3, 10, 25, 50, 80, 120, 150, 200, 250, 300]
  const seen = { soft: { before: 0, after: 0 }, hard: { before: 0, after: 0 } }
  for (const code of ['RaceSoft', 'RaceHard'] as const) {
    for (const [i, ms] of offsets.entries()) {
      const d = await w.dossier(code)
      if (i % 2) w.ctx.system.engine.clear() // half of the completions recover the engine from Postgres
      w.clock.set(new Date(vn('2026-11-23T10:00').getTime() + ms))
      const [done, job] = await Promise.all([w.complete(d.task), w.ctx.system.timers.fire(d.timer)])
      const r = await w.record(d)
      const due = ms >= 0
      const label = `${code} at ${ms} ms: completion ${done.statusCode}, job ${job}, ${JSON.stringify(r)}`
      t.equal(r.fired + r.cancelled, 1, `${label}: the timer ended once, as one thing`)
      t.equal(r.timer, r.fired ? 'fired' : 'cancelled', `${label}: row and history agree`)
      t.equal(r.escalation, r.fired, `${label}: its path was taken exactly when it fired`)
      if (!due) {
        t.match(
          { status: done.statusCode, job, ...r },
          { status: 200, job: /^(not-due|skipped)$/, timer: 'cancelled', review: 'completed' },
          `${label}: before the due time the completion wins`,
        )
        seen[code === 'RaceSoft' ? 'soft' : 'hard'].before++
      } else if (code === 'RaceSoft') {
        t.match({ status: done.statusCode, ...r }, { status: 200, timer: 'fired', review: 'completed' }, `${label}: after it, both happen`)
        seen.soft.after++
      } else {
        t.equal(done.statusCode, 409, `${label}: after it, the completion lost`)
        t.equal(done.json().error.code, 'TASK_CANCELLED')
        t.match(r, { timer: 'fired', review: 'cancelled' }, label)
        seen.hard.after++
      }
    }
  }
  t.same(seen, { soft: { before: 2, after: 13 }, hard: { before: 2, after: 13 } })
})
