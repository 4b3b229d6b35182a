import t from 'tap'
import { testContext } from './helpers/context.ts'
import { caller } from './helpers/api.ts'

/**
 * Deploy is never silent: whatever the runtime does not execute is refused (422, a finding with the
 * element id, a stable code and a Vietnamese message) when ignoring it changes behaviour, or
 * accepted with a warning when ignoring it is harmless. Valid exports of other tools deploy.
 */
const NS =
  'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
const defs = (inner: string, extra = '') =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions ${NS} ${extra} id="Defs" targetNamespace="http://dvc.example/bpmn">${inner}</bpmn:definitions>`
const proc = (body: string, head = '') => `${head}<bpmn:process id="Probe" name="Thử" isExecutable="true">${body}</bpmn:process>`
/** start → `middle` (which must have id X, incoming f1, outgoing f2) → end. */
const around = (middle: string, more = '') =>
  defs(
    proc(`<bpmn:startEvent id="S"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="S" targetRef="X"/>${middle}<bpmn:sequenceFlow id="f2" sourceRef="X" targetRef="E"/>
  <bpmn:endEvent id="E"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>${more}`),
  )
const task = (attrs = '', inner = '') =>
  `<bpmn:userTask id="X" name="Xử lý" camunda:candidateGroups="one-stop" ${attrs}><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>${inner}</bpmn:userTask>`
const ext = (xml: string) => `<bpmn:extensionElements>${xml}</bpmn:extensionElements>`
const boundary = (id: string, definition: string, cancel = true) =>
  `<bpmn:boundaryEvent id="${id}" attachedToRef="X" cancelActivity="${cancel}"><bpmn:outgoing>b1</bpmn:outgoing>${definition}</bpmn:boundaryEvent><bpmn:sequenceFlow id="b1" sourceRef="${id}" targetRef="E2"/><bpmn:endEvent id="E2"><bpmn:incoming>b1</bpmn:incoming></bpmn:endEvent>`
const eventSub = (startId: string, definition: string) =>
  `<bpmn:subProcess id="Ev" triggeredByEvent="true"><bpmn:startEvent id="${startId}">${definition}<bpmn:outgoing>e1</bpmn:outgoing></bpmn:startEvent><bpmn:sequenceFlow id="e1" sourceRef="${startId}" targetRef="EvEnd"/><bpmn:endEvent id="EvEnd"><bpmn:incoming>e1</bpmn:incoming></bpmn:endEvent></bpmn:subProcess>`
const MESSAGE = '<bpmn:message id="M1" name="HoSoLienThong"/>'
const JS_TEXT = /TypeError|Cannot read|is not a function|undefined|\(reading|at Object\./

const REFUSED: Array<[string, string, string, string]> = [
  [
    'camunda:inputOutput with a script parameter',
    around(
      task(
        '',
        ext(
          '<camunda:inputOutput><camunda:inputParameter name="a"><camunda:script scriptFormat="javascript">1</camunda:script></camunda:inputParameter></camunda:inputOutput>',
        ),
      ),
    ),
    'X',
    'INPUT_OUTPUT_SCRIPT_UNSUPPORTED',
  ],
  [
    'camunda:inputOutput on a multi-instance task',
    around(
      task(
        '',
        ext('<camunda:inputOutput><camunda:inputParameter name="a">1</camunda:inputParameter></camunda:inputOutput>') +
          '<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>2</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>',
      ),
    ),
    'X',
    'INPUT_OUTPUT_UNSUPPORTED',
  ],
  [
    'camunda:inputOutput on a boundary event (Camunda 7 refuses it)',
    around(
      task(),
      '<bpmn:boundaryEvent id="B" attachedToRef="X"><bpmn:extensionElements><camunda:inputOutput><camunda:outputParameter name="a">1</camunda:outputParameter></camunda:inputOutput></bpmn:extensionElements><bpmn:outgoing>b1</bpmn:outgoing><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent><bpmn:sequenceFlow id="b1" sourceRef="B" targetRef="E2"/><bpmn:endEvent id="E2"><bpmn:incoming>b1</bpmn:incoming></bpmn:endEvent>',
    ),
    'B',
    'INPUT_OUTPUT_UNSUPPORTED',
  ],
  [
    'camunda:inputOutput on a start event (Camunda 7 refuses it)',
    defs(
      proc(
        '<bpmn:startEvent id="S"><bpmn:extensionElements><camunda:inputOutput><camunda:outputParameter name="a">1</camunda:outputParameter></camunda:inputOutput></bpmn:extensionElements><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent><bpmn:sequenceFlow id="f1" sourceRef="S" targetRef="E"/><bpmn:endEvent id="E"><bpmn:incoming>f1</bpmn:incoming></bpmn:endEvent>',
      ),
    ),
    'S',
    'INPUT_OUTPUT_UNSUPPORTED',
  ],
  [
    'an output parameter on an end event (Camunda 7 refuses it: nothing follows to read it)',
    around('<bpmn:task id="X"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:task>').replace(
      '<bpmn:endEvent id="E">',
      '<bpmn:endEvent id="E"><bpmn:extensionElements><camunda:inputOutput><camunda:outputParameter name="a">1</camunda:outputParameter></camunda:inputOutput></bpmn:extensionElements>',
    ),
    'E',
    'INPUT_OUTPUT_UNSUPPORTED',
  ],
  [
    'camunda:formData with a custom field type',
    around(task('', ext('<camunda:formData><camunda:formField id="ok" type="vn.gov.Money"/></camunda:formData>'))),
    'X',
    'FORM_FIELD_TYPE_UNSUPPORTED',
  ],
  [
    'camunda:formData with a custom validator',
    around(
      task(
        '',
        ext(
          '<camunda:formData><camunda:formField id="ok" type="string"><camunda:validation><camunda:constraint name="validator" config="vn.gov.Check"/></camunda:validation></camunda:formField></camunda:formData>',
        ),
      ),
    ),
    'X',
    'FORM_CONSTRAINT_UNSUPPORTED',
  ],
  [
    'camunda:formData with an expression default',
    around(task('', ext('<camunda:formData><camunda:formField id="ok" type="long" defaultValue="${fee}"/></camunda:formData>'))),
    'X',
    'FORM_FIELD_DEFAULT_UNSUPPORTED',
  ],
  [
    'camunda:formData on a start event',
    defs(
      proc(
        '<bpmn:startEvent id="X"><bpmn:extensionElements><camunda:formData><camunda:formField id="ok" type="boolean"/></camunda:formData></bpmn:extensionElements><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent><bpmn:sequenceFlow id="f1" sourceRef="X" targetRef="E"/><bpmn:endEvent id="E"><bpmn:incoming>f1</bpmn:incoming></bpmn:endEvent>',
      ),
    ),
    'X',
    'FORM_DATA_UNSUPPORTED',
  ],
  [
    'task listener with a class',
    around(task('', ext('<camunda:taskListener class="vn.gov.Notify" event="create"/>'))),
    'X',
    'LISTENER_UNSUPPORTED',
  ],
  [
    'execution listener with an expression',
    around(task('', ext('<camunda:executionListener expression="${log.info()}" event="start"/>'))),
    'X',
    'LISTENER_UNSUPPORTED',
  ],
  [
    'service task camunda:class',
    around(
      '<bpmn:serviceTask id="X" camunda:class="vn.gov.Archive"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:serviceTask>',
    ),
    'X',
    'SERVICE_TASK_UNSUPPORTED',
  ],
  [
    'service task delegateExpression',
    around(
      '<bpmn:serviceTask id="X" camunda:delegateExpression="${archive}"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:serviceTask>',
    ),
    'X',
    'SERVICE_TASK_UNSUPPORTED',
  ],
  [
    'external service task without a topic',
    around(
      '<bpmn:serviceTask id="X" camunda:type="external"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:serviceTask>',
    ),
    'X',
    'HANDOFF_INVALID',
  ],
  [
    'handoff to an adapter the system does not have',
    around(
      '<bpmn:serviceTask id="X"><bpmn:extensionElements><tthc:handoff agency="CA-XA" adapter="fax" topic="police"/></bpmn:extensionElements><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:serviceTask>',
    ),
    'X',
    'HANDOFF_INVALID',
  ],
  [
    'handoff with an unreadable retry cycle',
    around(
      '<bpmn:serviceTask id="X" camunda:type="external" camunda:topic="archive"><bpmn:extensionElements><camunda:failedJobRetryTimeCycle>sometimes</camunda:failedJobRetryTimeCycle></bpmn:extensionElements><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:serviceTask>',
    ),
    'X',
    'HANDOFF_INVALID',
  ],
  [
    'service task without implementation',
    around('<bpmn:serviceTask id="X"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:serviceTask>'),
    'X',
    'SERVICE_TASK_UNSUPPORTED',
  ],
  [
    'send task',
    around('<bpmn:sendTask id="X"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:sendTask>'),
    'X',
    'SERVICE_TASK_UNSUPPORTED',
  ],
  [
    'business rule task (DMN)',
    around(
      '<bpmn:businessRuleTask id="X" camunda:decisionRef="phi"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:businessRuleTask>',
    ),
    'X',
    'BUSINESS_RULE_TASK_UNSUPPORTED',
  ],
  [
    'conditional intermediate catch whose condition does not parse',
    around(
      '<bpmn:intermediateCatchEvent id="X"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing><bpmn:conditionalEventDefinition><bpmn:condition xsi:type="bpmn:tFormalExpression">${paid ==}</bpmn:condition></bpmn:conditionalEventDefinition></bpmn:intermediateCatchEvent>',
    ),
    'X',
    'EXPRESSION_INVALID',
  ],
  [
    'conditional boundary with a script condition',
    around(
      task(),
      boundary(
        'B',
        '<bpmn:conditionalEventDefinition><bpmn:condition xsi:type="bpmn:tFormalExpression" language="javascript">late</bpmn:condition></bpmn:conditionalEventDefinition>',
      ),
    ),
    'B',
    'CONDITIONAL_EVENT_UNSUPPORTED',
  ],
  [
    'conditional event sub-process start with an unknown camunda:variableEvents',
    around(
      task(),
      eventSub(
        'C',
        '<bpmn:conditionalEventDefinition camunda:variableEvents="change"><bpmn:condition xsi:type="bpmn:tFormalExpression">${late}</bpmn:condition></bpmn:conditionalEventDefinition>',
      ),
    ),
    'C',
    'ATTRIBUTE_UNSUPPORTED',
  ],
  [
    'conditional start event of the process',
    defs(
      proc(
        '<bpmn:startEvent id="S"><bpmn:outgoing>f1</bpmn:outgoing><bpmn:conditionalEventDefinition><bpmn:condition xsi:type="bpmn:tFormalExpression">${late}</bpmn:condition></bpmn:conditionalEventDefinition></bpmn:startEvent><bpmn:sequenceFlow id="f1" sourceRef="S" targetRef="E"/><bpmn:endEvent id="E"><bpmn:incoming>f1</bpmn:incoming></bpmn:endEvent>',
      ),
    ),
    'S',
    'CONDITIONAL_EVENT_UNSUPPORTED',
  ],
  [
    'compensation boundary without a handler',
    around(task(), '<bpmn:boundaryEvent id="B" attachedToRef="X"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>'),
    'B',
    'COMPENSATION_HANDLER_INVALID',
  ],
  [
    'compensation throw that does not wait (waitForCompletion="false")',
    around(
      '<bpmn:intermediateThrowEvent id="X"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing><bpmn:compensateEventDefinition waitForCompletion="false"/></bpmn:intermediateThrowEvent>',
    ),
    'X',
    'COMPENSATION_UNSUPPORTED',
  ],
  ['compensation event sub-process', around(task(), eventSub('C', '<bpmn:compensateEventDefinition/>')), 'C', 'COMPENSATION_UNSUPPORTED'],
  [
    'signal catch without a signal (nothing can be delivered to it)',
    around(
      '<bpmn:intermediateCatchEvent id="X"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing><bpmn:signalEventDefinition/></bpmn:intermediateCatchEvent>',
    ),
    'X',
    'SIGNAL_EVENT_UNSUPPORTED',
  ],
  [
    'signal throw (a broadcast to every instance is not run)',
    around(
      '<bpmn:intermediateThrowEvent id="X"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing><bpmn:signalEventDefinition/></bpmn:intermediateThrowEvent>',
    ),
    'X',
    'SIGNAL_EVENT_UNSUPPORTED',
  ],
  [
    'escalation throw without escalationRef (nothing could catch it)',
    around(
      '<bpmn:intermediateThrowEvent id="X"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing><bpmn:escalationEventDefinition/></bpmn:intermediateThrowEvent>',
    ),
    'X',
    'ESCALATION_REF_MISSING',
  ],
  [
    'two message start events of the process for one message (Camunda 7 allows one)',
    defs(
      MESSAGE +
        proc(
          '<bpmn:startEvent id="S"><bpmn:outgoing>f1</bpmn:outgoing><bpmn:messageEventDefinition messageRef="M1"/></bpmn:startEvent><bpmn:startEvent id="S2"><bpmn:outgoing>f2</bpmn:outgoing><bpmn:messageEventDefinition messageRef="M1"/></bpmn:startEvent><bpmn:sequenceFlow id="f1" sourceRef="S" targetRef="E"/><bpmn:sequenceFlow id="f2" sourceRef="S2" targetRef="E"/><bpmn:endEvent id="E"><bpmn:incoming>f1</bpmn:incoming><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>',
        ),
    ),
    'S2',
    'MESSAGE_START_DUPLICATE',
  ],
  [
    'message catch without a message (nothing can be delivered to it)',
    defs(
      MESSAGE +
        proc(
          '<bpmn:startEvent id="S"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent><bpmn:sequenceFlow id="f1" sourceRef="S" targetRef="X"/><bpmn:intermediateCatchEvent id="X"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing><bpmn:messageEventDefinition/></bpmn:intermediateCatchEvent><bpmn:sequenceFlow id="f2" sourceRef="X" targetRef="E"/><bpmn:endEvent id="E"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>',
        ),
    ),
    'X',
    'MESSAGE_UNDELIVERABLE',
  ],
  [
    'message start of an event sub-process nested in a sub-process, without a message (nothing can reach it)',
    defs(
      MESSAGE +
        proc(
          `<bpmn:startEvent id="S"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent><bpmn:sequenceFlow id="f1" sourceRef="S" targetRef="X"/><bpmn:subProcess id="X"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing><bpmn:startEvent id="IS"><bpmn:outgoing>i1</bpmn:outgoing></bpmn:startEvent><bpmn:sequenceFlow id="i1" sourceRef="IS" targetRef="IE"/><bpmn:endEvent id="IE"><bpmn:incoming>i1</bpmn:incoming></bpmn:endEvent>${eventSub('Ms', '<bpmn:messageEventDefinition/>')}</bpmn:subProcess><bpmn:sequenceFlow id="f2" sourceRef="X" targetRef="E"/><bpmn:endEvent id="E"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>`,
        ),
    ),
    'Ms',
    'MESSAGE_UNDELIVERABLE',
  ],
  [
    'timer event sub-process whose timer has no value',
    around(task(), eventSub('Ti', '<bpmn:timerEventDefinition><bpmn:timeDuration></bpmn:timeDuration></bpmn:timerEventDefinition>')),
    'Ti',
    'TIMER_INVALID',
  ],
  [
    'complex gateway',
    around('<bpmn:complexGateway id="X"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:complexGateway>'),
    'X',
    'ELEMENT_UNSUPPORTED',
  ],
  [
    'ad-hoc sub-process',
    around('<bpmn:adHocSubProcess id="X"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:adHocSubProcess>'),
    'X',
    'ELEMENT_UNSUPPORTED',
  ],
  ['two none start events', around(task(), '<bpmn:startEvent id="S2"/>'), 'S2', 'START_EVENT_AMBIGUOUS'],
  [
    'call activity with a variable mapping',
    around(
      '<bpmn:callActivity id="X" calledElement="Probe">' +
        ext('<camunda:in source="a" target="b"/>') +
        '<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:callActivity>',
    ),
    'X',
    'CALL_ACTIVITY_MAPPING_UNSUPPORTED',
  ],
]

t.test(
  'what the runtime does not execute and would change behaviour is refused with the element id, a code and a Vietnamese message',
  async (t) => {
    const ctx = await testContext(t)
    for (const [what, xml, elementId, code] of REFUSED) {
      const r = await ctx.deploy(xml)
      t.equal(r.status, 422, `${what}: 422`)
      const f = r.body.error?.details?.findings?.find((x: { code: string }) => x.code === code)
      t.match(
        f,
        { elementId, code, severity: 'error' },
        `${what}: ${code} on ${elementId} (${JSON.stringify(r.body.error?.details?.findings?.map((x: { code: string }) => x.code))})`,
      )
      t.notMatch(JSON.stringify(r.body.error?.details ?? {}), JS_TEXT, `${what}: no JavaScript error text`)
    }
    t.equal(Number((await ctx.db('procedure_versions').count('* as n'))[0]!.n), 0, 'nothing deployed')
  },
)

t.test('what is harmless to ignore deploys (201) with a warning naming it', async (t) => {
  const ctx = await testContext(t)
  const cases: Array<[string, string, string, string]> = [
    ['camunda:asyncBefore', around(task('camunda:asyncBefore="true"')), 'X', 'ATTRIBUTE_IGNORED'],
    ['camunda:exclusive', around(task('camunda:asyncAfter="true" camunda:exclusive="false"')), 'X', 'ATTRIBUTE_IGNORED'],
    ['empty execution listener', around(task('', ext('<camunda:executionListener event="start"/>'))), 'X', 'LISTENER_IGNORED'],
    ['documentation', around(task('', '<bpmn:documentation>Kiểm tra thành phần hồ sơ</bpmn:documentation>')), 'X', 'DOCUMENTATION_IGNORED'],
    [
      'camunda:versionTag and historyTimeToLive',
      defs(
        proc(
          '<bpmn:startEvent id="S"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent><bpmn:sequenceFlow id="f1" sourceRef="S" targetRef="E"/><bpmn:endEvent id="E"><bpmn:incoming>f1</bpmn:incoming></bpmn:endEvent>',
        ).replace('isExecutable="true"', 'isExecutable="true" camunda:versionTag="2.1" camunda:historyTimeToLive="180"'),
      ),
      'Probe',
      'ATTRIBUTE_IGNORED',
    ],
  ]
  for (const [what, xml, elementId, code] of cases) {
    const r = await ctx.deploy(xml)
    t.ok(r.status === 201 || r.status === 200, `${what}: deployed (${r.status} ${JSON.stringify(r.body.error ?? '')})`)
    t.match(
      r.body.warnings?.find((w: { code: string }) => w.code === code),
      { elementId, code },
      `${what}: warning ${code}`,
    )
  }
})

const FEEL_CONDITION = defs(
  proc(`<bpmn:startEvent id="S"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent><bpmn:sequenceFlow id="f1" sourceRef="S" targetRef="G"/>
  <bpmn:exclusiveGateway id="G" default="no"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>yes</bpmn:outgoing><bpmn:outgoing>no</bpmn:outgoing></bpmn:exclusiveGateway>
  <bpmn:sequenceFlow id="yes" sourceRef="G" targetRef="Approve"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" language="https://www.omg.org/spec/DMN/20191111/FEEL/">amount &gt; 1000</bpmn:conditionExpression></bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="no" sourceRef="G" targetRef="Check"/>
  <bpmn:userTask id="Approve" camunda:candidateGroups="leaders"><bpmn:incoming>yes</bpmn:incoming><bpmn:outgoing>a1</bpmn:outgoing></bpmn:userTask>
  <bpmn:userTask id="Check" camunda:candidateGroups="one-stop"><bpmn:incoming>no</bpmn:incoming><bpmn:outgoing>c1</bpmn:outgoing></bpmn:userTask>
  <bpmn:sequenceFlow id="a1" sourceRef="Approve" targetRef="E"/><bpmn:sequenceFlow id="c1" sourceRef="Check" targetRef="E"/>
  <bpmn:endEvent id="E"><bpmn:incoming>a1</bpmn:incoming><bpmn:incoming>c1</bpmn:incoming></bpmn:endEvent>`),
)

t.test(
  'valid exports of other tools deploy: performer, itemDefinition, a message flow into a sub-process, a FEEL condition by its URI, a prefix bound to the target namespace',
  async (t) => {
    const ctx = await testContext(t)
    const exports: Array<[string, string]> = [
      ['performer without an assignment expression', around(task('', '<bpmn:performer id="Perf"/>'))],
      [
        'top-level itemDefinition',
        defs(
          '<bpmn:itemDefinition id="Item_Amount" structureRef="xsd:int"/>' +
            proc(
              '<bpmn:startEvent id="S"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent><bpmn:sequenceFlow id="f1" sourceRef="S" targetRef="X"/>' +
                task() +
                '<bpmn:sequenceFlow id="f2" sourceRef="X" targetRef="E"/><bpmn:endEvent id="E"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>',
            ),
        ),
      ],
      [
        'message flow into a task inside a sub-process',
        defs(
          '<bpmn:collaboration id="Col"><bpmn:participant id="Pool" processRef="Probe"/><bpmn:participant id="Citizen" name="Công dân"/><bpmn:messageFlow id="Mf" sourceRef="Citizen" targetRef="Inner"/></bpmn:collaboration>' +
            proc(`<bpmn:startEvent id="S"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent><bpmn:sequenceFlow id="f1" sourceRef="S" targetRef="X"/>
      <bpmn:subProcess id="X"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing><bpmn:startEvent id="In"><bpmn:outgoing>i1</bpmn:outgoing></bpmn:startEvent><bpmn:sequenceFlow id="i1" sourceRef="In" targetRef="Inner"/><bpmn:userTask id="Inner" camunda:candidateGroups="one-stop"><bpmn:incoming>i1</bpmn:incoming><bpmn:outgoing>i2</bpmn:outgoing></bpmn:userTask><bpmn:sequenceFlow id="i2" sourceRef="Inner" targetRef="Out"/><bpmn:endEvent id="Out"><bpmn:incoming>i2</bpmn:incoming></bpmn:endEvent></bpmn:subProcess>
      <bpmn:sequenceFlow id="f2" sourceRef="X" targetRef="E"/><bpmn:endEvent id="E"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>`),
        ),
      ],
      ['FEEL condition with the OMG FEEL language URI', FEEL_CONDITION],
      [
        'prefix bound to the target namespace',
        defs(
          '<bpmn:message id="Msg_Supplement" name="SupplementSubmitted"/>' +
            proc(
              '<bpmn:startEvent id="S"><bpmn:outgoing>tns:f1</bpmn:outgoing></bpmn:startEvent><bpmn:sequenceFlow id="f1" sourceRef="tns:S" targetRef="tns:X"/><bpmn:receiveTask id="X" messageRef="tns:Msg_Supplement"><bpmn:incoming>tns:f1</bpmn:incoming><bpmn:outgoing>tns:f2</bpmn:outgoing></bpmn:receiveTask><bpmn:sequenceFlow id="f2" sourceRef="tns:X" targetRef="tns:E"/><bpmn:endEvent id="E"><bpmn:incoming>tns:f2</bpmn:incoming></bpmn:endEvent>',
            ),
          'xmlns:tns="http://dvc.example/bpmn"',
        ),
      ],
    ]
    for (const [what, xml] of exports) {
      const r = await ctx.deploy(xml.replaceAll('"Probe"', `"Probe_${exports.findIndex((e) => e[1] === xml)}"`))
      t.equal(r.status, 201, `${what}: 201 ${JSON.stringify(r.body.error ?? '')}`)
    }

    const reception = await caller(ctx, { userId: 'mot-cua', roles: ['officer'], groups: ['one-stop'] })
    const submit = async (amount: number) =>
      (
        await reception.post('/api/dossiers', {
          procedureCode: 'Probe_3',
          applicant: { name: 'Phạm Thu Trang', idNumber: '001090022222' },
          channel: 1,
          data: { amount },
        })
      ).body.tasks.map((x: { activityId: string }) => x.activityId)
    t.same(await submit(5000), ['Approve'], 'the FEEL condition (no leading =) holds for 5000')
    t.same(await submit(10), ['Check'], 'and not for 10: the default flow')
  },
)

t.test('two executable pools are refused with one clear finding', async (t) => {
  const ctx = await testContext(t)
  const pool = (id: string) =>
    `<bpmn:process id="${id}" isExecutable="true"><bpmn:startEvent id="S_${id}"><bpmn:outgoing>f_${id}</bpmn:outgoing></bpmn:startEvent><bpmn:sequenceFlow id="f_${id}" sourceRef="S_${id}" targetRef="E_${id}"/><bpmn:endEvent id="E_${id}"><bpmn:incoming>f_${id}</bpmn:incoming></bpmn:endEvent></bpmn:process>`
  const r = await ctx.deploy(
    defs(
      `<bpmn:collaboration id="Col"><bpmn:participant id="PA" processRef="Agency"/><bpmn:participant id="PB" processRef="Citizen"/></bpmn:collaboration>${pool('Agency')}${pool('Citizen')}`,
    ),
  )
  t.equal(r.status, 422)
  t.equal(r.body.error.details.findings.length, 1, 'one finding')
  t.match(r.body.error.details.findings[0], {
    code: 'MULTIPLE_EXECUTABLE_PROCESSES',
    elementId: 'Citizen',
    message: /isExecutable="false"/,
  })
})
