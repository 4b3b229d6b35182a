import { createHash } from 'node:crypto'
import { BpmnModdle } from 'bpmn-moddle'
import * as elements from 'bpmn-elements'
import camundaSchema from 'camunda-bpmn-moddle/resources/camunda.json' with { type: 'json' }
import Serializer, { TypeResolver, deserialize } from 'moddle-context-serializer'
import tthcSchema from './tthc-moddle.json' with { type: 'json' }
import { checkExpression, isExpression } from './expressions.ts'
import { completionFindings } from './completion-paths.ts'
import { readFormData, type TaskForm } from './form-data.ts'
import { camundaLoopElements, VARIABLE_NAME } from './multi-instance.ts'
import { InclusiveGateway } from './inclusive-join.ts'
import { CompensateEventDefinition } from './compensation.ts'
import { ConditionalEventDefinition } from './conditional-events.ts'
import { readCallSpec, type CallSpecs, type DeployedProcedure } from './call-activity.ts'
import {
  isFeelLanguage,
  prepareForEngine,
  resourceAssignment,
  summarizeWarnings,
  supportFindings,
  unqualifyOwnReferences,
} from './support.ts'

/** One problem found in a diagram at deploy time. `severity: error` blocks deployment. */
export interface Finding {
  elementId: string | null
  code: string
  message: string
  severity: 'error' | 'warning'
}

/** What the engine needs to know about a user task to make it a row in officers' queues. */
export interface UserTaskSpec {
  id: string
  name: string
  candidateGroups: string | null
  candidateUsers: string | null
  assignee: string | null
  dueDate: string | null
  /** camunda:followUpDate: computed like the due date (expression, ISO date or duration). */
  followUpDate?: string | null
  formKey: string | null
  /** The embedded form (camunda:formData): its fields are shown on the task and enforced on completion. */
  form?: TaskForm | null
  /** Step duration in working days (tthc:workingDays), half days allowed. */
  workingDays: number | null
  /** Lifecycle actions (thao tác nghiệp vụ) this task offers, from `tthc:actions` (e.g. `accept,request-supplement,refuse`). */
  actions: string[]
  /** A legal due rule instead of a duration: `transfer` (same working day, next opening after the cut-off: docs/domain.md#transfer-cutoff). */
  dueRule: string | null
}

/**
 * Message catch events, receive tasks and boundary events by message name: what an outside event
 * (payment, supplement, POST /api/messages) can deliver; and the event sub-processes of the process
 * a message starts (`eventSubProcesses`: id, and whether its start interrupts the process).
 */
export type MessageCatches = Record<
  string,
  { messageId: string; activityIds: string[]; eventSubProcesses?: Array<{ id: string; interrupting: boolean }> }
>

/** Reusable processes (quy trình dùng chung) that procedure diagrams call by id: process id → the library file's XML. */
/**
 * Message start events of the process by message name: POST /api/messages with that name (and no
 * dossier) starts a new dossier there. The message's id and the start event's id.
 */
export type MessageStarts = Record<string, { messageId: string; activityId: string }>

export type ProcessLibrary = ReadonlyMap<string, { file: string; xml: string }>

export const DUE_RULES = ['transfer'] as const

export interface ParsedDiagram {
  contentHash: string
  /** The executable process run for each dossier. */
  process: { id: string; name?: string; extensionElements?: { values?: Array<{ $type: string }> } }
  userTasks: Record<string, UserTaskSpec>
  /** Dossier status an element sets when reached (`tthc:status` on a task or event). */
  activityStatuses: Record<string, string>
  messageCatches: MessageCatches
  /** Signal catch and boundary events by signal name (POST /api/signals); `messageId` is the signal's id. */
  signalCatches: MessageCatches
  messageStarts: MessageStarts
  /** Library processes merged into this diagram (file names), for the record. */
  libraries: string[]
  /** Call activities that start another deployed procedure, by activity id. */
  calls: CallSpecs
  /** moddle-context-serializer output, stored and reused so a definition is parsed once. */
  sourceContext: string
  findings: Finding[]
}

export const moddleOptions = { camunda: camundaSchema, tthc: tthcSchema }
const moddle = new BpmnModdle(moddleOptions)

const DTD_PATTERN = /<!DOCTYPE|<!ENTITY/i

