import { checkExpression, isExpression } from './expressions.ts'
import { checkInputOutput } from './input-output-support.ts'
import type { IoMapping } from './input-output.ts'
import { checkConditional, CONDITIONAL_ATTRIBUTES } from './conditional-events.ts'
import { checkCompensation } from './compensation-support.ts'
import { checkHandoff, isHandoffElement } from './handoff-support.ts'

/**
 * What the runtime executes, checked at deploy (docs/procedures.md#what-is-supported): everything an
 * analyst can draw either runs as Camunda 7 runs it, is refused (an error finding: ignoring it would
 * change what the procedure does), or is accepted with a warning (ignoring it is harmless). Nothing
 * is ignored without a word.
 */
interface El {
  $type: string
  id?: string
  name?: string
  // A moddle element read generically: attribute values are strings, booleans, elements or lists of them.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- walked over every BPMN element type; narrowed where read
  [k: string]: any
}

type Report = (elementId: string | null, code: string, message: string) => void
interface Reporters {
  error: Report
  warn: Report
}

/**
 * Messages the system itself delivers (lifecycle.service `deliver`: the applicant's supplement, the
 * payment gateway's confirmation). Any other named message is delivered by POST /api/messages.
 */
export const DELIVERABLE_MESSAGES: readonly string[] = ['SupplementSubmitted', 'PaymentReceived']

/** Flow element types the runtime executes (others, e.g. complex gateways, ad-hoc sub-processes, transactions, are refused). */
const RUNNABLE = new Set([
  'bpmn:StartEvent',
  'bpmn:EndEvent',
  'bpmn:IntermediateCatchEvent',
  'bpmn:IntermediateThrowEvent',
  'bpmn:BoundaryEvent',
  'bpmn:Task',
  'bpmn:UserTask',
  'bpmn:ManualTask',
  'bpmn:ReceiveTask',
  'bpmn:ScriptTask',
  'bpmn:ServiceTask',
  'bpmn:SendTask',
  'bpmn:BusinessRuleTask',
  'bpmn:CallActivity',
  'bpmn:SubProcess',
  'bpmn:ExclusiveGateway',
  'bpmn:ParallelGateway',
  'bpmn:InclusiveGateway',
  'bpmn:EventBasedGateway',
  'bpmn:SequenceFlow',
  'bpmn:DataObject',
  'bpmn:DataObjectReference',
  'bpmn:DataStoreReference',
])

/** Tasks Camunda 7 implements like a service task (class, delegateExpression, expression, external). */
const SERVICE_LIKE = new Set(['bpmn:ServiceTask', 'bpmn:SendTask', 'bpmn:BusinessRuleTask'])

/** `camunda:` attributes the runtime executes; checked where they apply (definition.ts, multi-instance.ts). */
const SUPPORTED_ATTRIBUTES = new Set([
  'candidateGroups',
  'candidateUsers',
  'assignee',
  'dueDate',
  'followUpDate',
  'formKey',
  'collection',
  'elementVariable',
  'calledElementBinding',
])

/** `camunda:` attributes whose absence of effect is harmless: accepted with a warning. */
const HARMLESS_ATTRIBUTES = new Set([
  'async',
  'asyncBefore',
  'asyncAfter',
  'exclusive',
  'jobPriority',
  'taskPriority',
  'priority',
  'versionTag',
  'historyTimeToLive',
  'isStartableInTasklist',
  'candidateStarterGroups',
  'candidateStarterUsers',
  'modelerTemplate',
  'modelerTemplateVersion',
  'diagramRelationId',
])

const ATTRIBUTE_MEANING: Record<string, string> = {
  class: 'lớp Java không chạy được trong hệ thống này',
  delegateExpression: 'delegate Java không chạy được trong hệ thống này',
  type: 'external task chưa được hỗ trợ (sẽ thành công việc bền vững khi có chức năng liên thông)',
  topic: 'external task chưa được hỗ trợ',
  decisionRef: 'bảng quyết định DMN chưa được hỗ trợ',
  errorCodeVariable: 'biến nhận mã lỗi chưa được gán',
  errorMessageVariable: 'biến nhận thông điệp lỗi chưa được gán',
  formRef: 'biểu mẫu Camunda Forms chưa được hỗ trợ (dùng camunda:formKey)',
  formHandlerClass: 'lớp Java xử lý biểu mẫu không chạy được',
  calledElementVersion: 'chỉ gọi được quy trình trong cùng tệp hoặc thư viện dùng chung',
  calledElementVersionTag: 'chỉ gọi được quy trình trong cùng tệp hoặc thư viện dùng chung',
  calledElementTenantId: 'không có khái niệm tenant',
  caseRef: 'CMMN không được hỗ trợ',
  variableMappingClass: 'lớp Java ánh xạ biến không chạy được',
  variableMappingDelegateExpression: 'delegate Java ánh xạ biến không chạy được',
}

