import t from 'tap'
import { bpmnWorld, completeActivity, openTasks, activityIds, type BpmnWorld } from './helpers/bpmn-world.ts'
import { caller } from './helpers/api.ts'
import type { Teardown } from './helpers/context.ts'

/**
 * Call activities to another deployed procedure, as Camunda 7 runs them: the called procedure runs as
 * its own instance of the same dossier (its tasks belong to its agency), `camunda:in`/`camunda:out`
 * hand variables over, the bindings pick the version, errors and escalations the called procedure
 * does not catch reach boundary events on the call activity, and an interrupted call activity cancels
 * the called instance.
 */
const MON_0900 = '2026-11-23T02:00:00Z'
const HEAD =
  '<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:tthc="https://dvc-bpmn.vn/schema/tthc/1.0"'
const CHILD_AGENCY = 'SO-XAY-DUNG'

/** The called procedure (thẩm định, of another agency): its task, then an optional error end when `ketLuan` is "khong". */
const child = (o: { task?: string; before?: string; errorEnd?: boolean } = {}) => `${HEAD} id="Defs_ThamDinh" targetNamespace="http://x">
  <bpmn:error id="Err_Rejected" errorCode="REJECTED"/>
  <bpmn:escalation id="Esc_Info" escalationCode="NEED_INFO"/>
  <bpmn:process id="ThamDinh" isExecutable="true">
    <bpmn:extensionElements><tthc:procedure code="THAM_DINH" name="Thẩm định" agency="${CHILD_AGENCY}"/></bpmn:extensionElements>
    <bpmn:startEvent id="CStart"/>
    ${o.before === 'escalation' ? '<bpmn:intermediateThrowEvent id="AskInfo"><bpmn:escalationEventDefinition escalationRef="Esc_Info"/></bpmn:intermediateThrowEvent><bpmn:sequenceFlow id="c0" sourceRef="CStart" targetRef="AskInfo"/><bpmn:sequenceFlow id="c1" sourceRef="AskInfo" targetRef="' + (o.task ?? 'Appraise') + '"/>' : `<bpmn:sequenceFlow id="c1" sourceRef="CStart" targetRef="${o.task ?? 'Appraise'}"/>`}
    <bpmn:userTask id="${o.task ?? 'Appraise'}" name="Thẩm định hồ sơ" camunda:candidateGroups="tham-dinh"/>
    <bpmn:sequenceFlow id="c2" sourceRef="${o.task ?? 'Appraise'}" targetRef="CGate"/>
    <bpmn:exclusiveGateway id="CGate" default="c3"/>
    <bpmn:sequenceFlow id="c3" sourceRef="CGate" targetRef="CEnd"/>
    <bpmn:endEvent id="CEnd"/>
    ${o.errorEnd ? '<bpmn:sequenceFlow id="c4" sourceRef="CGate" targetRef="CReject"><bpmn:conditionExpression>${ketLuan == "khong"}</bpmn:conditionExpression></bpmn:sequenceFlow><bpmn:endEvent id="CReject"><bpmn:errorEventDefinition errorRef="Err_Rejected"/></bpmn:endEvent>' : ''}
  </bpmn:process>
</bpmn:definitions>`

/**
 * The calling procedure: receipt, the call activity (attributes, mappings, boundary events, loop as
 * given), then a gateway on `verdict`: Approve when "dat", else Refuse.
 */