/** A bpmn-moddle element: the fields read here (`tthc:`/`camunda:` attributes are strings), the rest left unknown. */
interface ModdleElement {
  $type: string
  id?: string
  name?: string
  rootElements?: ModdleElement[]
  flowElements?: ModdleElement[]
  incoming?: ModdleElement[]
  language?: string
  body?: string
  status?: string
  candidateGroups?: string
  candidateUsers?: string
  assignee?: string
  dueDate?: string
  followUpDate?: string
  formKey?: string
  dueRule?: string
  eventDefinitions?: ModdleElement[]
  [k: string]: unknown
}

export function hashXml(xml: string): string {
  return createHash('sha256').update(xml.replace(/\r\n/g, '\n').trim()).digest('hex')
}

/**
 * Parses and validates a BPMN 2.0 diagram. Never throws for bad input: problems come back as findings.
 * `allowedScripts` holds `processId:taskId` (or bare task ids) that may run as script tasks.
 */
export async function parseDiagram(
  xml: string,
  opts: {
    allowedScripts: ReadonlySet<string>
    statuses: readonly string[]
    actions: readonly string[]
    library?: ProcessLibrary
    /** Finds a deployed procedure a call activity names (its process id or procedure code), for calls outside the file and the library. */
    deployed?: (calledElement: string) => Promise<DeployedProcedure | null>
  },
): Promise<ParsedDiagram | { findings: Finding[] }> {
  const findings: Finding[] = []
  const error = (elementId: string | null, code: string, message: string) => findings.push({ elementId, code, message, severity: 'error' })
  const warn = (elementId: string | null, code: string, message: string) => findings.push({ elementId, code, message, severity: 'warning' })

  if (DTD_PATTERN.test(xml)) {
    error(null, 'XML_DTD_FORBIDDEN', 'Sơ đồ chứa DOCTYPE/ENTITY: DTDs and external entities are not accepted in BPMN uploads')
    return { findings }
  }
  if (!/<([\w-]+:)?definitions[\s>]/.test(xml)) {
    error(null, 'XML_NOT_BPMN', 'The document has no BPMN <definitions> root element')
    return { findings }
  }

  let ctx: Awaited<ReturnType<typeof moddle.fromXML>>
  try {
    ctx = await moddle.fromXML(unqualifyOwnReferences(xml), 'bpmn:Definitions')
  } catch (err) {
    error(null, 'XML_MALFORMED', `XML could not be parsed: ${(err as Error).message.split('\n')[0]}`)
    return { findings }
  }
  for (const w of ctx.warnings ?? []) {
    const msg = String(w.message ?? w)
    if (/unresolved reference/.test(msg)) error(w.element?.id ?? null, 'REFERENCE_UNRESOLVED', msg)
    else if (!/unsupported document encoding/.test(msg)) warn(w.element?.id ?? null, 'XML_WARNING', msg)
  }

  let root = ctx.rootElement as unknown as ModdleElement
  let processes = ((root.rootElements ?? []) as ModdleElement[]).filter((e) => e.$type === 'bpmn:Process')
  // Call activities may reach the shared skeleton (processes/lib): merge the library processes into
  // this definition, because bpmn-engine only calls processes of the same file.
  const merged = await mergeLibrary(root, processes, opts.library ?? new Map(), error)
  if (findings.some((f) => f.severity === 'error')) return { findings }
  if (merged.files.length) {
    ctx = await moddle.fromXML(merged.xml, 'bpmn:Definitions')
    root = ctx.rootElement as unknown as ModdleElement
    processes = ((root.rootElements ?? []) as ModdleElement[]).filter((e) => e.$type === 'bpmn:Process')
  }
  const executable = processes.filter((p) => p.isExecutable === true)
  if (executable.length === 0) {
    error(processes[0]?.id ?? null, 'NO_EXECUTABLE_PROCESS', 'No process is marked executable (isExecutable="true")')
    return { findings }
  }
  if (executable.length > 1) {
    // One diagram is one procedure: which pool is the procedure would be a guess.
    const names = executable.map((p) => `"${p.name ?? p.id}" (${p.id})`).join(', ')
    error(
      executable[1]!.id ?? null,
      'MULTIPLE_EXECUTABLE_PROCESSES',
      `Sơ đồ có ${executable.length} pool thực thi được (${names}): một sơ đồ là một thủ tục; hãy đặt isExecutable="false" cho các pool chỉ để minh hoạ, hoặc tách mỗi thủ tục thành một tệp`,
    )
    return { findings }
  }
  const process = executable[0]!
  findings.push(...completionFindings(process))
  const userTasks: Record<string, UserTaskSpec> = {}
  const activityStatuses: Record<string, string> = {}
  const messageCatches: MessageCatches = {}
  const signalCatches: MessageCatches = {}
  const messageStarts: MessageStarts = {}
  // The processes that run: the executable one and those call activities reach (other pools only describe).
  const called = new Set<string>()
  for (const proc of processes)
    walk(proc, (el) => {
      if (el.$type === 'bpmn:CallActivity' && el.calledElement) called.add(String(el.calledElement))
    })
  const running = processes.filter((p) => p === process || called.has(p.id!))
  // Calls to another deployed procedure (neither in this file nor in the library) run it as its own instance.
  const deployed = new Map<string, DeployedProcedure>()
  for (const name of called)
    if (!processes.some((p) => p.id === name) && opts.deployed) {
      const found = await opts.deployed(name)
      if (found) deployed.set(name, found)
    }
  const calls: CallSpecs = {}
  const outward = new Set<string>()
  walk(process, (el) => {
    if (el.$type === 'bpmn:CallActivity' && deployed.has(String(el.calledElement))) outward.add(el.id!)
  })
  const before = findings.length
  for (const proc of running) {
    supportFindings(proc, { error, warn })
    walk(proc, (el) => supportFindings(el, { error, warn }))
  }
  liftForOutwardCalls(findings, before, outward, process)
  for (const proc of processes) {
    const attached = new Set<string>()
    walk(proc, (el) => {
      if (el.$type === 'bpmn:BoundaryEvent' && (el.attachedToRef as ModdleElement | undefined)?.id)
        attached.add((el.attachedToRef as ModdleElement).id!)
    })
    walk(proc, (el) => {
      const mi = findings.length
      checkElement(el, proc.id!, opts, userTasks, error, warn, attached)
      if (outward.has(el.id!)) {
        // A multi-instance call activity to another procedure starts one instance per element.
        const i = findings.findIndex((f, n) => n >= mi && f.code === 'MULTI_INSTANCE_UNSUPPORTED')
        if (i >= 0) findings.splice(i, 1)
        calls[el.id!] = readCallSpec(el, deployed.get(String(el.calledElement))!, error)
      } else if (el.$type === 'bpmn:CallActivity' && !processes.some((p) => p.id === el.calledElement)) {
        error(
          el.id ?? null,
          'CALLED_ELEMENT_UNKNOWN',
          `Hoạt động gọi "${el.name ?? el.id}" (${el.id}) gọi "${el.calledElement ?? ''}": không có trong tệp này, trong thư viện dùng chung, hay trong các thủ tục đã triển khai`,
        )
      }
      const catches =
        el.$type === 'bpmn:ReceiveTask'
          ? [el]
          : el.$type === 'bpmn:IntermediateCatchEvent' || el.$type === 'bpmn:BoundaryEvent'
            ? ((el.eventDefinitions ?? []) as ModdleElement[]).filter((d) => d.$type === 'bpmn:MessageEventDefinition')
            : []
      for (const c of catches) {
        const msg = c.messageRef as ModdleElement | undefined
        if (!msg?.id) continue
        const name = msg.name ?? msg.id
        const entry = (messageCatches[name] ??= { messageId: msg.id, activityIds: [] })
        entry.activityIds.push(el.id!)
      }
      const parent = el.$parent as ModdleElement | undefined
      // Event sub-processes started by a message or a signal, in the process or in a sub-process at any depth.
      if (el.$type === 'bpmn:StartEvent' && parent?.triggeredByEvent === true && proc === process) {
        for (const d of (el.eventDefinitions ?? []) as ModdleElement[]) {
          const msg = d.$type === 'bpmn:MessageEventDefinition' ? (d.messageRef as ModdleElement | undefined) : undefined
          const sig = d.$type === 'bpmn:SignalEventDefinition' ? (d.signalRef as ModdleElement | undefined) : undefined
          const ref = msg ?? sig
          if (!ref?.id) continue
          const catches = msg ? messageCatches : signalCatches
          const entry = (catches[ref.name ?? ref.id] ??= { messageId: ref.id, activityIds: [] })
          ;(entry.eventSubProcesses ??= []).push({ id: parent.id!, interrupting: el.isInterrupting !== false })
        }
      }
      if (el.$type === 'bpmn:StartEvent' && parent === proc) collectMessageStart(el, proc === process, messageStarts, error)
      if (el.$type === 'bpmn:IntermediateCatchEvent' || el.$type === 'bpmn:BoundaryEvent') {
        for (const d of (el.eventDefinitions ?? []) as ModdleElement[]) {
          const sig = d.$type === 'bpmn:SignalEventDefinition' ? (d.signalRef as ModdleElement | undefined) : undefined
          if (!sig?.id) continue
          ;(signalCatches[sig.name ?? sig.id] ??= { messageId: sig.id, activityIds: [] }).activityIds.push(el.id!)
        }
      }
      if (el.status !== undefined) {
        if (opts.statuses.includes(el.status)) activityStatuses[el.id!] = el.status
        else error(el.id ?? null, 'STATUS_UNKNOWN', `tthc:status "${el.status}" is not one of ${opts.statuses.join(', ')}`)
      }
    })
  }

  let sourceContext = ''
  if (!findings.some((f) => f.severity === 'error')) {
    prepareForEngine(root, (visit) => {
      for (const proc of processes) walk(proc, visit)
    })
    try {
      sourceContext = Serializer(ctx, TypeResolver(elements)).serialize()
    } catch {
      // The engine's own text (a JavaScript error) means nothing to an analyst.
      error(
        null,
        'UNSUPPORTED_ELEMENT',
        'Sơ đồ có phần tử mà bộ máy quy trình không chạy được; hãy kiểm tra lại sơ đồ bằng POST /api/procedures/validate và bỏ bớt các phần tử lạ',
      )
    }
  }
  if (findings.some((f) => f.severity === 'error')) return { findings: summarizeWarnings(findings) }
  return {
    contentHash: hashXml(merged.files.length ? merged.xml : xml),
    process: process as ParsedDiagram['process'],
    userTasks,
    activityStatuses,
    messageCatches,
    signalCatches,
    messageStarts,
    libraries: merged.files,
    calls,
    sourceContext,
    findings: summarizeWarnings(findings),
  }
}

