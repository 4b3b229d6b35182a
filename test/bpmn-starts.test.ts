import t from 'tap'
import { fixture } from './helpers/context.ts'
import { caller } from './helpers/api.ts'
import { activityIds, bpmnWorld, completeActivity, openTasks, submitAtCounter } from './helpers/bpmn-world.ts'

/**
 * How processes start, over real diagrams and the HTTP API: a message start event (POST /api/messages
 * naming no dossier) starts a new dossier there; a process with a none start and a message start
 * starts at the one its caller reaches; a message name starts one procedure only.
 */
const diagram = fixture('bpmn/message-start.bpmn')
const applicant = { name: 'Trần Văn Bình', idNumber: '001090012345' }

t.test('a message start event starts a new dossier with its data: code returned, first task at the message path', async (t) => {
  const w = await bpmnWorld(t, diagram, { groups: ['one-stop'] })
  const r = await w.officer.post('/api/messages', {
    messageName: 'PortalApplication',
    processVariables: { applicant, landArea: 120 },
    resultEnabled: true,
  })
  t.equal(r.status, 200, JSON.stringify(r.body))
  t.equal(r.body.correlated, 1)
  const result = r.body.results[0]
  t.equal(result.resultType, 'ProcessDefinition', 'Camunda 7 result shape of a started instance')
  t.match(result.processInstance, { id: String, businessKey: String, definitionId: 'MessageStartDemo:1', ended: false })
  const view = await w.officer.get(`/api/dossiers/${result.dossierId}`)
  t.equal(view.status, 200)
  t.equal(view.body.dossier.code, result.processInstance.businessKey, 'the new dossier code is the business key')
  t.same(view.body.dossier.applicant, applicant, 'the applicant from processVariables')
  t.same(view.body.dossier.data, { landArea: 120 }, 'the other variables are the dossier data')
  t.equal(view.body.dossier.channel, 1, "the caller's channel: an officer at the counter")
  t.same(activityIds(await openTasks(w, result.dossierId)), ['CheckPortalFile'], 'started at the message start event, not the none start')
  const submitted = view.body.history.find((h: any) => h.action === 'dossier.submitted')
  t.equal(submitted.details.messageName, 'PortalApplication', 'the history says which message started it')
  const done = await completeActivity(w, result.dossierId, 'CheckPortalFile')
  t.equal(done.processEnded, true, 'the message path ends the process (the none start is not waiting)')
})

t.test('a process with a none start and a message start: POST /api/dossiers takes the none start only', async (t) => {
  const w = await bpmnWorld(t, diagram, { groups: ['one-stop'] })
  const d = await submitAtCounter(w.officer, 'MessageStartDemo')
  t.same(activityIds(d.tasks), ['ReceiveAtCounter'])
  const done = await completeActivity(w, d.dossier.id, 'ReceiveAtCounter')
  t.equal(done.processEnded, true, 'the message start event does not keep the instance waiting')
})

t.test(
  'the new dossier is checked as a submission: missing or bad applicant data is a 400 naming the field, nothing is created',
  async (t) => {
    const w = await bpmnWorld(t, diagram, { groups: ['one-stop'] })
    const before = Number((await w.ctx.db('dossiers').count('* as n'))[0]!.n)
    const none = await w.officer.post('/api/messages', { messageName: 'PortalApplication', processVariables: { landArea: 1 } })
    t.equal(none.status, 400)
    t.equal(none.body.error.code, 'VALIDATION_FAILED')
    t.match(none.body.error.message, 'applicant')
    const bad = await w.officer.post('/api/messages', {
      messageName: 'PortalApplication',
      processVariables: { applicant: { name: 'Bình', idNumber: '12' } },
    })
    t.equal(bad.status, 400)
    t.equal(bad.body.error.code, 'VALIDATION_FAILED')
    t.match(bad.body.error.details, [{ path: '/processVariables/applicant/idNumber' }], 'the field is named')
    const missingName = await w.officer.post('/api/messages', {
      messageName: 'PortalApplication',
      processVariables: { applicant: { idNumber: '001090012345' } },
    })
    t.equal(missingName.status, 400)
    t.match(missingName.body.error.details, [{ path: '/processVariables/applicant/name' }])
    const postal = await w.officer.post('/api/messages', {
      messageName: 'PortalApplication',
      processVariables: { applicant, channel: 3 },
    })
    t.equal(postal.status, 422, 'the submission rules hold: a postal dossier needs its hand-over record')
    t.equal(postal.body.error.code, 'POSTAL_HANDOVER_REQUIRED')
    t.equal(Number((await w.ctx.db('dossiers').count('* as n'))[0]!.n), before, 'no dossier was created')
  },
)

t.test('only the one-stop unit of the agency (or an admin) starts a dossier by message', async (t) => {
  const w = await bpmnWorld(t, diagram, { groups: ['specialists'] })
  const r = await w.officer.post('/api/messages', { messageName: 'PortalApplication', processVariables: { applicant } })
  t.equal(r.status, 403)
  t.equal(r.body.error.code, 'FORBIDDEN')
  const admin = await caller(w.ctx, { userId: 'quan-tri', roles: ['admin'] })
  t.equal((await admin.post('/api/messages', { messageName: 'PortalApplication', processVariables: { applicant } })).status, 200)
  const named = await admin.post('/api/messages', { messageName: 'PortalApplication', businessKey: 'no-such-code' })
  t.equal(named.status, 404, 'a message naming a dossier never starts a new one')
})

t.test('a second procedure starting by the same message name is refused at deploy; a new version of the same one is not', async (t) => {
  const w = await bpmnWorld(t, diagram, { groups: ['one-stop'] })
  const other = diagram.replace('id="MessageStartDemo"', 'id="OtherProcedure"')
  const r = await w.ctx.deploy(other)
  t.equal(r.status, 422)
  t.match(r.body.error.details.findings, [{ elementId: 'PortalStart', code: 'MESSAGE_START_NAME_TAKEN', message: /MessageStartDemo/ }])
  const v2 = await w.ctx.deploy(diagram.replace('name="Kiểm tra hồ sơ từ cổng"', 'name="Kiểm tra hồ sơ nhận từ cổng"'))
  t.equal(v2.status, 201, 'the same procedure keeps its message in its next version')
})

t.test('a process whose only start is a message start starts there when submitted through POST /api/dossiers', async (t) => {
  const only = diagram
    .replace(/<bpmn:startEvent id="CounterStart"[^]*?<\/bpmn:startEvent>/, '')
    .replace(/<bpmn:userTask id="ReceiveAtCounter"[^]*?<\/bpmn:userTask>/, '')
    .replace(/<bpmn:endEvent id="CounterEnd">[^]*?<\/bpmn:endEvent>/, '')
    .replace(/<bpmn:sequenceFlow id="f[13]"[^>]*\/>/g, '')
  const w = await bpmnWorld(t, only, { groups: ['one-stop'] })
  const d = await submitAtCounter(w.officer, 'MessageStartDemo')
  t.same(activityIds(d.tasks), ['CheckPortalFile'], 'as Camunda 7 starts a process at its only start event')
})