const parent = (
  o: { attrs?: string; mappings?: string; boundary?: string; loop?: string; code?: string } = {},
) => `${HEAD} id="Defs_Goi" targetNamespace="http://x">
  <bpmn:error id="Err_Rejected" errorCode="REJECTED"/>
  <bpmn:escalation id="Esc_Info" escalationCode="NEED_INFO"/>
  <bpmn:process id="${o.code ?? 'GoiThamDinh'}" isExecutable="true">
    <bpmn:startEvent id="Start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Receive"/>
    <bpmn:userTask id="Receive" name="Tiếp nhận" camunda:candidateGroups="one-stop"/>
    <bpmn:sequenceFlow id="f2" sourceRef="Receive" targetRef="CallAppraisal"/>
    <bpmn:callActivity id="CallAppraisal" name="Xin thẩm định" calledElement="ThamDinh" ${o.attrs ?? ''}>
      <bpmn:extensionElements>${o.mappings ?? '<camunda:in source="area" target="dienTich"/><camunda:in sourceExpression="${area * 2}" target="doubled"/><camunda:out source="ketLuan" target="verdict"/>'}</bpmn:extensionElements>
      ${o.loop ?? ''}
    </bpmn:callActivity>
    ${o.boundary ? o.boundary + SIDE : ''}
    <bpmn:sequenceFlow id="f3" sourceRef="CallAppraisal" targetRef="Gate"/>
    <bpmn:exclusiveGateway id="Gate" default="f5"/>
    <bpmn:sequenceFlow id="f4" sourceRef="Gate" targetRef="Approve"><bpmn:conditionExpression>\${verdict == "dat"}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f5" sourceRef="Gate" targetRef="Refuse"/>
    <bpmn:userTask id="Approve" name="Phê duyệt" camunda:candidateGroups="leaders"/>
    <bpmn:userTask id="Refuse" name="Từ chối" camunda:candidateGroups="one-stop"/>
    <bpmn:sequenceFlow id="f6" sourceRef="Approve" targetRef="End"/>
    <bpmn:sequenceFlow id="f7" sourceRef="Refuse" targetRef="End"/>
    <bpmn:endEvent id="End"/>
  </bpmn:process>
</bpmn:definitions>`

/** Where the boundary events on the call activity lead. */
const SIDE =
  '<bpmn:userTask id="Side" name="Xử lý nhánh phụ" camunda:candidateGroups="one-stop"/><bpmn:sequenceFlow id="f8" sourceRef="Side" targetRef="SideEnd"/><bpmn:endEvent id="SideEnd"/>'
const GROUPS = ['one-stop', 'leaders']

/** The calling procedure and the called one deployed (the called first), and an officer of the called procedure's agency. */
async function world(t: Teardown, diagrams: string[]) {
  const w = await bpmnWorld(t, diagrams[0]!, { now: MON_0900, groups: GROUPS })
  for (const xml of diagrams.slice(1)) {
    const r = await w.ctx.deploy(xml)
    if (r.status !== 201) throw new Error(JSON.stringify(r.body))
  }
  const appraiser = await caller(w.ctx, { userId: 'tham-dinh-vien', roles: ['officer'], groups: ['tham-dinh'], agency: CHILD_AGENCY })
  return { ...w, appraiser }
}

/** The open task of the called procedure, worked by `as` (an officer of its agency). */
async function childTasks(w: BpmnWorld, dossierId: string) {
  return w.ctx.db('tasks').where({ dossier_id: dossierId, status: 'open', agency: CHILD_AGENCY }).orderBy('created_at')
}

async function receive(w: BpmnWorld, data: Record<string, unknown> = { area: 50 }) {
  const r = await w.officer.post('/api/dossiers', {
    procedureCode: 'GoiThamDinh',
    applicant: { name: 'Lê Thị Hoa', idNumber: '001190054321' },
    channel: 1,
    data,
  })
  if (r.status !== 201) throw new Error(JSON.stringify(r.body))
  const d = r.body.dossier as { id: string; code: string }
  await completeActivity(w, d.id, 'Receive')
  return d
}

