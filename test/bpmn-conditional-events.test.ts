import t from 'tap'
import { fixture } from './helpers/context.ts'
import { caller } from './helpers/api.ts'
import {
  activityIds,
  bpmnWorld,
  completeActivity,
  openTasks,
  submitAtCounter,
  submitDossier,
  type BpmnWorld,
} from './helpers/bpmn-world.ts'

/**
 * Conditional events (Camunda 7) over real diagrams: an intermediate conditional catch event passes
 * at once when its condition holds and otherwise waits until a variable change makes it true;
 * conditional boundary events (interrupting, non-interrupting, restricted by camunda:variableName)
 * and a conditional event sub-process fire on POST /api/process-instances/:id/variables.
 */
const waitDiagram = fixture('bpmn/conditional-wait.bpmn')
const boundaryDiagram = fixture('bpmn/conditional-boundary.bpmn')

const open = async (w: BpmnWorld, dossierId: string) => activityIds(await openTasks(w, dossierId))
const instanceOf = async (w: BpmnWorld, dossierId: string): Promise<string> =>
  (await w.ctx.db('process_instances').where({ dossier_id: dossierId }).first()).id
const setVariables = async (w: BpmnWorld, dossierId: string, body: Record<string, unknown>) =>
  w.officer.post(`/api/process-instances/${await instanceOf(w, dossierId)}/variables`, body)

t.test('an intermediate conditional event passes at once when its condition already holds', async (t) => {
  const w = await bpmnWorld(t, waitDiagram)
  const d = await submitDossier(w, 'ConditionalWaitDemo')
  t.same(await open(w, d.id), ['Prepare', 'Verify'])
  const done = await completeActivity(w, d.id, 'Prepare', { ready: true })
  t.same(activityIds(done.nextTasks.filter((x) => x.activityId === 'Sign')), ['Sign'], 'the signing task follows at once')
  t.same(await open(w, d.id), ['Sign', 'Verify'])
})

t.test('an intermediate conditional event waits until a task completion sets the variable', async (t) => {
  const w = await bpmnWorld(t, waitDiagram)
  const d = await submitDossier(w, 'ConditionalWaitDemo')
  await completeActivity(w, d.id, 'Prepare', { ready: false })
  t.same(await open(w, d.id), ['Verify'], 'the condition does not hold: the branch waits at the event')
  await completeActivity(w, d.id, 'Verify', { checkedBy: 'can-bo' })
  t.same(await open(w, d.id), [], 'another variable changed: still waiting')
  t.equal((await w.ctx.db('process_instances').where({ dossier_id: d.id }).first()).status, 'running')
  const r = await setVariables(w, d.id, { modifications: { ready: { value: true, type: 'Boolean' } } })
  t.equal(r.status, 200)
  t.same(
    r.body.openTasks.map((x: { activityId: string }) => x.activityId),
    ['Sign'],
  )
  t.same(await open(w, d.id), ['Sign'], 'the variable became true: the process went on')
})

t.test('a completion in a parallel branch that sets the variable releases the waiting event', async (t) => {
  const w = await bpmnWorld(t, waitDiagram)
  const d = await submitDossier(w, 'ConditionalWaitDemo')
  await completeActivity(w, d.id, 'Prepare')
  t.same(await open(w, d.id), ['Verify'])
  await completeActivity(w, d.id, 'Verify', { ready: true })
  t.same(await open(w, d.id), ['Sign'], 'the completion set ready: the event passed in the same step')
})

t.test('a service task whose result sets the variable releases the waiting event', async (t) => {
  const w = await bpmnWorld(t, waitDiagram)
  const d = await submitDossier(w, 'ConditionalWaitDemo')
  await completeActivity(w, d.id, 'Prepare')
  await completeActivity(w, d.id, 'Verify', { score: 7 })
  t.same(await open(w, d.id), ['Sign'], 'the service task set ready from the score: the event passed')
})

t.test('a conditional event sub-process whose condition holds when the process starts runs at once', async (t) => {
  const w = await bpmnWorld(t, boundaryDiagram)
  const { dossier } = await submitAtCounter(w.officer, 'ConditionalBoundaryDemo', { cancelRequested: true })
  t.same(await open(w, dossier.id), ['ConfirmCancel'], 'the review was cancelled before anyone saw it')
})

t.test('an interrupting conditional boundary fired by POST /variables cancels the task and takes its path', async (t) => {
  const w = await bpmnWorld(t, boundaryDiagram)
  const d = await submitDossier(w, 'ConditionalBoundaryDemo')
  const review = (await openTasks(w, d.id))[0]!
  const r = await setVariables(w, d.id, { modifications: { urgent: { value: true } } })
  t.equal(r.status, 200)
  t.same(await open(w, d.id), ['FastTrack'], 'the boundary path was taken')
  const row = await w.ctx.db('tasks').where({ id: review.id }).first()
  t.not(row.status, 'open', 'the review task was cancelled')
  const done = await w.officer.post(`/api/tasks/${review.id}/complete`, { variables: {} })
  t.equal(done.status, 409, 'the cancelled review can no longer be completed')
  const history = await w.ctx.db('history').where({ dossier_id: d.id, action: 'process.variables_modified' })
  t.equal(history.length, 1, 'one history line for the change')
  t.same(history[0].details.modified, ['urgent'], 'it names the variables, not their values')
})

