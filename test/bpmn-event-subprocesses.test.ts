import t from 'tap'
import { fixture } from './helpers/context.ts'
import { activityIds, bpmnWorld, completeActivity, openTask, openTasks, submitDossier, type BpmnWorld } from './helpers/bpmn-world.ts'

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