const label = (el: El) => `"${el.name ?? el.id}"`
const defsOf = (el: El): El[] => (el.eventDefinitions ?? []) as El[]
const hasDef = (el: El, type: string) => defsOf(el).some((d) => d.$type === `bpmn:${type}EventDefinition`)

/** The `camunda:` attributes set on an element (moddle keeps them as properties of the element's type). */
function camundaAttributes(el: El): string[] {
  const props = (el.$descriptor?.properties ?? []) as Array<{ name: string; ns?: { prefix?: string }; isAttr?: boolean }>
  return props
    .filter((p) => p.ns?.prefix === 'camunda' && p.isAttr && Object.hasOwn(el, p.name) && el[p.name] !== undefined && el[p.name] !== '')
    .map((p) => p.name)
}

/** Audits one flow element (or the process itself) against what the runtime executes. */
export function supportFindings(el: El, r: Reporters): void {
  const id = el.id ?? null
  if (el.$type !== 'bpmn:Process' && !RUNNABLE.has(el.$type)) {
    r.error(
      id,
      'ELEMENT_UNSUPPORTED',
      `Phần tử ${label(el)} (${el.$type.replace('bpmn:', '')}) không được hệ thống chạy (Camunda 7 cũng không chạy hoặc chưa được hỗ trợ): hãy vẽ lại bằng các phần tử được hỗ trợ`,
    )
    return
  }
  checkAttributes(el, r)
  checkExtensions(el, r)
  if (el.documentation?.length) r.warn(id, 'DOCUMENTATION_IGNORED', 'Phần mô tả (documentation) chỉ để đọc, hệ thống không dùng đến')
  if (el.loopCharacteristics?.$type === 'bpmn:StandardLoopCharacteristics')
    r.error(
      id,
      'LOOP_UNSUPPORTED',
      `Vòng lặp chuẩn (standard loop) trên ${label(el)} không được hỗ trợ (Camunda 7 cũng không): dùng đa thể hiện hoặc một cổng quay lại`,
    )
  checkCompensation(el, r)
  if (SERVICE_LIKE.has(el.$type)) checkServiceLike(el, r)
  if (el.$type === 'bpmn:ManualTask')
    r.warn(id, 'MANUAL_TASK_WAITS', `Manual task ${label(el)} thành một công việc chờ cán bộ hoàn thành (Camunda 7 thì bỏ qua bước này)`)
  if (el.$type === 'bpmn:ReceiveTask') checkMessage(el, el.messageRef, r)
  if (el.$type === 'bpmn:DataObject' || el.$type === 'bpmn:DataStoreReference')
    r.warn(id, 'DATA_IGNORED', `Dữ liệu ${label(el)} chỉ để minh hoạ: hệ thống không tạo biến từ nó`)
  if (el.$type === 'bpmn:SubProcess' || el.$type === 'bpmn:Process') checkStarts(el, r)
  checkEvents(el, r)
  checkResources(el, r)
}