/** A message start event of the procedure's process (one per message name, as Camunda 7 requires); a called process is started by its caller only. */
function collectMessageStart(el: ModdleElement, main: boolean, starts: MessageStarts, error: Report): void {
  for (const d of (el.eventDefinitions ?? []) as ModdleElement[]) {
    const msg = d.$type === 'bpmn:MessageEventDefinition' ? (d.messageRef as ModdleElement | undefined) : undefined
    if (!msg?.id) continue
    const name = msg.name ?? msg.id
    if (!main)
      error(
        el.id ?? null,
        'MESSAGE_START_UNSUPPORTED',
        `Sự kiện bắt đầu bằng thông điệp "${el.name ?? el.id}" nằm trong quy trình được gọi (call activity): quy trình được gọi chỉ bắt đầu từ hoạt động gọi nó`,
      )
    else if (starts[name])
      error(
        el.id ?? null,
        'MESSAGE_START_DUPLICATE',
        `Hai sự kiện bắt đầu ("${starts[name]!.activityId}" và "${el.id}") cùng chờ thông điệp "${name}": Camunda 7 chỉ cho phép một`,
      )
    else starts[name] = { messageId: msg.id, activityId: el.id! }
  }
}

/**
 * What support.ts refuses of call activities because a call used to run inside the caller's engine
 * (binding `version`, `camunda:in`/`camunda:out` mappings, escalation boundaries) runs for a call to
 * another deployed procedure: those findings are dropped for such calls (from index `from` on).
 */
