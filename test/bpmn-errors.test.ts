import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { FIXTURES, type Teardown } from './helpers/context.ts'
import { activityIds, bpmnWorld, completeActivity, openTask, openTasks, submitDossier, type BpmnWorld } from './helpers/bpmn-world.ts'

/**
 * BPMN errors as Camunda 7 runs them: POST /api/tasks/:id/bpmn-error ends the task by throwing the
 * error from it (variables set first), caught by a boundary error event on the task (matched by
 * code) or on an enclosing sub-process (whose open tasks are cancelled); an error end event in a
 * nested sub-process is caught two levels up by an error event sub-process; an error nobody catches
 * answers BPMN_ERROR_NOT_CAUGHT and changes nothing.
 */
const MON_0900 = '2026-11-23T02:00:00Z'
const diagram = fs.readFileSync(path.join(FIXTURES, 'bpmn', 'bpmn-error-task.bpmn'), 'utf8')

type World = BpmnWorld
const GROUPS = ['one-stop', 'specialists', 'surveyors', 'leaders']
const world = (t: Teardown) => bpmnWorld(t, diagram, { now: MON_0900, groups: GROUPS })
const submit = (w: World) => submitDossier(w, 'ErrorDemo')
const open = openTasks
const ids = activityIds
const taskOf = openTask
const complete = completeActivity

const throwFrom = async (w: World, dossierId: string, activityId: string, body: Record<string, unknown>) =>
  w.officer.post(`/api/tasks/${(await taskOf(w, dossierId, activityId)).id}/bpmn-error`, body)

t.test('bpmn-error on a user task is caught by its own error boundary: the boundary path runs and the variables are set', async (t) => {
  const w = await world(t)
  const d = await submit(w)
  const r = await throwFrom(w, d.id, 'Check', {
    errorCode: 'DOCS_MISSING',
    errorMessage: 'Thiếu giấy phép',
    variables: { missingCount: 2 },
  })
  t.equal(r.status, 200, JSON.stringify(r.body))
  t.same(ids(r.body.nextTasks), ['AskSupplement'], 'the boundary path, not the normal one')
  const check = await w.ctx.db('tasks').where({ dossier_id: d.id, activity_id: 'Check' }).first()
  t.not(check.status, 'open', 'the task that threw is no longer open')
  const instance = await w.ctx.db('process_instances').where({ dossier_id: d.id }).first()
  t.match(JSON.stringify(instance.state), /"missingCount":2/, 'the variables sent with the error are in the saved process variables')
  const history = await w.ctx.db('history').where({ dossier_id: d.id, action: 'task.bpmn-error' })
  t.equal(history.length, 1, 'one history line for the error')
  t.equal(history[0].details.errorCode, 'DOCS_MISSING')
  t.equal((await complete(w, d.id, 'AskSupplement')).processEnded, true)
})

t.test(
  'bpmn-error on a task inside a sub-process is caught by the boundary on the sub-process: the tasks inside are cancelled',
  async (t) => {
    const w = await world(t)
    const d = await submit(w)
    t.same(ids((await complete(w, d.id, 'Check')).nextTasks), ['Inspect', 'Measure'])
    const r = await throwFrom(w, d.id, 'Inspect', { errorCode: 'SITE_FAILED' })
    t.equal(r.status, 200, JSON.stringify(r.body))
    t.same(ids(r.body.nextTasks), ['Refuse'], 'the boundary path of the sub-process')
    const measure = await w.ctx.db('tasks').where({ dossier_id: d.id, activity_id: 'Measure' }).first()
    t.equal(measure.status, 'cancelled', 'the task still open in the nested sub-process is cancelled')
    t.equal((await complete(w, d.id, 'Refuse')).processEnded, true)
  },
)

