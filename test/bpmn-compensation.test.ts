import t from 'tap'
import { fixture } from './helpers/context.ts'
import { activityIds, bpmnWorld, completeActivity, openTasks, submitDossier, type BpmnWorld } from './helpers/bpmn-world.ts'

/**
 * Compensation (Camunda 7) over real diagrams: a compensation end event runs the user-task handlers
 * of the activities that completed, one after the other, last completed first, and the process ends
 * only when they are done; an activity that never ran is not compensated; inside a sub-process a
 * throw compensates that scope (or the one activity its activityRef names) and waits for the handler.
 */
const diagram = fixture('bpmn/compensation.bpmn')
const scopeDiagram = fixture('bpmn/compensation-scope.bpmn')

const open = async (w: BpmnWorld, dossierId: string) => activityIds(await openTasks(w, dossierId))
const instanceStatus = async (w: BpmnWorld, dossierId: string) =>
  (await w.ctx.db('process_instances').where({ dossier_id: dossierId }).first()).status as string

t.test('a compensation end event runs both handlers in reverse order; the process ends after they are completed', async (t) => {
  const w = await bpmnWorld(t, diagram)
  const d = await submitDossier(w, 'CompensationDemo')
  await completeActivity(w, d.id, 'CollectFee')
  await completeActivity(w, d.id, 'IssueLicence')
  await completeActivity(w, d.id, 'Review', { decision: 'cancel' })
  t.same(await open(w, d.id), ['RevokeLicence'], 'the last completed activity is compensated first')
  t.equal(await instanceStatus(w, d.id), 'running', 'the end event waits for its handlers')
  await completeActivity(w, d.id, 'RevokeLicence')
  t.same(await open(w, d.id), ['RefundFee'], 'then the fee is refunded')
  t.equal(await instanceStatus(w, d.id), 'running')
  await completeActivity(w, d.id, 'RefundFee')
  t.equal(await instanceStatus(w, d.id), 'completed', 'the process ended once both handlers were completed')
  t.notOk(
    (await open(w, d.id)).some((a) => ['RefundFee', 'RevokeLicence'].includes(a)),
    'no handler runs twice',
  )
})

t.test('an activity that never ran is not compensated', async (t) => {
  const w = await bpmnWorld(t, diagram)
  const d = await submitDossier(w, 'CompensationDemo')
  await completeActivity(w, d.id, 'CollectFee', { licenceNeeded: false })
  t.same(await open(w, d.id), ['Review'], 'the licence was never issued')
  await completeActivity(w, d.id, 'Review', { decision: 'cancel' })
  t.same(await open(w, d.id), ['RefundFee'], 'only the fee is compensated')
  await completeActivity(w, d.id, 'RefundFee')
  t.equal(await instanceStatus(w, d.id), 'completed')
})

t.test('without compensation the handlers never run', async (t) => {
  const w = await bpmnWorld(t, diagram)
  const d = await submitDossier(w, 'CompensationDemo')
  await completeActivity(w, d.id, 'CollectFee')
  await completeActivity(w, d.id, 'IssueLicence')
  await completeActivity(w, d.id, 'Review', { decision: 'keep' })
  t.equal(await instanceStatus(w, d.id), 'completed')
  const handlers = await w.ctx.db('tasks').where({ dossier_id: d.id }).whereIn('activity_id', ['RefundFee', 'RevokeLicence'])
  t.same(handlers, [])
})

t.test('compensation inside a sub-process compensates that scope; the throw waits for the handler', async (t) => {
  const w = await bpmnWorld(t, scopeDiagram)
  const d = await submitDossier(w, 'CompensationScopeDemo')
  await completeActivity(w, d.id, 'A')
  await completeActivity(w, d.id, 'X')
  await completeActivity(w, d.id, 'Y')
  t.same(await open(w, d.id), ['UndoX'], 'activityRef="X": only X is compensated, and the sub-process waits')
  await completeActivity(w, d.id, 'UndoX')
  t.same(await open(w, d.id), ['AfterSub'], 'the throw event went on once the handler was completed')
  await completeActivity(w, d.id, 'AfterSub')
  t.same(await open(w, d.id), ['UndoA'], 'the throw after the sub-process compensates the process scope: A')
  await completeActivity(w, d.id, 'UndoA')
  t.same(await open(w, d.id), ['After'])
  await completeActivity(w, d.id, 'After')
  t.equal(await instanceStatus(w, d.id), 'completed')
})

t.test('what compensation does not run is refused at deploy with the element and a precise code', async (t) => {
  const xml = (await import('node:fs')).readFileSync(new URL('./fixtures/bpmn/compensation.bpmn', import.meta.url), 'utf8')
  const w = await bpmnWorld(t, diagram)
  const cases: Array<[string, string, string, string]> = [
    [
      'a throw naming an activity without a compensation boundary',
      xml.replace(
        '<bpmn:compensateEventDefinition/></bpmn:endEvent>',
        '<bpmn:compensateEventDefinition activityRef="Review"/></bpmn:endEvent>',
      ),
      'Cancelled',
      'COMPENSATION_UNSUPPORTED',
    ],
    [
      'a handler on the sequence flow',
      xml.replace(
        '<bpmn:userTask id="RefundFee" name="Hoàn trả phí" isForCompensation="true" camunda:candidateGroups="specialists"/>',
        '<bpmn:userTask id="RefundFee" name="Hoàn trả phí" isForCompensation="true" camunda:candidateGroups="specialists"><bpmn:outgoing>fx</bpmn:outgoing></bpmn:userTask><bpmn:endEvent id="Ex"><bpmn:incoming>fx</bpmn:incoming></bpmn:endEvent><bpmn:sequenceFlow id="fx" sourceRef="RefundFee" targetRef="Ex"/>',
      ),
      'RefundFee',
      'COMPENSATION_HANDLER_INVALID',
    ],
    [
      'a handler no boundary links to',
      xml.replace('<bpmn:association id="a1" associationDirection="One" sourceRef="FeeCompensation" targetRef="RefundFee"/>', ''),
      'RefundFee',
      'COMPENSATION_HANDLER_INVALID',
    ],
  ]
  for (const [what, variant, elementId, code] of cases) {
    const r = await w.ctx.deploy(variant.replace('id="CompensationDemo"', 'id="CompensationVariant"'))
    t.equal(r.status, 422, what)
    const findings = r.body.error?.details?.findings ?? r.body.findings ?? []
    t.ok(
      findings.some((f: { elementId: string; code: string }) => f.elementId === elementId && f.code === code),
      `${what}: ${code} on ${elementId}`,
    )
  }
})
