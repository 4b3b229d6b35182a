import type { Activity } from 'bpmn-elements'
import * as elements from 'bpmn-elements'
import type { Execution } from 'bpmn-engine'
import { checkExpression, evaluateExpression, isExpression } from './expressions.ts'
import { runningApis } from './waiting.ts'

/**
 * Conditional events (sự kiện điều kiện) as Camunda 7 runs them: an intermediate conditional catch
 * event passes at once when its condition holds on entry, else waits; a conditional boundary event is
 * evaluated when its activity is entered; a conditional start of an event sub-process directly in
 * the process is evaluated when the process starts. Then each of them is evaluated again whenever
 * the instance's variables change (a task completed with variables, a message or signal with
 * variables, a service task's result, POST /api/process-instances/:id/variables), restricted by
 * `camunda:variableName` (only a change of that variable) and `camunda:variableEvents` (only
 * `create`, `update` and/or `delete` changes).
 *
 * bpmn-elements evaluates the conditions on entry, and again when the waiting event is signalled:
 * this module finds what changed in a step and signals the conditional events that listen for it.
 * An event sub-process is not running before its start: this module starts it when its condition holds.
 */

/** `camunda:` attributes of a conditional event definition the runtime executes. */
export const CONDITIONAL_ATTRIBUTES: ReadonlySet<string> = new Set(['variableName', 'variableEvents'])

export type VariableEvent = 'create' | 'update' | 'delete'
const VARIABLE_EVENTS: readonly VariableEvent[] = ['create', 'update', 'delete']

export interface VariableChange {
  name: string
  event: VariableEvent
}

/** A conditional event definition as the serializer keeps it. */
interface ConditionalBehaviour {
  expression?: string
  variableName?: string
  variableEvents?: string
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)

/**
 * The changes between two sets of process variables; `touched` names variables the step set
 * explicitly (Camunda 7 counts setting a variable to its own value as an update).
 */
export function variableChanges(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  touched: Iterable<string> = [],
): VariableChange[] {
  const out = new Map<string, VariableEvent>()
  for (const [name, value] of Object.entries(after)) {
    if (!Object.hasOwn(before, name)) out.set(name, 'create')
    else if (!sameJson(before[name], value)) out.set(name, 'update')
  }
  for (const name of Object.keys(before)) if (!Object.hasOwn(after, name)) out.set(name, 'delete')
  for (const name of touched) if (!out.has(name) && Object.hasOwn(after, name)) out.set(name, 'update')
  return [...out].map(([name, event]) => ({ name, event }))
}

/** The names in `camunda:variableEvents` ("create, update"); all three when it is not set. */
function listenedEvents(b: ConditionalBehaviour): Set<string> {
  if (!b.variableEvents?.trim()) return new Set(VARIABLE_EVENTS)
  return new Set(
    b.variableEvents
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  )
}

/** Does a change reach a conditional event with these filters? */
function listens(b: ConditionalBehaviour, changes: readonly VariableChange[]): boolean {
  const events = listenedEvents(b)
  return changes.some((c) => events.has(c.event) && (!b.variableName || b.variableName === c.name))
}

function conditionalOf(activity: Activity | undefined): ConditionalBehaviour | null {
  const defs = (activity?.behaviour as { eventDefinitions?: Array<{ type?: string; behaviour?: ConditionalBehaviour }> } | undefined)
    ?.eventDefinitions
  const def = defs?.find((d) => d.type === 'bpmn:ConditionalEventDefinition')
  return def ? (def.behaviour ?? {}) : null
}

/** The variable scopes of everything running (the process's and each embedded sub-process's copy). */
export function runningScopes(execution: Execution): Array<Record<string, unknown>> {
  const proc = execution.definitions?.[0]?.getProcesses?.()[0]
  const scopes = new Set<Record<string, unknown>>()
  if (proc) scopes.add(proc.environment.variables)
  for (const api of runningApis(execution)) {
    const vars = (api.owner as Activity | undefined)?.environment?.variables
    if (vars) scopes.add(vars)
  }
  return [...scopes]
}

/**
 * Signals the waiting conditional events that listen for `changes` (all of them when `changes` is
 * 'all') and starts the conditional event sub-processes of the process whose condition now holds.
 * Returns how many were signalled or started.
 */
export function triggerConditionalEvents(
  execution: Execution,
  changes: readonly VariableChange[] | 'all',
  processVariables: Record<string, unknown>,
): number {
  let count = 0
  const running = runningApis(execution)
  const signalled = new Set<string>()
  for (const api of running) {
    const owner = api.owner as Activity | undefined
    const b = conditionalOf(owner)
    if (!owner || !b || owner.type === 'bpmn:StartEvent') continue
    if (signalled.has(api.executionId)) continue
    if (changes !== 'all' && !listens(b, changes)) continue
    signalled.add(api.executionId)
    api.signal()
    count++
  }
  const proc = execution.definitions?.[0]?.getProcesses?.()[0]
  if (!proc) return count
  const runningIds = new Set(running.map((a) => (a.owner as Activity | undefined)?.id ?? a.id))
  for (const sub of proc.getActivities() as Activity[]) {
    if (!sub.triggeredByEvent || runningIds.has(sub.id) || sub.parentElement?.id !== proc.id) continue
    const starts = (sub as unknown as { getStartActivities(): Activity[] }).getStartActivities()
    const start = starts.find((s) => conditionalOf(s))
    const b = conditionalOf(start)
    if (!start || !b?.expression) continue
    if (changes !== 'all' && !listens(b, changes)) continue
    if (!evaluateExpression(b.expression, processVariables)) continue
    // The sub-process's start event evaluates the condition again (in its own copy of the variables) and passes.
    sub.run()
    count++
  }
  return count
}