function checkAttributes(el: El, r: Reporters): void {
  const id = el.id ?? null
  for (const name of camundaAttributes(el)) {
    if (SUPPORTED_ATTRIBUTES.has(name)) continue
    if (name === 'taskPriority' && isHandoffElement(el)) continue
    if (HARMLESS_ATTRIBUTES.has(name)) {
      r.warn(
        id,
        'ATTRIBUTE_IGNORED',
        `camunda:${name} trên ${label(el)} không có tác dụng ở hệ thống này (mỗi bước chạy trong giao dịch của thao tác gây ra nó)`,
      )
      continue
    }
    // A service task's own implementation is judged by checkServiceLike.
    if (
      SERVICE_LIKE.has(el.$type) &&
      [
        'class',
        'delegateExpression',
        'type',
        'topic',
        'expression',
        'resultVariable',
        'decisionRef',
        'decisionRefBinding',
        'decisionRefVersion',
        'mapDecisionResult',
        'decisionRefTenantId',
      ].includes(name)
    )
      continue
    if (name === 'initiator' && el.initiator === 'initiator') continue
    const why = ATTRIBUTE_MEANING[name] ?? 'hệ thống không thực hiện thuộc tính này'
    r.error(id, 'ATTRIBUTE_UNSUPPORTED', `camunda:${name} trên ${label(el)} bị từ chối: ${why}`)
  }
  if (
    el.$type === 'bpmn:CallActivity' &&
    el.calledElementBinding !== undefined &&
    !['latest', 'deployment'].includes(el.calledElementBinding)
  ) {
    r.error(
      id,
      'ATTRIBUTE_UNSUPPORTED',
      `camunda:calledElementBinding="${el.calledElementBinding}" trên ${label(el)} bị từ chối: quy trình được gọi là bản trong cùng tệp hoặc thư viện lúc triển khai`,
    )
  }
  if (el.$type === 'bpmn:StartEvent' && el.formKey !== undefined)
    r.warn(id, 'ATTRIBUTE_IGNORED', `camunda:formKey trên sự kiện bắt đầu ${label(el)} không được dùng: hồ sơ bắt đầu khi được nộp`)
}

const LISTENER_TYPES = new Set(['camunda:ExecutionListener', 'camunda:TaskListener'])

function checkExtensions(el: El, r: Reporters): void {
  const id = el.id ?? null
  for (const ext of (el.extensionElements?.values ?? []) as El[]) {
    const type = ext.$type
    if (type.startsWith('tthc:')) continue
    // A handoff's retry cycle drives its retries (docs/handoffs.md).
    if (type === 'camunda:FailedJobRetryTimeCycle' && isHandoffElement(el)) continue
    if (LISTENER_TYPES.has(type)) {
      const acts = ext.class || ext.expression || ext.delegateExpression || ext.script
      if (acts)
        r.error(
          id,
          'LISTENER_UNSUPPORTED',
          `Listener (${type.replace('camunda:', '')}, sự kiện "${ext.event ?? ''}") trên ${label(el)} bị từ chối: hệ thống không chạy mã hay biểu thức trong listener`,
        )
      else r.warn(id, 'LISTENER_IGNORED', `Listener rỗng trên ${label(el)} không có tác dụng`)
    } else if (type === 'camunda:InputOutput') {
      checkInputOutput(el, ext as IoMapping, r)
    } else if (type === 'camunda:FormData' && el.$type === 'bpmn:UserTask') {
      // A user task's form is read, and judged field by field, with the task (form-data.ts).
    } else if (type === 'camunda:FormData' || type === 'camunda:FormProperty') {
      r.error(
        id,
        'FORM_DATA_UNSUPPORTED',
        `Biểu mẫu nhúng (${type}) trên ${label(el)} không được hỗ trợ: chỉ camunda:formData trên user task (hồ sơ bắt đầu khi được nộp)`,
      )
    } else if (type === 'camunda:In' || type === 'camunda:Out') {
      // The runtime hands every variable to the called process and back, i.e. `variables="all"`.
      if (!(ext.variables === 'all' && !ext.local) && ext.businessKey === undefined) {
        r.error(
          id,
          'CALL_ACTIVITY_MAPPING_UNSUPPORTED',
          `${type} trên ${label(el)} bị từ chối: hệ thống luôn chuyển mọi biến sang quy trình được gọi và ngược lại (như variables="all")`,
        )
      }
    } else if (type === 'camunda:Properties' || type === 'camunda:FailedJobRetryTimeCycle' || type === 'camunda:PotentialStarter') {
      r.warn(id, 'EXTENSION_IGNORED', `${type} trên ${label(el)} không có tác dụng ở hệ thống này`)
    } else if (type.startsWith('camunda:')) {
      r.error(id, 'EXTENSION_UNSUPPORTED', `${type} trên ${label(el)} bị từ chối: hệ thống không thực hiện phần mở rộng này`)
    } else {
      r.warn(id, 'FOREIGN_EXTENSION_IGNORED', `Phần mở rộng ${type.split(':')[0]}: (của công cụ khác, không thuộc Camunda 7) bị bỏ qua`)
    }
  }
}