t.test(
  'a call activity runs another deployed procedure as its own instance, with variables both ways through camunda:in/out',
  async (t) => {
    const w = await world(t, [child(), parent()])
    const d = await receive(w)
    const [task, ...more] = await childTasks(w, d.id)
    t.equal(more.length, 0)
    t.equal(task.procedure_code, 'THAM_DINH', "the called procedure's task belongs to it")
    t.equal(task.agency, CHILD_AGENCY, "and to its agency's officers")
    t.equal((await w.officer.post(`/api/tasks/${task.id}/complete`, { variables: {} })).status, 404, "the caller's agency does not see it")
    const instances = await w.ctx.db('process_instances').where({ dossier_id: d.id }).orderBy('call_depth')
    t.equal(instances.length, 2, 'two instances of one dossier')
    t.equal(instances[1].parent_instance_id, instances[0].id, 'the called one linked to its caller')
    t.equal(instances[1].parent_activity_id, 'CallAppraisal')
    const childVars = JSON.stringify(instances[1].state)
    t.match(childVars, /"dienTich":50/, 'camunda:in source/target')
    t.match(childVars, /"doubled":100/, 'camunda:in sourceExpression')
    t.notMatch(childVars, /"area":/, 'without variables="all" nothing else is passed (Camunda 7)')

    const view = (await w.appraiser.get(`/api/tasks/${task.id}`)).body
    t.equal(view.procedureCode, 'THAM_DINH', 'the task shows its own procedure')
    const done = await w.appraiser.post(`/api/tasks/${task.id}/complete`, { variables: { ketLuan: 'dat' } })
    t.equal(done.status, 200, JSON.stringify(done.body))
    t.same(activityIds(done.body.nextTasks), ['Approve'], "the answer lists what is open next in the dossier: the caller's task")
    t.same(activityIds(await openTasks(w, d.id)), ['Approve'], 'the caller continues with the out variable and takes the matching path')
    const after = await w.ctx.db('process_instances').where({ dossier_id: d.id }).orderBy('call_depth')
    t.same(
      after.map((i) => i.status),
      ['running', 'completed'],
    )
    const dossier = (await w.officer.get(`/api/dossiers/${d.id}`)).body
    t.same(
      dossier.instances.map((i: { procedureCode: string; procedureVersion: number; status: string; parentInstanceId: string | null }) => [
        i.procedureCode,
        i.procedureVersion,
        i.status,
        i.parentInstanceId === null,
      ]),
      [
        ['GoiThamDinh', 1, 'running', true],
        ['THAM_DINH', 1, 'completed', false],
      ],
      'the dossier lists its instances',
    )
    t.equal((await completeActivity(w, d.id, 'Approve')).processEnded, true)
  },
)

t.test('binding "version" calls the version it names after a newer one was deployed; "latest" the newest', async (t) => {
  const w = await world(t, [
    child({ task: 'AppraiseV1' }),
    parent({ attrs: 'camunda:calledElementBinding="version" camunda:calledElementVersion="1"' }),
    parent({ code: 'GoiMoiNhat' }),
    child({ task: 'AppraiseV2' }),
  ])
  const d = await receive(w)
  t.same(
    (await childTasks(w, d.id)).map((x) => x.activity_id),
    ['AppraiseV1'],
    'version 1, not the latest',
  )
  const r = await w.officer.post('/api/dossiers', {
    procedureCode: 'GoiMoiNhat',
    applicant: { name: 'Lê Thị Hoa', idNumber: '001190054321' },
    channel: 1,
    data: { area: 1 },
  })
  await completeActivity(w, r.body.dossier.id, 'Receive')
  t.same(
    (await childTasks(w, r.body.dossier.id)).map((x) => x.activity_id),
    ['AppraiseV2'],
    'latest: the version deployed last',
  )
})

t.test('an error end event in the called procedure is caught by an error boundary on the call activity', async (t) => {
  const w = await world(t, [
    child({ errorEnd: true }),
    parent({
      boundary:
        '<bpmn:boundaryEvent id="Rejected" attachedToRef="CallAppraisal"><bpmn:errorEventDefinition errorRef="Err_Rejected"/></bpmn:boundaryEvent><bpmn:sequenceFlow id="f9" sourceRef="Rejected" targetRef="Side"/>',
    }),
  ])
  const d = await receive(w)
  const [task] = await childTasks(w, d.id)
  const r = await w.appraiser.post(`/api/tasks/${task.id}/complete`, { variables: { ketLuan: 'khong' } })
  t.equal(r.status, 200, JSON.stringify(r.body))
  t.same(activityIds(await openTasks(w, d.id)), ['Side'], 'the boundary path, not the gateway after the call activity')
  const history = await w.ctx.db('history').where({ dossier_id: d.id, action: 'process.call_completed' })
  t.equal(history.length, 0, 'the call activity did not complete normally')
})

t.test('an escalation from the called procedure is caught by a non-interrupting boundary: the call goes on', async (t) => {
  const w = await world(t, [
    child({ before: 'escalation' }),
    parent({
      boundary:
        '<bpmn:boundaryEvent id="InfoNeeded" attachedToRef="CallAppraisal" cancelActivity="false"><bpmn:escalationEventDefinition escalationRef="Esc_Info"/></bpmn:boundaryEvent><bpmn:sequenceFlow id="f9" sourceRef="InfoNeeded" targetRef="Side"/>',
    }),
  ])
  const d = await receive(w)
  t.same(activityIds(await openTasks(w, d.id)), ['Appraise', 'Side'], "the boundary's path runs beside the called procedure")
  await completeActivity(w, d.id, 'Side')
  const [task] = await childTasks(w, d.id)
  t.equal((await w.appraiser.post(`/api/tasks/${task.id}/complete`, { variables: { ketLuan: 'dat' } })).status, 200)
  t.same(activityIds(await openTasks(w, d.id)), ['Approve'], 'the call activity completes when the called procedure ends')
})

