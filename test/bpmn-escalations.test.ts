import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { FIXTURES, type Teardown } from './helpers/context.ts'
import { activityIds, bpmnWorld, completeActivity, submitDossier, type BpmnWorld } from './helpers/bpmn-world.ts'

/**
 * Escalations (báo cáo vượt cấp) thrown inside an embedded sub-process, as Camunda 7 runs them: an
 * intermediate throw event caught by a non-interrupting boundary on the sub-process (both paths go
 * on), an escalation end event caught by an interrupting one (the sub-process ends, its boundary
 * path runs).
 */
const diagram = fs.readFileSync(path.join(FIXTURES, 'bpmn', 'escalation-subprocess.bpmn'), 'utf8')

type World = BpmnWorld
const world = (t: Teardown) => bpmnWorld(t, diagram)
const submit = async (w: World) => (await submitDossier(w, 'EscalationDemo', { name: 'Trần Văn Nam', idNumber: '001190012345' })).id
const ids = activityIds
const complete = completeActivity

t.test('an escalation thrown inside a sub-process is caught by a non-interrupting boundary: both paths continue', async (t) => {
  const w = await world(t)
  const d = await submit(w)
  t.same(
    ids((await complete(w, d, 'Review', { outcome: 'late' })).nextTasks),
    ['Finish', 'InformLeader'],
    'the sub-process goes on beside the boundary path',
  )
  t.same(ids((await complete(w, d, 'Finish')).nextTasks), ['InformLeader', 'Sign'], 'the sub-process completes normally')
  await complete(w, d, 'InformLeader')
  t.equal((await complete(w, d, 'Sign')).processEnded, true)
})

t.test(
  'an escalation end event inside a sub-process is caught by an interrupting boundary: the boundary path replaces the normal one',
  async (t) => {
    const w = await world(t)
    const d = await submit(w)
    t.same(ids((await complete(w, d, 'Review', { outcome: 'stop' })).nextTasks), ['Stopped'])
    t.equal((await complete(w, d, 'Stopped')).processEnded, true)
    const rows = await w.ctx.db('tasks').where({ dossier_id: d })
    t.notOk(
      rows.some((x) => x.activity_id === 'Sign'),
      'the normal path after the sub-process was never taken',
    )
  },
)

t.test('deploy refuses an escalation catch without escalationRef (it would never fire)', async (t) => {
  const w = await world(t)
  const xml = diagram
    .replace('id="Defs_Escalation"', 'id="Defs_Escalation2"')
    .replace('process id="EscalationDemo"', 'process id="EscalationDemo2"')
    .replace(
      '<bpmn:escalationEventDefinition escalationRef="Esc_Late"/></bpmn:boundaryEvent>',
      '<bpmn:escalationEventDefinition/></bpmn:boundaryEvent>',
    )
  const r = await w.ctx.deploy(xml)
  t.equal(r.status, 422)
  t.ok(
    r.body.error.details.findings.some(
      (f: { code: string; elementId: string }) => f.code === 'ESCALATION_REF_MISSING' && f.elementId === 'LateCaught',
    ),
  )
})

const eventSub = fs.readFileSync(path.join(FIXTURES, 'bpmn', 'escalation-event-subprocess.bpmn'), 'utf8')
async function eventSubWorld(t: Teardown, xml: string): Promise<World & { dossier: string }> {
  const w = await bpmnWorld(t, xml)
  return { ...w, dossier: (await submitDossier(w, 'EscalationSubDemo', { name: 'Trần Văn Nam', idNumber: '001190012345' })).id }
}

t.test('a non-interrupting escalation event sub-process starts beside the sub-process that escalated', async (t) => {
  const w = await eventSubWorld(t, eventSub)
  t.same(ids((await complete(w, w.dossier, 'Review')).nextTasks), ['Finish', 'InformLeader'])
  t.same(ids((await complete(w, w.dossier, 'Finish')).nextTasks), ['InformLeader', 'Sign'])
  await complete(w, w.dossier, 'InformLeader')
  t.equal((await complete(w, w.dossier, 'Sign')).processEnded, true)
})

