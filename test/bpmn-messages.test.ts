import t from 'tap'
import { fixture, type Teardown } from './helpers/context.ts'
import { caller } from './helpers/api.ts'
import { activityIds, bpmnWorld, completeActivity, openTasks, submitDossier, type BpmnWorld } from './helpers/bpmn-world.ts'

/**
 * Messages from outside (POST /api/messages, Camunda 7's POST /message) over a real diagram: an
 * intermediate message catch event and a receive task reached by dossier code (businessKey), an
 * interrupting message boundary on a user task, correlation keys picking one of two instances,
 * exactly-once delivery under a race, and 404/409 answers.
 */
const diagram = fixture('bpmn/messages.bpmn')

type World = BpmnWorld
const world = (t: Teardown) => bpmnWorld(t, diagram)
const submit = (w: World) => submitDossier(w, 'MessageDemo')
const open = async (w: World, dossierId: string) => activityIds(await openTasks(w, dossierId))
const complete = completeActivity

const send = (w: World, body: Record<string, unknown>) => w.officer.post('/api/messages', body)

t.test('a message by dossier code reaches the intermediate catch event, then the receive task: the path continues', async (t) => {
  const w = await world(t)
  const d = await submit(w)
  await complete(w, d.id, 'Review')
  t.same(await open(w, d.id), [], 'the process waits for the documents (message catch event)')
  const early = await send(w, { messageName: 'InspectionReported', businessKey: d.code })
  t.equal(early.status, 404, 'the receive task is not reached yet: nothing waits for that message')
  t.equal(early.body.error.code, 'MESSAGE_NOT_CORRELATED')

  const docs = await send(w, { messageName: 'DocumentsArrived', businessKey: d.code })
  t.equal(docs.status, 200)
  t.same(docs.body, { correlated: 1 })
  const again = await send(w, { messageName: 'DocumentsArrived', businessKey: d.code })
  t.equal(again.status, 404, 'the catch event has been passed: the same message again finds nothing waiting')

  const inspection = await send(w, {
    messageName: 'InspectionReported',
    businessKey: d.code,
    processVariables: { inspectionResult: 'passed' },
    resultEnabled: true,
  })
  t.equal(inspection.status, 200)
  t.match(inspection.body.results, [{ resultType: 'Execution', businessKey: d.code, dossierId: d.id }], 'the correlation result')
  t.same(await open(w, d.id), ['Sign'], 'the receive task completed: the signing task is open')
  const history = await w.ctx.db('history').where({ dossier_id: d.id, action: 'message.received' }).orderBy('id')
  t.same(
    history.map((h) => h.details.messageName),
    ['DocumentsArrived', 'InspectionReported'],
    'each delivery is a history line',
  )
  t.same(history[1].details.variables, ['inspectionResult'], 'the variables set are named (not their values)')
})

t.test('a message boundary on a user task interrupts it: the task is cancelled and the boundary path taken', async (t) => {
  const w = await world(t)
  const d = await submit(w)
  t.same(await open(w, d.id), ['Review'])
  const r = await send(w, { messageName: 'ApplicationCancelled', businessKey: d.code })
  t.equal(r.status, 200)
  t.same(await open(w, d.id), ['CloseFile'], 'the boundary path')
  const review = await w.ctx.db('tasks').where({ dossier_id: d.id, activity_id: 'Review' }).first()
  t.equal(review.status, 'cancelled', 'the interrupted task is cancelled')
  t.equal((await send(w, { messageName: 'ApplicationCancelled', businessKey: d.code })).status, 404, 'delivered once only')
})