t.test('a timer boundary on the call activity cancels the called instance and its open task', async (t) => {
  const w = await world(t, [
    child(),
    parent({
      boundary:
        '<bpmn:boundaryEvent id="TooLong" attachedToRef="CallAppraisal"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent><bpmn:sequenceFlow id="f9" sourceRef="TooLong" targetRef="Side"/>',
    }),
  ])
  const d = await receive(w)
  const [task] = await childTasks(w, d.id)
  w.clock.set('2026-11-23T03:30:00Z')
  t.equal(await w.ctx.system.timers.fireDue(), 1)
  t.same(activityIds(await openTasks(w, d.id)), ['Side'])
  t.equal((await w.ctx.db('tasks').where({ id: task.id }).first()).status, 'cancelled', "the called procedure's task is cancelled")
  const called = await w.ctx.db('process_instances').where({ dossier_id: d.id, call_depth: 1 }).first()
  t.equal(called.status, 'terminated', 'and its instance')
  const late = await w.appraiser.post(`/api/tasks/${task.id}/complete`, { variables: { ketLuan: 'dat' } })
  t.equal(late.status, 409, 'a completion after the cancel is refused')
})

t.test('a parallel multi-instance call activity starts one called instance per element', async (t) => {
  const w = await world(t, [
    child(),
    parent({
      mappings: '<camunda:in source="agency" target="consulted"/><camunda:out source="ketLuan" target="verdict"/>',
      loop: '<bpmn:multiInstanceLoopCharacteristics camunda:collection="agencies" camunda:elementVariable="agency"/>',
    }),
  ])
  const d = await receive(w, { agencies: ['SXD', 'STNMT', 'SCT'] })
  const tasks = await childTasks(w, d.id)
  t.equal(tasks.length, 3, 'three called instances, one task each')
  const called = await w.ctx.db('process_instances').where({ dossier_id: d.id, call_depth: 1 })
  t.same(
    called.map((i) => /"consulted":"(\w+)"/.exec(JSON.stringify(i.state))?.[1]).sort(),
    ['SCT', 'STNMT', 'SXD'],
    'each with its element',
  )
  for (const [i, task] of tasks.entries()) {
    t.same(
      activityIds(await openTasks(w, d.id)).filter((x) => x !== 'Appraise'),
      [],
      'the caller waits for all of them',
    )
    const r = await w.appraiser.post(`/api/tasks/${task.id}/complete`, { variables: { ketLuan: i === 2 ? 'dat' : 'khong' } })
    t.equal(r.status, 200, JSON.stringify(r.body))
  }
  t.same(activityIds(await openTasks(w, d.id)), ['Approve'], 'the caller continues once every instance ended')
})

t.test('deploy refuses a call activity to a procedure that is nowhere, and a version that does not exist', async (t) => {
  const w = await world(t, [child()])
  const unknown = await w.ctx.deploy(parent().replace('calledElement="ThamDinh"', 'calledElement="KhongCo"'))
  t.equal(unknown.status, 422)
  const finding = (r: { body: { error: { details: { findings: Array<{ code: string }> } } } }, code: string) =>
    r.body.error.details.findings.find((f) => f.code === code)
  t.match(finding(unknown, 'CALLED_ELEMENT_UNKNOWN'), {
    elementId: 'CallAppraisal',
    message: /KhongCo.*CallAppraisal|CallAppraisal.*KhongCo/,
  })
  const version = await w.ctx.deploy(parent({ attrs: 'camunda:calledElementBinding="version" camunda:calledElementVersion="7"' }))
  t.equal(version.status, 422)
  t.match(version.body.error.details.findings, [{ elementId: 'CallAppraisal', code: 'CALLED_ELEMENT_VERSION_UNKNOWN', message: /7/ }])
})

t.test('binding "deployment" calls the version that was the latest when the caller was deployed', async (t) => {
  const w = await world(t, [
    child({ task: 'AppraiseV1' }),
    parent({ attrs: 'camunda:calledElementBinding="deployment"' }),
    child({ task: 'AppraiseV2' }),
  ])
  const d = await receive(w)
  t.same(
    (await childTasks(w, d.id)).map((x) => x.activity_id),
    ['AppraiseV1'],
  )
})

