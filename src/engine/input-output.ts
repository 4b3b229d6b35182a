import type { Activity, Api } from 'bpmn-elements'
import { evaluateExpression, isExpression } from './expressions.ts'

/**
 * Input/output parameters (tham số vào/ra, `camunda:inputOutput`) as Camunda 7 maps them: input
 * parameters are evaluated when the activity starts and become its local variables (its assignee
 * expression reads them; they never reach the process); output parameters are evaluated when it
 * ends, in its scope (local variables, then the process's), and set as process variables.
 *
 * The local variables ride on the activity's run message (key below), so they are saved with the
 * engine state and the activity still has them when it ends in a later step. Deploy (support.ts)
 * accepts the mapping only where this is done and only with values evaluated here.
 */
export const LOCALS = 'camundaLocalVariables'

/** A parameter as moddle reads it: a text body (text or expression), a list, a map, or a script. */
export interface IoDefinition {
  $type?: string
  value?: string
  items?: IoDefinition[]
  entries?: Array<{ key?: string; value?: string; definition?: IoDefinition }>
}
export interface IoParameter {
  name?: string
  value?: string
  definition?: IoDefinition
}
export interface IoMapping {
  inputParameters?: IoParameter[]
  outputParameters?: IoParameter[]
}

/**
 * Activities whose input/output parameters this runtime maps, as Camunda 7 does: tasks of every kind
 * this runtime runs, embedded sub-processes (their inputs are local variables of the sub-process,
 * seen by everything inside it) and intermediate catch and throw events. An end event takes input
 * parameters only (nothing follows it to read an output); start and boundary events, event
 * sub-processes and call activities are refused at deploy (input-output-support.ts).
 */
export const MAPPED_TYPES = new Set([
  'bpmn:UserTask',
  'bpmn:ManualTask',
  'bpmn:Task',
  'bpmn:ServiceTask',
  'bpmn:SendTask',
  'bpmn:BusinessRuleTask',
  'bpmn:ScriptTask',
  'bpmn:ReceiveTask',
  'bpmn:SubProcess',
  'bpmn:IntermediateCatchEvent',
  'bpmn:IntermediateThrowEvent',
  'bpmn:EndEvent',
])

export function ioMappingOf(extensionElements: unknown): IoMapping | undefined {
  const values = (extensionElements as { values?: Array<{ $type?: string }> } | undefined)?.values ?? []
  return values.find((v) => v.$type === 'camunda:InputOutput') as IoMapping | undefined
}

function text(body: string | undefined, vars: Record<string, unknown>): unknown {
  if (body === undefined) return null
  return isExpression(body) ? evaluateExpression(body, vars) : body
}

function evaluate(def: IoDefinition | undefined, body: string | undefined, vars: Record<string, unknown>): unknown {
  // A list item is a camunda:value: a text body like a parameter's own.
  if (!def || def.$type === 'camunda:Value') return text(def ? def.value : body, vars)
  if (def.$type === 'camunda:List') return (def.items ?? []).map((item) => evaluate(item, item.value, vars))
  if (def.$type === 'camunda:Map')
    return Object.fromEntries((def.entries ?? []).map((e) => [e.key ?? '', evaluate(e.definition, e.value, vars)]))
  // Refused at deploy (a script); never run.
  throw new Error(`unsupported parameter ${def.$type}`)
}

/** Evaluates parameters in order: each sees the ones before it, as Camunda 7 sets them one by one. */
export function evaluateParameters(params: IoParameter[] | undefined, vars: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const p of params ?? []) out[p.name!] = evaluate(p.definition, p.value, { ...vars, ...out })
  return out
}

/**
 * A parameter that cannot be evaluated fails the step (PROCESS_STEP_FAILED, nothing saved): thrown
 * inside the engine's message handling it would leave the instance half-run.
 */
function guarded<T>(activityId: string, kind: string, fail: (err: Error) => void, evaluate: () => T): T | null {
  try {
    return evaluate()
  } catch (err) {
    fail(new Error(`tham số ${kind} của "${activityId}" không tính được: ${(err as Error).message}`))
    return null
  }
}

export interface IoBinding {
  /** Names of the input parameters: the activity's local variables. */
  localNames: ReadonlySet<string>
  /** The extension's hook: evaluates the inputs when the activity is entered. */
  activate(message: { fields?: { routingKey?: string } }): void
  /** Evaluates the outputs into the process variables; called after the completion's variables are set. */
  end(api: Api<Activity>): void
}

/**
 * Binds the mapping of one activity: inputs on enter (on the run message), outputs on end, written
 * with `setVariables` to the scopes the activity's end writes to. `processVariables` reads the scope
 * the parameters are evaluated in.
 */
export function bindInputOutput(
  activity: Activity,
  processVariables: () => Record<string, unknown>,
  setVariables: (vars: Record<string, unknown>) => void,
  fail: (err: Error) => void,
): IoBinding | null {
  if (!MAPPED_TYPES.has(activity.type)) return null
  const mapping = ioMappingOf((activity.behaviour as { extensionElements?: unknown }).extensionElements)
  if (!mapping) return null
  const localNames = new Set((mapping.inputParameters ?? []).map((p) => p.name!))
  return {
    localNames,
    activate(message) {
      // Also called when a recovered activity resumes: its locals are already on its message.
      if (message.fields?.routingKey !== 'run.enter') return
      const locals = guarded(activity.id, 'vào', fail, () => evaluateParameters(mapping.inputParameters, processVariables()))
      if (locals) activity.broker.publish('format', 'run.enter.format', { [LOCALS]: locals })
    },
    end(api) {
      const locals = (api.content as Record<string, unknown>)[LOCALS] as Record<string, unknown> | undefined
      const done = (api.content?.output as { variables?: Record<string, unknown> } | undefined)?.variables ?? {}
      const out = guarded(activity.id, 'ra', fail, () =>
        evaluateParameters(mapping.outputParameters, { ...processVariables(), ...done, ...locals }),
      )
      if (out) setVariables(out)
    },
  }
}