/** Service, send and business-rule tasks: only `camunda:expression` runs here (in the safe evaluator). */
function checkServiceLike(el: El, r: Reporters): void {
  const id = el.id ?? null
  const kind = el.$type.replace('bpmn:', '')
  if (isHandoffElement(el)) return checkHandoff(el, r)
  if (el.decisionRef !== undefined) {
    r.error(
      id,
      'BUSINESS_RULE_TASK_UNSUPPORTED',
      `${kind} ${label(el)} gọi bảng quyết định DMN "${el.decisionRef}": DMN chưa được hỗ trợ, hãy dùng cổng rẽ nhánh có điều kiện`,
    )
    return
  }
  const impl =
    el.type === 'external'
      ? 'type="external"'
      : el.class !== undefined
        ? 'camunda:class'
        : el.delegateExpression !== undefined
          ? 'camunda:delegateExpression'
          : null
  const connector = ((el.extensionElements?.values ?? []) as El[]).some((e) => e.$type === 'camunda:Connector')
  if (impl || connector) {
    r.error(
      id,
      'SERVICE_TASK_UNSUPPORTED',
      `${kind} ${label(el)} dùng ${impl ?? 'camunda:connector'}: hệ thống chưa gọi được dịch vụ bên ngoài hay mã Java; chỉ camunda:expression chạy được`,
    )
    return
  }
  if (el.expression === undefined) {
    r.error(
      id,
      'SERVICE_TASK_UNSUPPORTED',
      `${kind} ${label(el)} không có cách thực hiện nào (Camunda 7 cần class, delegateExpression, expression hoặc type="external"): hãy thêm camunda:expression hoặc dùng user task`,
    )
    return
  }
  if (!isExpression(el.expression)) {
    r.error(id, 'EXPRESSION_INVALID', `camunda:expression "${el.expression}" của ${label(el)} phải là một biểu thức \${...} hoặc FEEL =...`)
    return
  }
  try {
    checkExpression(el.expression)
  } catch (err) {
    r.error(id, 'EXPRESSION_INVALID', `camunda:expression của ${label(el)}: ${(err as Error).message}`)
  }
  if (el.resultVariable !== undefined && !/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(el.resultVariable))
    r.error(id, 'EXPRESSION_INVALID', `camunda:resultVariable "${el.resultVariable}" của ${label(el)} phải là một tên biến`)
}

/** A catch waits for a message POST /api/messages names (or the system delivers): without a message nothing can reach it. */
function checkMessage(el: El, message: El | undefined, r: Reporters): void {
  if (message?.id) return
  r.error(
    el.id ?? null,
    'MESSAGE_UNDELIVERABLE',
    `${label(el)} chờ một thông điệp không được khai báo (thiếu messageRef): không ai gửi được thông điệp tới nó, hồ sơ sẽ chờ mãi`,
  )
}

/** A process or sub-process starts at its one none start event: several would all start at once. */
function checkStarts(el: El, r: Reporters): void {
  const starts = ((el.flowElements ?? []) as El[]).filter((f) => f.$type === 'bpmn:StartEvent' && defsOf(f).length === 0)
  if (starts.length > 1)
    r.error(
      starts[1]!.id ?? null,
      'START_EVENT_AMBIGUOUS',
      `${label(el)} có ${starts.length} sự kiện bắt đầu không loại: Camunda 7 chỉ cho phép một, hãy giữ lại một`,
    )
}

const REFUSED_EVENTS: Record<string, [string, string]> = {
  Cancel: ['CANCEL_EVENT_UNSUPPORTED', 'sự kiện huỷ (cancel) và transaction chưa được hỗ trợ'],
}

/**
 * Escalations (báo cáo vượt cấp) run as Camunda 7 runs them when they stay within one process: an
 * escalation end or intermediate throw event inside a sub-process is caught by an escalation
 * boundary on an enclosing sub-process (interrupting or not) or by an escalation event
 * sub-process. Refused: a catch without `escalationRef` (bpmn-elements matches an escalation by its
 * reference only, so a catch-all would never fire) and a boundary on a call activity (the called
 * process's escalations do not reach its caller here).
 */