t.test('an error the called procedure throws and nothing catches ends the call like a none end event', async (t) => {
  const w = await world(t, [child({ errorEnd: true }), parent()])
  const d = await receive(w)
  const [task] = await childTasks(w, d.id)
  const r = await w.appraiser.post(`/api/tasks/${task.id}/complete`, { variables: { ketLuan: 'khong' } })
  t.equal(r.status, 200, JSON.stringify(r.body))
  t.same(activityIds(await openTasks(w, d.id)), ['Refuse'], 'the caller goes on after the call activity with the out variables')
})

t.test('stopping the dossier cancels the called instance and its open task in the same transaction', async (t) => {
  const w = await world(t, [child(), parent()])
  const d = await receive(w)
  const [task] = await childTasks(w, d.id)
  const r = await w.officer.post(`/api/dossiers/${d.id}/stop`, { reason: 'Người nộp không bổ sung đúng hạn' })
  t.equal(r.status, 200, JSON.stringify(r.body))
  t.equal((await w.ctx.db('tasks').where({ id: task.id }).first()).status, 'cancelled')
  t.same(
    (await w.ctx.db('process_instances').where({ dossier_id: d.id }).orderBy('call_depth')).map((i) => i.status),
    ['terminated', 'terminated'],
  )
})

t.test(
  'a procedure that calls itself through another stops at the depth limit: the submission is refused and nothing is stored',
  async (t) => {
    const loop = (id: string, calls: string | null) => `${HEAD} id="Defs_${id}" targetNamespace="http://x">
  <bpmn:process id="${id}" isExecutable="true">
    <bpmn:startEvent id="${id}_Start"/>
    <bpmn:sequenceFlow id="${id}_f1" sourceRef="${id}_Start" targetRef="${id}_Step"/>
    ${calls ? `<bpmn:callActivity id="${id}_Step" calledElement="${calls}"/>` : `<bpmn:userTask id="${id}_Step" camunda:candidateGroups="one-stop"/>`}
    <bpmn:sequenceFlow id="${id}_f2" sourceRef="${id}_Step" targetRef="${id}_End"/>
    <bpmn:endEvent id="${id}_End"/>
  </bpmn:process>
</bpmn:definitions>`
    const w = await world(t, [loop('VongB', null), loop('VongA', 'VongB')])
    const first = await w.officer.post('/api/dossiers', {
      procedureCode: 'VongA',
      applicant: { name: 'Lê Thị Hoa', idNumber: '001190054321' },
      channel: 1,
      data: {},
    })
    t.equal(first.status, 201, 'a submission that reaches a call activity at once starts the called procedure in its transaction')
    t.same(
      first.body.tasks.map((x: { activityId: string; procedureCode: string }) => [x.activityId, x.procedureCode]),
      [['VongB_Step', 'VongB']],
      "the answer lists the called procedure's task",
    )
    t.equal((await w.ctx.deploy(loop('VongB', 'VongA'))).status, 201)
    const before = await w.ctx.db('dossiers').count('* as n').first()
    const r = await w.officer.post('/api/dossiers', {
      procedureCode: 'VongA',
      applicant: { name: 'Lê Thị Hoa', idNumber: '001190054321' },
      channel: 1,
      data: {},
    })
    t.equal(r.status, 422)
    t.equal(r.body.error.code, 'CALL_DEPTH_EXCEEDED')
    t.same(await w.ctx.db('dossiers').count('* as n').first(), before, 'no dossier stored')
  },
)