const LIFTED_FOR_OUTWARD_CALLS = new Set([
  'ATTRIBUTE_UNSUPPORTED',
  'CALL_ACTIVITY_MAPPING_UNSUPPORTED',
  'ESCALATION_FROM_CALLED_PROCESS_UNSUPPORTED',
])

function liftForOutwardCalls(findings: Finding[], from: number, outward: ReadonlySet<string>, process: ModdleElement): void {
  if (!outward.size) return
  const boundaries = new Set<string>()
  walk(process, (el) => {
    const host = el.attachedToRef as ModdleElement | undefined
    if (el.$type === 'bpmn:BoundaryEvent' && host?.id && outward.has(host.id)) boundaries.add(el.id!)
  })
  for (let i = findings.length - 1; i >= from; i--) {
    const f = findings[i]!
    if (!f.elementId || !LIFTED_FOR_OUTWARD_CALLS.has(f.code)) continue
    const lifted =
      f.code === 'ESCALATION_FROM_CALLED_PROCESS_UNSUPPORTED'
        ? boundaries.has(f.elementId)
        : outward.has(f.elementId) &&
          (f.code !== 'ATTRIBUTE_UNSUPPORTED' || /calledElementBinding="version"|calledElementVersion(?!Tag)/.test(f.message))
    if (lifted) findings.splice(i, 1)
  }
}