function checkEscalation(el: El, defs: El[], r: Reporters): void {
  const def = defs.find((d) => d.$type === 'bpmn:EscalationEventDefinition')
  if (!def) return
  const id = el.id ?? null
  const catching = el.$type === 'bpmn:BoundaryEvent' || el.$type === 'bpmn:StartEvent'
  if (!def.escalationRef)
    r.error(
      id,
      'ESCALATION_REF_MISSING',
      catching
        ? `Sự kiện ${label(el)} bắt mọi escalation (không có escalationRef): chưa được hỗ trợ, hãy chọn escalation cụ thể`
        : `Sự kiện ${label(el)} ném escalation không có escalationRef: không sự kiện nào bắt được, hãy chọn escalation cụ thể`,
    )
  if (el.$type === 'bpmn:BoundaryEvent' && el.attachedToRef?.$type === 'bpmn:CallActivity')
    r.error(
      id,
      'ESCALATION_FROM_CALLED_PROCESS_UNSUPPORTED',
      `Sự kiện ${label(el)} chờ escalation từ quy trình được gọi: escalation của quy trình được gọi chưa được chuyển lên hoạt động gọi`,
    )
}

function checkEvents(el: El, r: Reporters): void {
  const id = el.id ?? null
  const defs = defsOf(el)
  if (!el.$type.endsWith('Event')) return
  if (defs.length > 1)
    r.error(
      id,
      'EVENT_MULTIPLE_UNSUPPORTED',
      `Sự kiện ${label(el)} có ${defs.length} định nghĩa (multiple): Camunda 7 không hỗ trợ, hãy tách thành từng sự kiện`,
    )
  for (const def of defs) {
    const kind = def.$type.replace('bpmn:', '').replace('EventDefinition', '')
    const refused = REFUSED_EVENTS[kind]
    if (refused) r.error(id, refused[0], `Sự kiện ${label(el)}: ${refused[1]}`)
    for (const name of camundaAttributes(def)) {
      if (name === 'async') continue
      if (kind === 'Message' && ['class', 'delegateExpression', 'expression', 'type', 'topic', 'resultVariable'].includes(name)) continue // judged below
      if (kind === 'Conditional' && CONDITIONAL_ATTRIBUTES.has(name)) continue // judged by checkConditional
      r.error(
        id,
        'ATTRIBUTE_UNSUPPORTED',
        `camunda:${name} trên sự kiện ${label(el)} bị từ chối: ${ATTRIBUTE_MEANING[name] ?? 'hệ thống không thực hiện thuộc tính này'}`,
      )
    }
  }
  if (el.$type === 'bpmn:StartEvent' && el.$parent?.$type === 'bpmn:Process' && hasDef(el, 'Timer')) {
    r.error(
      id,
      'TIMER_START_UNSUPPORTED',
      `Sự kiện bắt đầu hẹn giờ ${label(el)} không được hỗ trợ: hồ sơ bắt đầu khi được nộp, không theo lịch (Camunda 7 tạo phiên bản mới theo lịch)`,
    )
  }
  if (el.$type === 'bpmn:IntermediateCatchEvent' && defs.length === 0)
    r.error(id, 'CATCH_EVENT_WITHOUT_DEFINITION', `Sự kiện chờ ${label(el)} không nói chờ gì (timer, thông điệp…): hồ sơ sẽ chờ mãi`)
  const signal = defs.find((d) => d.$type === 'bpmn:SignalEventDefinition')
  if (signal) checkSignal(el, signal, r)
  checkEscalation(el, defs, r)
  checkConditional(el, defs, r)
  const message = defs.find((d) => d.$type === 'bpmn:MessageEventDefinition')
  if (!message) return
  const inEventSubProcess = el.$parent?.triggeredByEvent === true
  // A message start of an event sub-process (in the process or in a sub-process) is delivered by POST /api/messages.
  if (el.$type === 'bpmn:StartEvent' && inEventSubProcess) {
    if (!message.messageRef?.id) checkMessage(el, message.messageRef, r)
  } else if (el.$type === 'bpmn:StartEvent' && el.$parent?.$type === 'bpmn:Process') {
    // A message start of the process: POST /api/messages starts a new dossier there (message-starts.ts).
    checkMessage(el, message.messageRef, r)
  } else if (el.$type === 'bpmn:StartEvent') {
    r.error(
      id,
      'MESSAGE_START_UNSUPPORTED',
      inEventSubProcess
        ? `Sub-process sự kiện bắt đầu bằng thông điệp ${label(el)} nằm trong một sub-process: chưa được hỗ trợ (chỉ sub-process sự kiện đặt trực tiếp trong quy trình); hãy dùng sự kiện biên thông điệp (boundary) trên sub-process đó`
        : `Sự kiện bắt đầu bằng thông điệp ${label(el)} chưa được hỗ trợ: hồ sơ bắt đầu khi được nộp (POST /api/dossiers), không bằng thông điệp; hãy dùng sự kiện bắt đầu không loại`,
    )
  } else if (el.$type === 'bpmn:IntermediateCatchEvent' || el.$type === 'bpmn:BoundaryEvent') {
    checkMessage(el, message.messageRef, r)
  } else if (message.class || message.delegateExpression || message.expression || message.type) {
    r.error(
      id,
      'SERVICE_TASK_UNSUPPORTED',
      `Sự kiện gửi thông điệp ${label(el)} có cách thực hiện (class, expression, external) mà hệ thống chưa chạy`,
    )
  } else {
    r.warn(
      id,
      'MESSAGE_THROW_IGNORED',
      `Sự kiện gửi thông điệp ${label(el)} không gửi gì (như Camunda 7 khi không có cách thực hiện): hồ sơ đi tiếp ngay`,
    )
  }
}