t.test("a step of the called procedure keeps the deadline alarms of the caller's tasks still open beside it", async (t) => {
  const twoSteps = child().replace(
    '<bpmn:sequenceFlow id="c2" sourceRef="Appraise" targetRef="CGate"/>',
    '<bpmn:sequenceFlow id="c2a" sourceRef="Appraise" targetRef="Sign"/><bpmn:userTask id="Sign" camunda:candidateGroups="tham-dinh"/><bpmn:sequenceFlow id="c2" sourceRef="Sign" targetRef="CGate"/>',
  )
  const beside = parent()
    .replace(
      'targetRef="CallAppraisal"/>',
      'targetRef="Fork"/><bpmn:parallelGateway id="Fork"/><bpmn:sequenceFlow id="fa" sourceRef="Fork" targetRef="CallAppraisal"/><bpmn:sequenceFlow id="fb" sourceRef="Fork" targetRef="Watch"/>',
    )
    .replace(
      '<bpmn:endEvent id="End"/>',
      '<bpmn:endEvent id="End"/><bpmn:userTask id="Watch" camunda:candidateGroups="one-stop" camunda:dueDate="PT8H"/><bpmn:sequenceFlow id="fc" sourceRef="Watch" targetRef="WatchEnd"/><bpmn:endEvent id="WatchEnd"/>',
    )
  const w = await world(t, [twoSteps, beside])
  const d = await receive(w)
  const watch = await w.ctx.db('tasks').where({ dossier_id: d.id, activity_id: 'Watch' }).first()
  const pending = async () => (await w.ctx.db('deadline_alarms').where({ task_id: watch.id, status: 'pending' })).length
  const before = await pending()
  t.ok(before > 0, "the caller's task has pending deadline alarms")
  const [appraise] = await childTasks(w, d.id)
  t.equal((await w.appraiser.post(`/api/tasks/${appraise.id}/complete`, { variables: {} })).status, 200)
  t.same(
    (await childTasks(w, d.id)).map((x) => x.activity_id),
    ['Sign'],
  )
  t.equal(await pending(), before, 'still pending after a step of the called procedure')
})

t.test("a BPMN error or escalation an officer throws from the called procedure's task reaches the call activity", async (t) => {
  const boundaries =
    '<bpmn:boundaryEvent id="Rejected" attachedToRef="CallAppraisal"><bpmn:errorEventDefinition errorRef="Err_Rejected"/></bpmn:boundaryEvent><bpmn:sequenceFlow id="f9" sourceRef="Rejected" targetRef="Side"/>' +
    '<bpmn:boundaryEvent id="InfoNeeded" attachedToRef="CallAppraisal" cancelActivity="false"><bpmn:escalationEventDefinition escalationRef="Esc_Info"/></bpmn:boundaryEvent><bpmn:sequenceFlow id="f10" sourceRef="InfoNeeded" targetRef="Ask"/>' +
    '<bpmn:userTask id="Ask" name="Hỏi thêm người nộp" camunda:candidateGroups="one-stop"/><bpmn:sequenceFlow id="f11" sourceRef="Ask" targetRef="AskEnd"/><bpmn:endEvent id="AskEnd"/>'
  const w = await world(t, [child(), parent({ boundary: boundaries })])
  const d = await receive(w)
  const [task] = await childTasks(w, d.id)
  const esc = await w.appraiser.post(`/api/tasks/${task.id}/bpmn-escalation`, { escalationCode: 'NEED_INFO', variables: {} })
  t.equal(esc.status, 200, JSON.stringify(esc.body))
  t.same(
    activityIds(await openTasks(w, d.id)),
    ['Appraise', 'Ask'],
    'non-interrupting: the called task stays open beside the boundary path',
  )
  const err = await w.appraiser.post(`/api/tasks/${task.id}/bpmn-error`, { errorCode: 'REJECTED', errorMessage: 'Không đạt' })
  t.equal(err.status, 200, JSON.stringify(err.body))
  t.same(activityIds(await openTasks(w, d.id)), ['Ask', 'Side'], 'the error boundary on the call activity took the process on')
  const called = await w.ctx.db('process_instances').where({ dossier_id: d.id, call_depth: 1 }).first()
  t.equal(called.status, 'terminated', 'the called instance ended with its call activity')
  const none = await w.appraiser.post(`/api/tasks/${(await childTasks(w, d.id))[0]?.id ?? task.id}/bpmn-error`, { errorCode: 'OTHER' })
  t.equal(none.status, 409, 'its task is no longer open')
})

t.test('an error code no boundary on the call activity catches is refused and changes nothing', async (t) => {
  const w = await world(t, [child(), parent()])
  const d = await receive(w)
  const [task] = await childTasks(w, d.id)
  const r = await w.appraiser.post(`/api/tasks/${task.id}/bpmn-error`, { errorCode: 'UNKNOWN' })
  t.equal(r.status, 422)
  t.equal(r.body.error.code, 'BPMN_ERROR_NOT_CAUGHT')
  t.equal((await w.ctx.db('tasks').where({ id: task.id }).first()).status, 'open')
})