t.test('correlation keys pick one of two waiting instances; without them the message is ambiguous (409)', async (t) => {
  const w = await world(t)
  const a = await submit(w)
  const b = await submit(w)
  await complete(w, a.id, 'Review', { permitNo: 'GP-001' })
  await complete(w, b.id, 'Review', { permitNo: 'GP-002' })
  const ambiguous = await send(w, { messageName: 'DocumentsArrived' })
  t.equal(ambiguous.status, 409)
  t.equal(ambiguous.body.error.code, 'MESSAGE_CORRELATION_AMBIGUOUS')
  const none = await send(w, { messageName: 'DocumentsArrived', correlationKeys: { permitNo: 'GP-999' } })
  t.equal(none.status, 404, 'no instance holds that value')
  const picked = await send(w, { messageName: 'DocumentsArrived', correlationKeys: { permitNo: 'GP-002' }, resultEnabled: true })
  t.equal(picked.status, 200)
  t.equal(picked.body.results[0].dossierId, b.id, 'the instance whose variable matches')
  t.equal((await send(w, { messageName: 'InspectionReported', businessKey: b.code })).status, 200, 'b moved on to its receive task')
  t.equal((await send(w, { messageName: 'InspectionReported', businessKey: a.code })).status, 404, 'a still waits for its documents')
  const all = await send(w, { messageName: 'DocumentsArrived', all: true })
  t.same(all.body, { correlated: 1 }, 'all: every instance still waiting (only a)')
})

t.test('two deliveries racing for one waiting catch: one wins, the other finds nothing waiting', async (t) => {
  const w = await world(t)
  const d = await submit(w)
  await complete(w, d.id, 'Review')
  const answers = await Promise.all([1, 2].map(() => send(w, { messageName: 'DocumentsArrived', businessKey: d.code })))
  t.same(answers.map((r) => r.status).sort(), [200, 404])
  t.equal((await w.ctx.db('history').where({ dossier_id: d.id, action: 'message.received' })).length, 1, 'delivered exactly once')
})

t.test('a message nobody waits for, bad input and callers outside the agency', async (t) => {
  const w = await world(t)
  const d = await submit(w)
  const unknown = await send(w, { messageName: 'NoSuchMessage' })
  t.equal(unknown.status, 404)
  t.equal(unknown.body.error.code, 'MESSAGE_NOT_CORRELATED')
  t.equal((await send(w, { businessKey: d.code })).status, 400, 'messageName is required')
  t.equal((await send(w, { messageName: 'ApplicationCancelled', processInstanceId: 'x' })).status, 400)
  const other = await caller(w.ctx, { userId: 'khac', roles: ['officer'], groups: ['specialists'], agency: 'SO-KHAC' })
  const r = await other.post('/api/messages', { messageName: 'ApplicationCancelled', businessKey: d.code })
  t.equal(r.status, 404, 'an officer of another agency does not reach the dossier')
  t.same(await open(w, d.id), ['Review'], 'nothing changed')
})

t.test('messages start event sub-processes: a non-interrupting one runs beside the process, an interrupting one cancels it', async (t) => {
  const w = await world(t)
  t.equal((await w.ctx.deploy(fixture('bpmn/message-event-subprocess.bpmn'))).status, 201)
  const start = async () => {
    const r = await w.officer.post('/api/dossiers', {
      procedureCode: 'EventSubDemo',
      applicant: { name: 'Lê Thị Hoa', idNumber: '001190054321' },
      channel: 1,
      data: {},
    })
    return { id: r.body.dossier.id as string, code: r.body.dossier.code as string }
  }
  const d = await start()
  t.equal((await send(w, { messageName: 'CitizenQuestion', businessKey: d.code })).status, 200)
  t.same(await open(w, d.id), ['Answer', 'Review'], 'the question is answered beside the review')
  t.equal(
    (await send(w, { messageName: 'CitizenQuestion', businessKey: d.code })).status,
    404,
    'one run of the event sub-process at a time',
  )
  w.ctx.system.engine.clear() // a restart: the next step recovers the running event sub-process from Postgres
  await complete(w, d.id, 'Answer')
  t.same(await open(w, d.id), ['Review'], 'the event sub-process ended; the process goes on')
  await complete(w, d.id, 'Review')
  t.same(await open(w, d.id), ['Sign'])

  const e = await start()
  t.equal((await send(w, { messageName: 'WithdrawalRequested', businessKey: e.code })).status, 200)
  t.same(await open(w, e.id), ['ConfirmWithdrawal'], 'the interrupting start cancelled the review')
  t.equal((await w.ctx.db('tasks').where({ dossier_id: e.id, activity_id: 'Review' }).first()).status, 'cancelled')
  await complete(w, e.id, 'ConfirmWithdrawal')
  const instance = await w.ctx.db('process_instances').where({ dossier_id: e.id }).first()
  t.equal(instance.status, 'completed', 'the process ended with its event sub-process (the return to the applicant follows)')
})