/**
 * Signal catch events, boundary events and event sub-process starts wait for POST /api/signals. A
 * signal start of the process and a thrown signal (Camunda 7 broadcasts it to every instance) are
 * not run.
 */
function checkSignal(el: El, signal: El, r: Reporters): void {
  const id = el.id ?? null
  const eventSubProcessStart = el.$type === 'bpmn:StartEvent' && el.$parent?.triggeredByEvent === true
  if (el.$type === 'bpmn:IntermediateCatchEvent' || el.$type === 'bpmn:BoundaryEvent' || eventSubProcessStart) {
    if (!signal.signalRef?.id)
      r.error(
        id,
        'SIGNAL_EVENT_UNSUPPORTED',
        `Sự kiện ${label(el)} chờ một tín hiệu không được khai báo (thiếu signalRef): hồ sơ sẽ chờ mãi`,
      )
    return
  }
  r.error(
    id,
    'SIGNAL_EVENT_UNSUPPORTED',
    el.$type === 'bpmn:StartEvent'
      ? `Sự kiện ${label(el)}: quy trình bắt đầu bằng tín hiệu (signal) chưa được hỗ trợ (hồ sơ bắt đầu khi được nộp hoặc bằng thông điệp); tín hiệu (POST /api/signals) đến được sự kiện chờ, sự kiện biên và sub-process sự kiện`
      : `Sự kiện ${label(el)}: phát tín hiệu (signal) chưa được hỗ trợ (Camunda 7 phát tới mọi hồ sơ đang chờ); tín hiệu được gửi từ bên ngoài qua POST /api/signals`,
  )
}

/**
 * Human performers and potential owners (BPMN's own assignment, which Camunda 7 reads as the
 * assignee and the candidates); a `performer` of any other kind has no meaning to the engine.
 */
function checkResources(el: El, r: Reporters): void {
  for (const res of (el.resources ?? []) as El[]) {
    const body = res.resourceAssignmentExpression?.expression?.body
    const assigning = res.$type === 'bpmn:HumanPerformer' || res.$type === 'bpmn:PotentialOwner'
    if (!assigning || el.$type !== 'bpmn:UserTask')
      r.warn(
        el.id ?? null,
        'PERFORMER_IGNORED',
        `${res.$type.replace('bpmn:', '')} trên ${label(el)} chỉ để minh hoạ: hệ thống giao việc theo camunda:assignee/candidateGroups/candidateUsers`,
      )
    else if (!body || !String(body).trim())
      r.warn(el.id ?? null, 'PERFORMER_IGNORED', `${res.$type.replace('bpmn:', '')} trên ${label(el)} không có biểu thức giao việc: bỏ qua`)
  }
}

/**
 * A user task's assignment from BPMN resources, as Camunda 7 reads them: `humanPerformer` is the
 * assignee; `potentialOwner` lists `user(id)`, `group(id)` or a bare id (a group).
 */
export function resourceAssignment(el: El): { assignee?: string; candidateUsers?: string; candidateGroups?: string } {
  const out: { assignee?: string; candidateUsers?: string; candidateGroups?: string } = {}
  const users: string[] = []
  const groups: string[] = []
  for (const res of (el.resources ?? []) as El[]) {
    const body = String(res.resourceAssignmentExpression?.expression?.body ?? '').trim()
    if (!body) continue
    if (res.$type === 'bpmn:HumanPerformer') out.assignee = body
    if (res.$type !== 'bpmn:PotentialOwner') continue
    for (const part of body
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      const m = /^(user|group)\((.*)\)$/.exec(part)
      if (m?.[1] === 'user') users.push(m[2]!.trim())
      else groups.push(m ? m[2]!.trim() : part)
    }
  }
  if (users.length) out.candidateUsers = users.join(',')
  if (groups.length) out.candidateGroups = groups.join(',')
  return out
}

