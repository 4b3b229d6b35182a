import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { FIXTURES, type Teardown } from './helpers/context.ts'
import { activityIds, bpmnWorld, completeActivity, openTasks, submitDossier, type BpmnWorld } from './helpers/bpmn-world.ts'

/**
 * Embedded sub-processes (quy trình con nhúng), nested two deep, as Camunda 7 runs them: every user
 * task inside is its own task row, completing one moves only its token, an error end event inside
 * is caught by the error boundary of its sub-process (open tasks inside cancelled), and boundary
 * timers on a sub-process (interrupting and not) fire from their durable rows.
 */
const MON_0900 = '2026-11-23T02:00:00Z'
const diagram = fs.readFileSync(path.join(FIXTURES, 'bpmn', 'nested-subprocess.bpmn'), 'utf8')

type World = BpmnWorld
const world = (t: Teardown) => bpmnWorld(t, diagram, { now: MON_0900, groups: ['one-stop', 'specialists', 'surveyors', 'leaders'] })
const submit = (w: World) => submitDossier(w, 'NestedDemo')
const open = openTasks
const ids = activityIds
const complete = completeActivity

t.test(
  'tasks inside nested sub-processes are task rows; each completion moves its own token; the normal path leaves both sub-processes',
  async (t) => {
    const w = await world(t)
    const d = await submit(w)
    t.same(ids(d.tasks), ['Prepare'], 'the first task inside the outer sub-process is a row')
    const r = await complete(w, d.id, 'Prepare')
    t.same(ids(r.nextTasks), ['Inspect', 'Measure'], 'both parallel tasks of the nested sub-process are rows')
    const rows = await w.ctx.db('tasks').where({ dossier_id: d.id })
    t.equal(new Set(rows.map((x) => x.execution_id)).size, rows.length, 'each with its own execution id')
    t.same(ids((await complete(w, d.id, 'Measure')).nextTasks), ['Inspect'], 'completing one leaves the other waiting')
    t.same(
      ids((await complete(w, d.id, 'Inspect', { violation: false })).nextTasks),
      ['Sign'],
      'the nested and the outer sub-process complete: the process goes on',
    )
    t.equal(
      (await w.ctx.db('timers').where({ dossier_id: d.id, status: 'pending' })).length,
      0,
      'the boundary timers of the finished sub-process are cancelled',
    )
    t.equal((await complete(w, d.id, 'Sign')).processEnded, true)
  },
)

t.test(
  'an error end event in the nested sub-process is caught by its error boundary: the tasks still open inside are cancelled and the boundary path runs',
  async (t) => {
    const w = await world(t)
    const d = await submit(w)
    await complete(w, d.id, 'Prepare')
    const r = await complete(w, d.id, 'Inspect', { violation: true })
    t.same(ids(r.nextTasks), ['Rework'], 'the error boundary path, inside the outer sub-process')
    const measure = await w.ctx.db('tasks').where({ dossier_id: d.id, activity_id: 'Measure' }).first()
    t.equal(measure.status, 'cancelled', 'the parallel task inside the interrupted sub-process is cancelled')
    t.same(ids((await complete(w, d.id, 'Rework')).nextTasks), ['Sign'], 'after the rework the outer sub-process completes normally')
    t.equal((await complete(w, d.id, 'Sign')).processEnded, true)
    const reached = (await w.ctx.db('tasks').where({ dossier_id: d.id }).orderBy('created_at')).map((x) => x.activity_id)
    t.notOk(reached.includes('Escalate'), 'no other path was taken')
  },
)

t.test(
  'boundary timers on a sub-process: the non-interrupting one adds a task beside it, the interrupting one cancels everything inside',
  async (t) => {
    const w = await world(t)
    const d = await submit(w)
    const timers = await w.ctx.db('timers').where({ dossier_id: d.id }).orderBy('due_at')
    t.same(
      timers.map((x) => [x.activity_id, x.status]),
      [
        ['Reminder', 'pending'],
        ['Overdue', 'pending'],
      ],
      'both boundary timers of the sub-process are durable rows',
    )
    await complete(w, d.id, 'Prepare')
    w.clock.set('2026-11-23T03:00:00Z')
    t.equal(await w.ctx.system.timers.fireDue(), 1)
    t.same(ids(await open(w, d.id)), ['Inspect', 'Measure', 'Remind'], 'the reminder opens beside the running sub-process')
    await complete(w, d.id, 'Measure')
    w.ctx.system.engine.clear() // a restart: the next step recovers the nested state from Postgres
    w.clock.set('2026-11-23T06:00:00Z')
    t.equal(await w.ctx.system.timers.fireDue(), 1)
    t.same(ids(await open(w, d.id)), ['Escalate', 'Remind'], 'the overdue timer interrupted the sub-process')
    t.equal(
      (await w.ctx.db('tasks').where({ dossier_id: d.id, activity_id: 'Inspect' }).first()).status,
      'cancelled',
      'the task inside the nested sub-process is cancelled',
    )
    await complete(w, d.id, 'Remind')
    t.same(ids((await complete(w, d.id, 'Escalate')).nextTasks), ['Sign'])
    t.equal((await complete(w, d.id, 'Sign')).processEnded, true)
  },
)