t.test(
  'an error end event in a nested sub-process is caught two levels up by an interrupting error event sub-process: the rest of the process is cancelled',
  async (t) => {
    const w = await world(t)
    const d = await submit(w)
    await complete(w, d.id, 'Check')
    const r = await complete(w, d.id, 'Measure', { fraud: true })
    t.same(ids(r.nextTasks), ['Report'], 'the event sub-process of the process starts, and only it runs')
    const inspect = await w.ctx.db('tasks').where({ dossier_id: d.id, activity_id: 'Inspect' }).first()
    t.equal(inspect.status, 'cancelled', 'the interrupting event sub-process cancelled the task still open in the sub-process')
    t.equal((await complete(w, d.id, 'Report')).processEnded, true, 'the process ends with its event sub-process')
    t.notOk(
      (await w.ctx.db('tasks').where({ dossier_id: d.id })).some((x) => x.activity_id === 'Sign'),
      'the normal path was never taken',
    )
  },
)

t.test('a BPMN error no boundary catches: 422 BPMN_ERROR_NOT_CAUGHT and nothing changes', async (t) => {
  const w = await world(t)
  const d = await submit(w)
  const before = await w.ctx.db('tasks').where({ dossier_id: d.id }).orderBy('id')
  const historyBefore = await w.ctx.db('history').where({ dossier_id: d.id }).count({ n: '*' }).first()
  const r = await throwFrom(w, d.id, 'Check', { errorCode: 'UNKNOWN_CODE', variables: { x: 1 } })
  t.equal(r.status, 422)
  t.equal(r.body.error.code, 'BPMN_ERROR_NOT_CAUGHT')
  t.equal(r.body.error.details.errorCode, 'UNKNOWN_CODE')
  t.same(await w.ctx.db('tasks').where({ dossier_id: d.id }).orderBy('id'), before, 'the task rows are unchanged')
  t.same(await w.ctx.db('history').where({ dossier_id: d.id }).count({ n: '*' }).first(), historyBefore, 'no history line')
  t.same(ids((await complete(w, d.id, 'Check')).nextTasks), ['Inspect', 'Measure'], 'the task can still be completed normally')
})

t.test('bad bodies are refused with 400 and change nothing', async (t) => {
  const w = await world(t)
  const d = await submit(w)
  for (const body of [{}, { errorCode: '' }, { errorCode: 'X', extra: 1 }, { errorCode: 'X', variables: [] }]) {
    const r = await throwFrom(w, d.id, 'Check', body)
    t.equal(r.status, 400, JSON.stringify(body))
  }
  t.same(ids(await open(w, d.id)), ['Check'])
})

t.test('an error end event nothing catches behaves like a none end event, as in Camunda 7', async (t) => {
  const w = await world(t)
  t.equal((await w.ctx.deploy(fs.readFileSync(path.join(FIXTURES, 'bpmn', 'uncaught-error-end.bpmn'), 'utf8'))).status, 201)
  const s = await w.officer.post('/api/dossiers', {
    procedureCode: 'UncaughtErrorDemo',
    applicant: { name: 'Lê Thị Hoa', idNumber: '001190054321' },
    channel: 1,
    data: {},
  })
  t.equal(s.status, 201)
  const d = s.body.dossier.id
  t.same(ids((await complete(w, d, 'T')).nextTasks), ['U'], 'the token at the error end event ends; the parallel one goes on')
  t.same(ids((await complete(w, d, 'U')).nextTasks), ['After'], 'the sub-process completes normally')
  t.equal((await complete(w, d, 'After')).processEnded, true)
})

t.test('a catch-all error boundary (no errorRef) catches any code thrown from its task', async (t) => {
  const xml = diagram
    .replace('id="Defs_BpmnError"', 'id="Defs_BpmnErrorAll"')
    .replace('process id="ErrorDemo"', 'process id="ErrorDemoAll"')
    .replace('<bpmn:errorEventDefinition errorRef="Err_Missing"/>', '<bpmn:errorEventDefinition/>')
  const w = await bpmnWorld(t, xml, { now: MON_0900, groups: GROUPS })
  const s = await submitDossier(w, 'ErrorDemoAll')
  const r = await throwFrom(w, s.id, 'Check', { errorCode: 'ANY_CODE_AT_ALL' })
  t.equal(r.status, 200, JSON.stringify(r.body))
  t.same(ids(r.body.nextTasks), ['AskSupplement'])
})