const libraryCache = new Map<string, Promise<ModdleElement>>()

/** Adds the library processes (and their messages) that call activities reach, transitively; returns the merged XML. */
async function mergeLibrary(
  root: ModdleElement,
  processes: ModdleElement[],
  library: ProcessLibrary,
  error: Report,
): Promise<{ xml: string; files: string[] }> {
  const have = new Set(processes.map((p) => p.id))
  const files: string[] = []
  const queue = [...processes]
  while (queue.length) {
    const proc = queue.shift()!
    const calls: ModdleElement[] = []
    walk(proc, (el) => {
      if (el.$type === 'bpmn:CallActivity') calls.push(el)
    })
    for (const call of calls) {
      const target = call.calledElement as string | undefined
      if (!target || have.has(target)) continue
      const lib = library.get(target)
      if (!lib) continue // reported as CALLED_ELEMENT_UNKNOWN by the walk
      let parsed = libraryCache.get(lib.xml)
      if (!parsed) {
        parsed = moddle.fromXML(lib.xml, 'bpmn:Definitions').then((c) => c.rootElement as unknown as ModdleElement)
        libraryCache.set(lib.xml, parsed)
      }
      let libRoot: ModdleElement
      try {
        libRoot = await parsed
      } catch (err) {
        error(call.id ?? null, 'LIBRARY_INVALID', `Library file ${lib.file} could not be parsed: ${(err as Error).message.split('\n')[0]}`)
        continue
      }
      const ids = new Set(((root.rootElements ?? []) as ModdleElement[]).map((e) => e.id))
      const taken = new Set<string>()
      for (const p of processes) {
        taken.add(p.id!)
        walk(p, (e) => {
          if (e.id) taken.add(e.id)
        })
      }
      for (const el of (libRoot.rootElements ?? []) as ModdleElement[]) {
        if (ids.has(el.id)) continue
        if (el.$type === 'bpmn:Process') {
          // Ids are global in a BPMN file: a procedure element named like a skeleton element would be ambiguous.
          walk(el, (e) => {
            if (e.id && taken.has(e.id))
              error(
                e.id,
                'ID_CONFLICTS_WITH_LIBRARY',
                `Element id "${e.id}" is also used by the shared process "${el.id}" (${lib.file}): rename it in the diagram`,
              )
          })
        }
        ;(root.rootElements ??= []).push(el)
        if (el.$type === 'bpmn:Process') {
          have.add(el.id)
          queue.push(el)
        }
      }
      if (!files.includes(lib.file)) files.push(lib.file)
    }
  }
  if (!files.length) return { xml: '', files }
  const { xml } = await (moddle as unknown as { toXML(el: unknown, o: object): Promise<{ xml: string }> }).toXML(root, { format: false })
  return { xml, files }
}

/** Reads the reusable processes of a library directory (processes/lib): process id → file. */
export async function loadProcessLibrary(files: Array<{ file: string; xml: string }>): Promise<Map<string, { file: string; xml: string }>> {
  const out = new Map<string, { file: string; xml: string }>()
  for (const f of files) {
    const { rootElement } = await moddle.fromXML(f.xml, 'bpmn:Definitions')
    for (const el of ((rootElement as unknown as ModdleElement).rootElements ?? []) as ModdleElement[]) {
      if (el.$type === 'bpmn:Process' && el.id) out.set(el.id, f)
    }
  }
  return out
}

function walk(el: ModdleElement, visit: (el: ModdleElement) => void): void {
  for (const child of (el.flowElements ?? []) as ModdleElement[]) {
    visit(child)
    if (child.flowElements) walk(child, visit)
  }
}

type Report = (elementId: string | null, code: string, message: string) => void

function checkExpr(el: ModdleElement, value: unknown, what: string, error: Report): void {
  if (typeof value !== 'string' || !isExpression(value)) return
  try {
    checkExpression(value)
  } catch (err) {
    error(el.id ?? null, 'EXPRESSION_INVALID', `${what}: ${(err as Error).message}`)
  }
}