/** Warnings that would repeat on many elements: one finding each, naming how many elements carry it. */
const SUMMARIZED = new Set(['DOCUMENTATION_IGNORED', 'FOREIGN_EXTENSION_IGNORED'])

export function summarizeWarnings<F extends { elementId: string | null; code: string; message: string; severity: string }>(
  findings: F[],
): F[] {
  const groups = new Map<string, F[]>()
  const out: F[] = []
  for (const f of findings) {
    if (f.severity !== 'warning' || !SUMMARIZED.has(f.code)) {
      out.push(f)
      continue
    }
    const key = `${f.code}\n${f.message}`
    if (!groups.has(key)) groups.set(key, [])
    groups.get(key)!.push(f)
  }
  for (const group of groups.values()) {
    const ids = [...new Set(group.map((f) => f.elementId).filter(Boolean))]
    out.push({
      ...group[0]!,
      message: `${group[0]!.message} (${ids.length} phần tử: ${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', …' : ''})`,
    })
  }
  return out
}

/** The FEEL expression language, as Camunda Modeler, Camunda 8 and other tools name it. */
const FEEL_LANGUAGE = /^(feel|https?:\/\/www\.omg\.org\/spec\/DMN\/\d+\/FEEL\/?)$/i

/** True when a condition's language is FEEL (its body is FEEL even without the leading `=`). */
export const isFeelLanguage = (language: unknown) => typeof language === 'string' && FEEL_LANGUAGE.test(language)

/**
 * Root elements that only describe data or interfaces (item definitions, interfaces, resources):
 * the engine has no behaviour for them and the serializer would refuse them as unknown activities.
 */
const DESCRIPTIVE_ROOTS = new Set([
  'bpmn:ItemDefinition',
  'bpmn:Interface',
  'bpmn:EndPoint',
  'bpmn:Resource',
  'bpmn:PartnerEntity',
  'bpmn:PartnerRole',
  'bpmn:CorrelationProperty',
  'bpmn:DataStore',
])

/**
 * Shapes a parsed diagram into what the engine runs, after the checks: descriptive root elements
 * and message flows dropped (Camunda 7 gives message flows no behaviour: messages are correlated
 * by name), BPMN resources dropped (read into the task's assignment), FEEL conditions written `=…`.
 */
export function prepareForEngine(root: El, walk: (visit: (el: El) => void) => void): void {
  root.rootElements = ((root.rootElements ?? []) as El[]).filter((e) => !DESCRIPTIVE_ROOTS.has(e.$type))
  for (const e of root.rootElements as El[]) if (e.$type === 'bpmn:Collaboration') e.messageFlows = []
  walk((el) => {
    if (el.resources) delete el.resources
    const cond = el.conditionExpression as El | undefined
    if (cond && isFeelLanguage(cond.language)) {
      const body = String(cond.body ?? '').trim()
      cond.body = body.startsWith('=') ? body : `=${body}`
      delete cond.language
    }
  })
}

/**
 * Tools that write qualified references (`messageRef="tns:Msg_1"`) with a prefix bound to the
 * file's own target namespace mean the element of this file; the parser resolves ids only
 * unqualified, so such prefixes are removed from references (attribute values and `<incoming>`-like
 * texts).
 */
export function unqualifyOwnReferences(xml: string): string {
  const head = /<([\w-]+:)?definitions\b[^>]*>/.exec(xml)?.[0]
  const tns = head && /\btargetNamespace\s*=\s*"([^"]*)"/.exec(head)?.[1]
  if (!head || !tns) return xml
  let out = xml
  for (const m of head.matchAll(/\bxmlns:([\w-]+)\s*=\s*"([^"]*)"/g)) {
    if (m[2] !== tns) continue
    const prefix = m[1]!.replace(/[-]/g, '\\-')
    out = out.replace(new RegExp(`(="|>|\\s)${prefix}:(?=[A-Za-z_][\\w.-]*(?:"|<|\\s))`, 'g'), '$1')
  }
  return out
}
