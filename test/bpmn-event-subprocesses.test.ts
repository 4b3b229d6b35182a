import t from 'tap'
import { fixture } from './helpers/context.ts'
import {
  activityIds,
  bpmnWorld,
  completeActivity,
  openTask,
  openTasks,
  submitAtCounter,
  submitDossier,
  type BpmnWorld,
} from './helpers/bpmn-world.ts'

/**
 * Event sub-processes (quy trình con sự kiện) as Camunda 7 starts them, over real diagrams: a BPMN
 * error thrown from a task over the API (POST /api/tasks/:id/bpmn-error) is caught by the nearest
 * error event sub-process — the one inside the enclosing sub-process before the process's own.
 */
const GROUPS = ['specialists', 'leaders']
const errors = fixture('bpmn/error-event-subprocess.bpmn')

const throwFrom = async (w: BpmnWorld, dossierId: string, activityId: string, errorCode: string) =>
  w.officer.post(`/api/tasks/${(await openTask(w, dossierId, activityId)).id}/bpmn-error`, { errorCode, variables: { reason: errorCode } })

t.test('an API-raised bpmn-error is caught by the error event sub-process of the enclosing sub-process (the nearest wins)', async (t) => {
  const w = await bpmnWorld(t, errors, { groups: GROUPS })
  const d = await submitDossier(w, 'ErrorEventSubDemo')
  t.same(activityIds(d.tasks), ['Inspect'])
  const r = await throwFrom(w, d.id, 'Inspect', 'FAKE_DOCS')
  t.equal(r.status, 200, JSON.stringify(r.body))
  t.same(activityIds(r.body.nextTasks), ['Verify'], "the sub-process's own event sub-process, not the process's")
  const inspect = await w.ctx.db('tasks').where({ dossier_id: d.id, activity_id: 'Inspect' }).first()
  t.not(inspect.status, 'open', 'the task that threw is no longer open')
  const next = await completeActivity(w, d.id, 'Verify')
  t.same(activityIds(next.nextTasks), ['Sign'], 'the sub-process ends with its event sub-process and the process goes on after it')
  t.equal((await completeActivity(w, d.id, 'Sign')).processEnded, true)
  t.notOk(
    (await w.ctx.db('tasks').where({ dossier_id: d.id })).some((x) => x.activity_id === 'Prosecute'),
    'the outer handler never ran',
  )
})

t.test('an API-raised bpmn-error nothing inside catches reaches the error event sub-process of the process', async (t) => {
  const w = await bpmnWorld(t, errors, { groups: GROUPS })
  const d = await submitDossier(w, 'ErrorEventSubDemo')
  const r = await throwFrom(w, d.id, 'Inspect', 'FRAUD')
  t.equal(r.status, 200, JSON.stringify(r.body))
  t.same(activityIds(r.body.nextTasks), ['Report'], 'the error event sub-process of the process')
  t.same(activityIds(await openTasks(w, d.id)), ['Report'], 'everything else is cancelled (interrupting)')
  t.equal((await completeActivity(w, d.id, 'Report')).processEnded, true, 'the process ends with its event sub-process')
  t.notOk(
    (await w.ctx.db('tasks').where({ dossier_id: d.id })).some((x) => x.activity_id === 'Sign'),
    'the normal path was never taken',
  )
})

const timers = fixture('bpmn/timer-event-subprocess.bpmn')
const vn = (s: string) => new Date(`${s}+07:00`)
const local = (d: Date | string) => new Date(new Date(d).getTime() + 7 * 3600_000).toISOString().slice(0, 16).replace('T', ' ')
const pendingTimers = async (w: BpmnWorld, dossierId: string) =>
  (await w.ctx.db('timers').where({ dossier_id: dossierId, status: 'pending' }).orderBy('due_at')).map(
    (x) => `${x.activity_id}@${local(x.due_at)}`,
  )
const reminders = async (w: BpmnWorld, dossierId: string) => {
  const inst = await w.ctx.db('process_instances').where({ dossier_id: dossierId }).first()
  return inst.state.definitions[0].execution.processes[0].environment.variables.reminders
}
/** Moves the injected clock to `at` (Vietnam time, Monday 23 Nov 2026) and fires what is due: how many fired. */
const at = async (w: BpmnWorld, hhmm: string) => {
  w.clock.set(vn(`2026-11-23T${hhmm}`))
  return w.ctx.system.timers.fireDue()
}

t.test(
  'timer event sub-processes of the process: a non-interrupting R3/PT30M cycle fires 3 times, an interrupting PT2H one cancels the task',
  async (t) => {
    const w = await bpmnWorld(t, timers, { now: '2026-11-23T01:00:00Z', groups: GROUPS })
    const d = await submitAtCounter(w.officer, 'TimerEventSubDemo', { reminders: 0 })
    t.same(activityIds(d.tasks), ['Review'])
    t.same(
      await pendingTimers(w, d.dossier.id),
      ['EveryHalfHour@2026-11-23 08:30', 'TwoHours@2026-11-23 10:00'],
      'both start events wait on durable timers',
    )
    const fired: string[] = []
    for (const hhmm of ['08:29', '08:30', '09:00', '09:30', '09:45']) {
      w.ctx.system.engine.clear() // each firing recovers the instance from Postgres, as after a restart
      if (await at(w, hhmm)) fired.push(hhmm)
    }
    t.same(fired, ['08:30', '09:00', '09:30'], 'the reminder fires at each repetition, three times, never early')
    t.equal(await reminders(w, d.dossier.id), 3, 'the event sub-process ran three times')
    t.same(await pendingTimers(w, d.dossier.id), ['TwoHours@2026-11-23 10:00'], 'no fourth repetition')
    t.same(activityIds(await openTasks(w, d.dossier.id)), ['Review'], 'non-interrupting: the task is still open')
    t.equal(await at(w, '09:59'), 0)
    t.equal(await at(w, '10:00'), 1, 'the interrupting timer fires after its duration')
    t.same(activityIds(await openTasks(w, d.dossier.id)), ['Escalate'], 'the event sub-process path is taken')
    const review = await w.ctx.db('tasks').where({ dossier_id: d.dossier.id, activity_id: 'Review' }).first()
    t.equal(review.status, 'cancelled', 'the interrupted task is cancelled')
    t.equal((await completeActivity(w, d.dossier.id, 'Escalate')).processEnded, true, 'the process ends with its event sub-process')
    t.same(await pendingTimers(w, d.dossier.id), [], 'no timer left')
  },
)