type El = { $type: string; id?: string; name?: string; [k: string]: unknown }
type Report = (elementId: string | null, code: string, message: string) => void

/**
 * Deploy-time checks of a conditional event: a `${}` or FEEL condition the safe evaluator reads,
 * valid `camunda:variableEvents`, and only where the runtime evaluates it.
 */
export function checkConditional(el: El, defs: El[], r: { error: Report; warn: Report }): void {
  const def = defs.find((d) => d.$type === 'bpmn:ConditionalEventDefinition')
  if (!def) return
  const id = el.id ?? null
  const label = `"${el.name ?? el.id}"`
  const condition = def.condition as { body?: string; language?: string } | undefined
  const body = String(condition?.body ?? '').trim()
  const parent = el.$parent as El | undefined
  if (el.$type === 'bpmn:IntermediateThrowEvent' || el.$type === 'bpmn:EndEvent') {
    r.error(id, 'CONDITIONAL_EVENT_UNSUPPORTED', `Sự kiện ${label}: sự kiện điều kiện chỉ dùng để chờ (bắt), không ném được`)
    return
  }
  if (
    el.$type === 'bpmn:StartEvent' &&
    !(parent?.triggeredByEvent === true && (parent.$parent as El | undefined)?.$type === 'bpmn:Process')
  ) {
    r.error(
      id,
      'CONDITIONAL_EVENT_UNSUPPORTED',
      parent?.triggeredByEvent === true
        ? `Sự kiện ${label}: sub-process sự kiện bắt đầu bằng điều kiện chỉ được hỗ trợ khi đặt trực tiếp trong quy trình (không nằm trong một sub-process)`
        : `Sự kiện ${label}: bắt đầu quy trình bằng điều kiện không được hỗ trợ (hồ sơ bắt đầu khi được nộp); dùng sự kiện bắt đầu không loại`,
    )
    return
  }
  if (condition?.language) {
    // The engine would run a condition with a language as a script.
    r.error(
      id,
      'CONDITIONAL_EVENT_UNSUPPORTED',
      `Điều kiện của sự kiện ${label} khai báo ngôn ngữ "${condition.language}": chỉ điều kiện không khai báo ngôn ngữ (biểu thức \${...}, hoặc FEEL viết =...) được chạy, không chạy mã`,
    )
    return
  }
  if (!body || !isExpression(body)) {
    r.error(
      id,
      'EXPRESSION_INVALID',
      `Sự kiện điều kiện ${label} ${body ? `có điều kiện "${body}" không phải biểu thức \${...}` : 'không có điều kiện'}: hồ sơ sẽ không bao giờ đi qua được`,
    )
    return
  }
  try {
    checkExpression(body)
  } catch (err) {
    r.error(id, 'EXPRESSION_INVALID', `Điều kiện của sự kiện ${label} không đọc được: ${(err as Error).message}`)
  }
  const events = typeof def.variableEvents === 'string' ? def.variableEvents : ''
  for (const e of events
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (!(VARIABLE_EVENTS as readonly string[]).includes(e))
      r.error(
        id,
        'ATTRIBUTE_UNSUPPORTED',
        `camunda:variableEvents="${events}" trên sự kiện ${label}: "${e}" không phải create, update hay delete`,
      )
  }
}

const EXECUTE_MESSAGE = Symbol.for('executeMessage')
/** Marks the restart of a non-interrupting conditional boundary after it fired (bpmn-elements' `repeat`). */
const REARMED = 'tthc:conditional-rearmed'

interface NativeConditional {
  execute(message: { content: Record<string, unknown> & { inbound?: Array<{ repeat?: unknown }> } }): unknown
  evaluateCallback(err: Error | null, result: unknown): unknown
  _setup(message: unknown): unknown
  [EXECUTE_MESSAGE]?: { content: Record<string, unknown> }
}
type NativeCtor = new (activity: Activity, def: unknown, context: unknown, index: number) => NativeConditional

/**
 * bpmn-elements' conditional event definition, except that a non-interrupting boundary event stays
 * armed after it fires, as in Camunda 7: each later change that makes its condition true fires it
 * again while its activity runs. It re-arms without evaluating (only a change evaluates it again).
 */
export function ConditionalEventDefinition(this: unknown, activity: Activity, def: unknown, context: unknown, index: number) {
  const Native = (elements as unknown as { ConditionalEventDefinition: NativeCtor }).ConditionalEventDefinition
  const inner = new Native(activity, def, context, index)
  const cancels = (activity.behaviour as { cancelActivity?: boolean } | undefined)?.cancelActivity
  if (activity.type !== 'bpmn:BoundaryEvent' || cancels !== false) return inner
  const execute = inner.execute
  const evaluated = inner.evaluateCallback
  inner.execute = function (message) {
    if (message.content.inbound?.[0]?.repeat === REARMED) {
      this[EXECUTE_MESSAGE] = message
      return this._setup(message)
    }
    return execute.call(this, message)
  }
  inner.evaluateCallback = function (err, result) {
    const content = this[EXECUTE_MESSAGE]?.content
    if (!err && result && content) activity.broker.publish('execution', 'execute.repeat', { ...structuredClone(content), repeat: REARMED })
    return evaluated.call(this, err, result)
  }
  return inner
}