t.test('camunda:variableName: a change of another variable does not fire the event, even when its condition holds', async (t) => {
  const w = await bpmnWorld(t, boundaryDiagram)
  const d = await submitDossier(w, 'ConditionalBoundaryDemo')
  await setVariables(w, d.id, { modifications: { priority: { value: 9, type: 'Integer' } } })
  t.same(await open(w, d.id), ['Review'], 'priority > 5 holds, but the event listens to `urgent` only')
  await setVariables(w, d.id, { modifications: { urgent: { value: false } } })
  t.same(await open(w, d.id), ['FastTrack'], 'a change of `urgent` evaluates the condition, which holds')
})

t.test('a non-interrupting conditional boundary keeps the task and starts a second path', async (t) => {
  const w = await bpmnWorld(t, boundaryDiagram)
  const d = await submitDossier(w, 'ConditionalBoundaryDemo')
  const r = await setVariables(w, d.id, { modifications: { note: { value: 'Thiếu bản sao', type: 'String' } } })
  t.equal(r.status, 200)
  t.same(await open(w, d.id), ['ReadNote', 'Review'], 'the review stays open beside the new task')
  await completeActivity(w, d.id, 'ReadNote')
  t.same(await open(w, d.id), ['Review'])
  await setVariables(w, d.id, { modifications: { note: { value: 'Thiếu bản chính' } } })
  t.same(await open(w, d.id), ['ReadNote', 'Review'], 'it stays armed while the review runs: a later change fires it again')
  await completeActivity(w, d.id, 'Review')
  t.same(await open(w, d.id), ['ReadNote', 'Sign'], 'the review completed normally')
  await setVariables(w, d.id, { modifications: { note: { value: 'Sau khi xem xét' } } })
  t.same(await open(w, d.id), ['ReadNote', 'Sign'], 'with the review completed, its boundary no longer listens')
})

t.test('a conditional event sub-process interrupts the process when its condition becomes true', async (t) => {
  const w = await bpmnWorld(t, boundaryDiagram)
  const d = await submitDossier(w, 'ConditionalBoundaryDemo')
  await setVariables(w, d.id, { modifications: { cancelRequested: { value: false } } })
  t.same(await open(w, d.id), ['Review'], 'the condition does not hold')
  await setVariables(w, d.id, { modifications: { cancelRequested: { value: true } } })
  t.same(await open(w, d.id), ['ConfirmCancel'], 'the event sub-process started and cancelled the review')
  await completeActivity(w, d.id, 'ConfirmCancel')
  t.equal((await w.ctx.db('process_instances').where({ dossier_id: d.id }).first()).status, 'completed')
})

t.test('bad variable changes answer 400 with a code and change nothing', async (t) => {
  const w = await bpmnWorld(t, boundaryDiagram)
  const d = await submitDossier(w, 'ConditionalBoundaryDemo')
  const before = await w.ctx.db('process_instances').where({ dossier_id: d.id }).first()
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ modifications: { urgent: { value: 'yes', type: 'Boolean' } } }, 'VARIABLE_VALUE_INVALID'],
    [{ modifications: { priority: { value: 1.5, type: 'Integer' } } }, 'VARIABLE_VALUE_INVALID'],
    [{ modifications: { urgent: { value: true } }, deletions: ['urgent'] }, 'VARIABLE_VALUE_INVALID'],
    [{ modifications: { content: { value: 1 } } }, 'VARIABLE_VALUE_INVALID'],
    [{ modifications: { urgent: {} } }, 'VALIDATION_FAILED'],
    [{ modifications: { 'bad-name': { value: true } } }, 'VALIDATION_FAILED'],
    [{ modifications: { urgent: { value: true, type: 'Blob' } } }, 'VALIDATION_FAILED'],
    [{ deletions: ['ok', '1bad'] }, 'VALIDATION_FAILED'],
    [{ modifications: { urgent: { value: true } }, extra: 1 }, 'VALIDATION_FAILED'],
  ]
  for (const [body, code] of cases) {
    const r = await setVariables(w, d.id, body)
    t.equal(r.status, 400, JSON.stringify(body))
    t.equal(r.body.error.code, code, JSON.stringify(body))
  }
  t.same(await open(w, d.id), ['Review'], 'nothing fired')
  const after = await w.ctx.db('process_instances').where({ dossier_id: d.id }).first()
  t.equal(after.version, before.version, 'the instance was not written')
  t.equal((await w.ctx.db('history').where({ dossier_id: d.id, action: 'process.variables_modified' })).length, 0)
})

t.test('unknown or finished instances answer 404; another agency cannot reach the instance', async (t) => {
  const w = await bpmnWorld(t, boundaryDiagram)
  const d = await submitDossier(w, 'ConditionalBoundaryDemo')
  const unknown = await w.officer.post('/api/process-instances/00000000-0000-4000-8000-000000000000/variables', {
    modifications: { urgent: { value: true } },
  })
  t.equal(unknown.status, 404)
  t.equal(unknown.body.error.code, 'PROCESS_INSTANCE_NOT_FOUND')
  const other = await caller(w.ctx, { userId: 'khac', roles: ['officer'], groups: ['specialists'], agency: 'SO-KHAC' })
  const id = await instanceOf(w, d.id)
  const refused = await other.post(`/api/process-instances/${id}/variables`, { modifications: { urgent: { value: true } } })
  t.equal(refused.status, 404, 'another agency does not see the instance')
  t.same(await open(w, d.id), ['Review'])
  await setVariables(w, d.id, { modifications: { cancelRequested: { value: true } } })
  await completeActivity(w, d.id, 'ConfirmCancel')
  const finished = await setVariables(w, d.id, { modifications: { urgent: { value: true } } })
  t.equal(finished.status, 404, 'a finished instance')
  t.equal(finished.body.error.code, 'PROCESS_INSTANCE_NOT_FOUND')
})