t.test('an interrupting escalation event sub-process cancels the rest of the process', async (t) => {
  const w = await eventSubWorld(t, eventSub.replace('isInterrupting="false"', 'isInterrupting="true"'))
  t.same(ids((await complete(w, w.dossier, 'Review')).nextTasks), ['InformLeader'])
  t.equal((await complete(w, w.dossier, 'InformLeader')).processEnded, true)
  t.notOk(
    (await w.ctx.db('tasks').where({ dossier_id: w.dossier })).some((x) => x.activity_id === 'Finish'),
    'the sub-process went no further',
  )
})

const fromTask = fs.readFileSync(path.join(FIXTURES, 'bpmn', 'escalation-task.bpmn'), 'utf8')
async function taskWorld(t: Teardown): Promise<World & { dossier: string }> {
  const w = await bpmnWorld(t, fromTask)
  return { ...w, dossier: (await submitDossier(w, 'EscalationTaskDemo', { name: 'Trần Văn Nam', idNumber: '001190012345' })).id }
}
const reviewTask = async (w: World & { dossier: string }) =>
  (await w.ctx.db('tasks').where({ dossier_id: w.dossier, activity_id: 'Review' }).first()) as { id: string; status: string }

t.test('bpmn-escalation from a task, caught by a non-interrupting boundary on it: both paths continue, the task stays open', async (t) => {
  const w = await taskWorld(t)
  const review = await reviewTask(w)
  const r = await w.officer.post(`/api/tasks/${review.id}/bpmn-escalation`, { escalationCode: 'LATE', variables: { lateDays: 3 } })
  t.equal(r.status, 200, JSON.stringify(r.body))
  t.same(ids(r.body.nextTasks), ['InformLeader', 'Review'], 'the boundary path starts beside the task')
  t.equal((await reviewTask(w)).status, 'open', 'the task that escalated is still open, the same row')
  t.equal((await reviewTask(w)).id, review.id)
  const instance = await w.ctx.db('process_instances').where({ dossier_id: w.dossier }).first()
  t.match(JSON.stringify(instance.state), /"lateDays":3/, 'the variables are set')
  t.equal((await w.ctx.db('history').where({ dossier_id: w.dossier, action: 'task.bpmn-escalation' })).length, 1, 'one history line')
  t.same(ids((await complete(w, w.dossier, 'Review')).nextTasks), ['InformLeader'], 'the sub-process waits for the escalation path')
  t.same(ids((await complete(w, w.dossier, 'InformLeader')).nextTasks), ['Sign'])
  t.equal((await complete(w, w.dossier, 'Sign')).processEnded, true)
})

t.test('bpmn-escalation caught by an interrupting boundary on the enclosing sub-process cancels the task', async (t) => {
  const w = await taskWorld(t)
  const r = await w.officer.post(`/api/tasks/${(await reviewTask(w)).id}/bpmn-escalation`, { escalationCode: 'STOP' })
  t.equal(r.status, 200, JSON.stringify(r.body))
  t.same(ids(r.body.nextTasks), ['Stopped'])
  t.equal((await reviewTask(w)).status, 'cancelled')
})

t.test('bpmn-escalation nothing catches: 422 ESCALATION_NOT_CAUGHT and nothing changes', async (t) => {
  const w = await taskWorld(t)
  const before = await w.ctx.db('tasks').where({ dossier_id: w.dossier }).orderBy('id')
  const instance = await w.ctx.db('process_instances').where({ dossier_id: w.dossier }).first()
  for (const code of ['OTHER', 'NO_SUCH_CODE']) {
    const r = await w.officer.post(`/api/tasks/${(await reviewTask(w)).id}/bpmn-escalation`, { escalationCode: code })
    t.equal(r.status, 422)
    t.equal(r.body.error.code, 'ESCALATION_NOT_CAUGHT', code)
  }
  t.same(await w.ctx.db('tasks').where({ dossier_id: w.dossier }).orderBy('id'), before, 'the task rows are unchanged')
  t.same(await w.ctx.db('process_instances').where({ dossier_id: w.dossier }).first(), instance, 'the instance is unchanged')
  t.equal((await w.ctx.db('history').where({ dossier_id: w.dossier, action: 'task.bpmn-escalation' })).length, 0)
})