/** Activities whose multi-instance form (đa thể hiện) the runtime runs as Camunda 7 does. */
const MULTI_INSTANCE_TYPES = new Set(['bpmn:UserTask', 'bpmn:ManualTask', 'bpmn:SubProcess'])

/** Multi-instance characteristics the runtime would not run as Camunda 7 does are refused here. */
function checkMultiInstance(el: ModdleElement, attached: ReadonlySet<string>, error: Report): void {
  const loop = el.loopCharacteristics as ModdleElement | undefined
  if (loop?.$type !== 'bpmn:MultiInstanceLoopCharacteristics') return
  const id = el.id ?? null
  const label = `"${el.name ?? id}"`
  if (!MULTI_INSTANCE_TYPES.has(el.$type) || el.triggeredByEvent === true) {
    error(
      id,
      'MULTI_INSTANCE_UNSUPPORTED',
      `Hoạt động ${label} (${el.$type}) không được chạy đa thể hiện: chỉ user task, manual task và sub-process nhúng được hỗ trợ`,
    )
    return
  }
  if (attached.has(id!))
    error(
      id,
      'MULTI_INSTANCE_BOUNDARY_UNSUPPORTED',
      `Hoạt động đa thể hiện ${label} có sự kiện biên (boundary event): chưa được hỗ trợ, hãy đặt hoạt động vào một sub-process và gắn sự kiện biên vào sub-process đó`,
    )
  const collection = loop.collection as string | undefined
  const cardinality = (loop.loopCardinality as ModdleElement | undefined)?.body as string | undefined
  if (!collection && !cardinality?.trim()) {
    error(
      id,
      'MULTI_INSTANCE_WITHOUT_INPUT',
      `Hoạt động đa thể hiện ${label} cần loopCardinality hoặc camunda:collection (như Camunda 7); loopDataInputRef/inputDataItem không được hỗ trợ`,
    )
  }
  if (collection !== undefined && !isExpression(collection) && !VARIABLE_NAME.test(collection)) {
    error(
      id,
      'MULTI_INSTANCE_COLLECTION_INVALID',
      `camunda:collection "${collection}" của ${label} phải là tên một biến hoặc một biểu thức \${...}`,
    )
  }
  checkExpr(el, collection, 'camunda:collection', error)
  if (cardinality !== undefined && !isExpression(cardinality.trim()) && !/^\s*\d+\s*$/.test(cardinality)) {
    error(
      id,
      'MULTI_INSTANCE_CARDINALITY_INVALID',
      `loopCardinality "${cardinality}" của ${label} phải là một số nguyên hoặc một biểu thức \${...}`,
    )
  }
  checkExpr(el, cardinality?.trim(), 'loopCardinality', error)
  const condition = (loop.completionCondition as ModdleElement | undefined)?.body as string | undefined
  if (condition !== undefined && !isExpression(condition.trim()))
    error(id, 'EXPRESSION_INVALID', `completionCondition "${condition}" của ${label} phải là một biểu thức \${...}`)
  checkExpr(el, condition?.trim(), 'completionCondition', error)
}

function formOf(el: ModdleElement, error: Report): TaskForm | null {
  const values = ((el.extensionElements as ModdleElement | undefined)?.values ?? []) as ModdleElement[]
  const data = values.find((v) => v.$type === 'camunda:FormData')
  return data ? readFormData(el.id!, data, error) : null
}