t.test('binding "version" with an expression reads the caller variables; a version that does not exist refuses the step', async (t) => {
  const w = await world(t, [
    child({ task: 'AppraiseV1' }),
    child({ task: 'AppraiseV2' }),
    parent({ attrs: 'camunda:calledElementBinding="version" camunda:calledElementVersion="${wanted}"' }),
  ])
  const d = await receive(w, { area: 1, wanted: 1 })
  t.same(
    (await childTasks(w, d.id)).map((x) => x.activity_id),
    ['AppraiseV1'],
  )
  const r = await w.officer.post('/api/dossiers', {
    procedureCode: 'GoiThamDinh',
    applicant: { name: 'Lê Thị Hoa', idNumber: '001190054321' },
    channel: 1,
    data: { area: 1, wanted: 9 },
  })
  const receiveTask = r.body.tasks.find((x: { activityId: string }) => x.activityId === 'Receive')
  const refused = await w.officer.post(`/api/tasks/${receiveTask.id}/complete`, { variables: {} })
  t.equal(refused.status, 422)
  t.equal(refused.body.error.code, 'CALLED_PROCEDURE_NOT_FOUND')
  t.equal((await w.ctx.db('tasks').where({ id: receiveTask.id }).first()).status, 'open', 'nothing changed')
})

t.test('a sequential multi-instance call activity starts the next called instance when the previous one ended', async (t) => {
  const w = await world(t, [
    child(),
    parent({
      mappings: '<camunda:in source="agency" target="consulted"/><camunda:out source="ketLuan" target="verdict"/>',
      loop: '<bpmn:multiInstanceLoopCharacteristics isSequential="true" camunda:collection="agencies" camunda:elementVariable="agency"/>',
    }),
  ])
  const d = await receive(w, { agencies: ['SXD', 'STNMT', 'SCT'] })
  const consulted: string[] = []
  for (let i = 0; i < 3; i++) {
    const tasks = await childTasks(w, d.id)
    t.equal(tasks.length, 1, 'one called instance at a time')
    const running = await w.ctx.db('process_instances').where({ dossier_id: d.id, call_depth: 1, status: 'running' })
    consulted.push(/"consulted":"(\w+)"/.exec(JSON.stringify(running[0].state))?.[1] ?? '')
    t.equal((await w.appraiser.post(`/api/tasks/${tasks[0].id}/complete`, { variables: { ketLuan: 'dat' } })).status, 200)
  }
  t.same(consulted, ['SXD', 'STNMT', 'SCT'], "in the list's order")
  t.same(activityIds(await openTasks(w, d.id)), ['Approve'])
})

t.test('a supplement handed in reaches the called procedure that waits for it', async (t) => {
  const waitsForSupplement = child().replace(
    '<bpmn:sequenceFlow id="c1" sourceRef="CStart" targetRef="Appraise"/>',
    '<bpmn:sequenceFlow id="c0" sourceRef="CStart" targetRef="AwaitSupplement"/><bpmn:intermediateCatchEvent id="AwaitSupplement" tthc:status="SUPPLEMENT_REQUESTED"><bpmn:messageEventDefinition messageRef="Msg_Supplement"/></bpmn:intermediateCatchEvent><bpmn:sequenceFlow id="c1" sourceRef="AwaitSupplement" targetRef="Appraise"/>',
  )
  const withMessage = waitsForSupplement
    .replace('<bpmn:process id="ThamDinh"', '<bpmn:message id="Msg_Supplement" name="SupplementSubmitted"/><bpmn:process id="ThamDinh"')
    .replace('<bpmn:userTask id="Appraise"', '<bpmn:userTask id="Appraise" tthc:status="IN_PROCESS"')
  const w = await world(t, [withMessage, parent()])
  const d = await receive(w)
  t.equal(
    (await w.officer.get(`/api/dossiers/${d.id}`)).body.dossier.status,
    'SUPPLEMENT_REQUESTED',
    "the called procedure's status moves the dossier",
  )
  t.same(await childTasks(w, d.id), [])
  const r = await w.officer.post(`/api/dossiers/${d.id}/supplement`, { note: 'Đã bổ sung bản vẽ' })
  t.equal(r.status, 200, JSON.stringify(r.body))
  t.same(
    (await childTasks(w, d.id)).map((x) => x.activity_id),
    ['Appraise'],
    'the called instance got the message and went on',
  )
  t.equal((await w.officer.get(`/api/dossiers/${d.id}`)).body.dossier.status, 'IN_PROCESS')
})