t.test(
  'a timer event sub-process inside an embedded sub-process: it fires inside it, or is cancelled when the sub-process ends',
  async (t) => {
    const w = await bpmnWorld(t, timers, { now: '2026-11-23T01:00:00Z', groups: GROUPS })
    const early = await submitAtCounter(w.officer, 'TimerEventSubDemo', { reminders: 0 })
    await completeActivity(w, early.dossier.id, 'Review')
    t.ok((await pendingTimers(w, early.dossier.id)).includes('InspectionHour@2026-11-23 09:00'), 'armed when the sub-process starts')
    const next = await completeActivity(w, early.dossier.id, 'Inspect')
    t.same(activityIds(next.nextTasks), ['Sign'], 'the sub-process ended normally')
    t.notOk(
      (await pendingTimers(w, early.dossier.id)).some((x) => x.startsWith('InspectionHour')),
      'its timer is cancelled with it',
    )
    const row = await w.ctx.db('timers').where({ dossier_id: early.dossier.id, activity_id: 'InspectionHour' }).first()
    t.not(row.status, 'pending')
    t.equal((await completeActivity(w, early.dossier.id, 'Sign')).processEnded, true, 'the process ends with its timers still waiting')
    t.same(await pendingTimers(w, early.dossier.id), [], 'the timers of its event sub-processes are cancelled when it ends')

    const late = await submitAtCounter(w.officer, 'TimerEventSubDemo', { reminders: 0 })
    await completeActivity(w, late.dossier.id, 'Review')
    await at(w, '08:30')
    t.ok(await at(w, '09:00'), 'the reminder of the process and the timer of the sub-process come due together')
    t.equal(await reminders(w, late.dossier.id), 2, 'the reminder fired')
    t.same(
      activityIds(await openTasks(w, late.dossier.id)),
      ['DeskReview'],
      'the interrupting event sub-process inside: the inspection is cancelled',
    )
    const after = await completeActivity(w, late.dossier.id, 'DeskReview')
    t.same(activityIds(after.nextTasks), ['Sign'], 'the sub-process ends with its event sub-process, the process goes on')
  },
)

const nested = fixture('bpmn/event-subprocess-nested.bpmn')

t.test('a signal event sub-process inside a sub-process: reached only while the sub-process runs, non-interrupting', async (t) => {
  const w = await bpmnWorld(t, nested, { groups: GROUPS })
  const d = await submitDossier(w, 'EspNestedDemo')
  const early = await w.officer.post('/api/signals', { name: 'RegulationChanged' })
  t.same(early.body, { delivered: 0 }, 'the sub-process has not started: nothing listens yet')
  await completeActivity(w, d.id, 'Receive')
  const r = await w.officer.post('/api/signals', { name: 'RegulationChanged', variables: { regulation: 'NĐ 168/2025' } })
  t.equal(r.status, 200, JSON.stringify(r.body))
  t.same(r.body, { delivered: 1 })
  t.same(activityIds(await openTasks(w, d.id)), ['Inspect', 'Recheck'], 'the event sub-process runs beside the inspection')
  await completeActivity(w, d.id, 'Recheck')
  const next = await completeActivity(w, d.id, 'Inspect')
  t.same(activityIds(next.nextTasks), ['Sign'], 'the sub-process ends once both are done')
  t.same((await w.officer.post('/api/signals', { name: 'RegulationChanged' })).body, { delivered: 0 }, 'the sub-process has ended')
})

t.test(
  'a message event sub-process inside a sub-process: interrupting, it replaces the work inside and the process goes on after',
  async (t) => {
    const w = await bpmnWorld(t, nested, { groups: GROUPS })
    const d = await submitDossier(w, 'EspNestedDemo')
    const early = await w.officer.post('/api/messages', { messageName: 'SiteClosed', businessKey: d.code })
    t.equal(early.status, 404, 'the sub-process has not started: nothing waits for the message')
    await completeActivity(w, d.id, 'Receive')
    const r = await w.officer.post('/api/messages', { messageName: 'SiteClosed', businessKey: d.code })
    t.equal(r.status, 200, JSON.stringify(r.body))
    t.same(activityIds(await openTasks(w, d.id)), ['DeskCheck'], 'only the event sub-process runs in the sub-process')
    const inspect = await w.ctx.db('tasks').where({ dossier_id: d.id, activity_id: 'Inspect' }).first()
    t.equal(inspect.status, 'cancelled', 'the inspection is cancelled')
    const next = await completeActivity(w, d.id, 'DeskCheck')
    t.same(activityIds(next.nextTasks), ['Sign'], 'the sub-process ends with its event sub-process, the process goes on')
    t.equal((await completeActivity(w, d.id, 'Sign')).processEnded, true)
  },
)