function checkElement(
  el: ModdleElement,
  processId: string,
  { allowedScripts, actions }: { allowedScripts: ReadonlySet<string>; actions: readonly string[] },
  userTasks: Record<string, UserTaskSpec>,
  error: Report,
  warn: Report,
  attached: ReadonlySet<string>,
): void {
  const id = el.id ?? null
  checkMultiInstance(el, attached, error)
  switch (el.$type) {
    case 'bpmn:ScriptTask':
      if (!allowedScripts.has(`${processId}:${id}`) && !allowedScripts.has(String(id))) {
        error(
          id,
          'SCRIPT_TASK_FORBIDDEN',
          `Script task "${el.name ?? id}" is refused: scripts run only when ALLOWED_SCRIPT_TASKS names them (${processId}:${id})`,
        )
      }
      break
    case 'bpmn:SequenceFlow': {
      const cond = el.conditionExpression as ModdleElement | undefined
      if (cond) {
        if (cond.language && !/^(juel|)$/i.test(cond.language) && !isFeelLanguage(cond.language)) {
          error(
            id,
            'SCRIPT_CONDITION_FORBIDDEN',
            `Condition in language "${cond.language}" is refused: use an expression like \${approved} or =approved`,
          )
        } else if (!cond.body || !String(cond.body).trim()) {
          error(id, 'CONDITION_EMPTY', 'Conditional flow without an expression')
        } else {
          const raw = String(cond.body).trim()
          // A condition in the FEEL language is FEEL whether or not it starts with `=`.
          const body = isFeelLanguage(cond.language) && !raw.startsWith('=') ? `=${raw}` : raw
          if (!isExpression(body))
            error(id, 'EXPRESSION_INVALID', `Condition "${body}" must be \${...} or a FEEL expression starting with =`)
          else checkExpr(el, body, 'condition', error)
        }
      }
      break
    }
    case 'bpmn:UserTask': {
      // BPMN's humanPerformer / potentialOwner, as Camunda 7 reads them, when no camunda: attribute says otherwise.
      for (const [k, v] of Object.entries(resourceAssignment(el))) el[k] ??= v
      for (const attr of ['candidateGroups', 'candidateUsers', 'assignee', 'dueDate', 'followUpDate'])
        checkExpr(el, el[attr], `camunda:${attr}`, error)
      const wd = el.workingDays === undefined ? null : Number(el.workingDays)
      if (wd !== null && !(Number.isFinite(wd) && wd > 0 && (wd * 2) % 1 === 0))
        error(id, 'STEP_DURATION_INVALID', 'tthc:workingDays must be a positive multiple of 0.5')
      if (!el.candidateGroups && !el.candidateUsers && !el.assignee)
        warn(
          id,
          'TASK_UNASSIGNED',
          `User task "${el.name ?? id}" names no candidate group, candidate user or assignee: only supervisors will see it`,
        )
      userTasks[id!] = {
        id: id!,
        name: el.name ?? id!,
        candidateGroups: el.candidateGroups ?? null,
        candidateUsers: el.candidateUsers ?? null,
        assignee: el.assignee ?? null,
        dueDate: el.dueDate ?? null,
        followUpDate: el.followUpDate ?? null,
        formKey: el.formKey ?? null,
        workingDays: wd,
        actions: String(el.actions ?? '')
          .split(',')
          .map((a: string) => a.trim())
          .filter(Boolean),
        dueRule: el.dueRule ?? null,
        form: formOf(el, error),
      }
      for (const a of userTasks[id!]!.actions) {
        if (!actions.includes(a)) error(id, 'ACTION_UNKNOWN', `tthc:actions "${a}" is not one of ${actions.join(', ')}`)
      }
      if (el.dueRule !== undefined && !(DUE_RULES as readonly string[]).includes(el.dueRule))
        error(id, 'DUE_RULE_UNKNOWN', `tthc:dueRule "${el.dueRule}" is not one of ${DUE_RULES.join(', ')}`)
      break
    }
    default:
      break
  }
  for (const def of (el.eventDefinitions ?? []) as ModdleElement[]) {
    if (def.$type === 'bpmn:TimerEventDefinition') {
      const value = (def.timeDuration ?? def.timeDate ?? def.timeCycle) as ModdleElement | undefined
      if (!value || !String(value.body ?? '').trim()) error(id, 'TIMER_INVALID', 'Timer without a duration, date or cycle')
    }
  }
}

/**
 * Turns a stored source context back into what the engine runs, optionally with our own element
 * behaviours (the clocked timer). Callers cache the result.
 */
export function deserializeSourceContext(serialized: string | object, overrides: Record<string, unknown> = {}): unknown {
  const json = typeof serialized === 'string' ? JSON.parse(serialized) : serialized
  const context = deserialize(
    json,
    TypeResolver({
      ...elements,
      ...camundaLoopElements,
      InclusiveGateway,
      CompensateEventDefinition,
      ConditionalEventDefinition,
      ...overrides,
    }),
  )
  // bpmn-engine's getState() writes the whole diagram (this context, serialized) into every state; our
  // states are saved without it (a step recovers with its version's context), so it is not built at
  // each step. Nothing else in the engine serializes a context.
  Object.defineProperty(context, 'serialize', { value: () => undefined })
  return context
}
