import * as elements from 'bpmn-elements'
import type { ElementBrokerMessage } from 'bpmn-elements'
import type { SerializableElement } from 'moddle-context-serializer'

/**
 * Multi-instance activities (hoạt động đa thể hiện, e.g. one consultation task per consulted
 * agency) as Camunda 7 runs them: each instance sees its element variable (`camunda:elementVariable`)
 * and `loopCounter`, and expressions of the activity (the completion condition, the task's
 * assignee) see `nrOfInstances`, `nrOfActiveInstances` and `nrOfCompletedInstances`.
 *
 * bpmn-elements runs the loop but names none of these: it puts the element on each iteration's
 * message under the element variable's name, the iteration's index in `index`, and the outputs of
 * completed iterations in `output` / `loopOutput`. The loop below stamps the element variable's
 * name on the activity's message (so it is saved with the state and every iteration carries it);
 * `loopVariables` derives the Camunda names from an iteration's message.
 */

/** Key on the messages of a multi-instance activity naming its element variable. */
const ELEMENT_VARIABLE = 'camundaElementVariable'

interface LoopContent {
  isMultiInstance?: boolean
  isRootScope?: boolean
  isSequential?: boolean
  index?: number
  loopCardinality?: number
  running?: number
  output?: unknown
  loopOutput?: unknown
  [ELEMENT_VARIABLE]?: string
  [key: string]: unknown
}

type LoopBehaviour = { execute(message: ElementBrokerMessage): unknown; elementVariable?: string }
type LoopConstructor = new (activity: unknown, loopCharacteristics: SerializableElement) => LoopBehaviour

// bpmn-elements exports its loop behaviour as a constructor without a type of its own.
const BaseLoop = (elements as unknown as { MultiInstanceLoopCharacteristics: LoopConstructor }).MultiInstanceLoopCharacteristics

/** A plain variable name, as `camunda:collection` may give one. */
export const VARIABLE_NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/

/**
 * bpmn-elements' multi-instance loop, with the element variable's name on its messages. Camunda
 * also takes the collection as a plain variable name (`camunda:collection="reviewers"`): it is read
 * as `${reviewers}`.
 */
export class CamundaLoopCharacteristics extends BaseLoop {
  constructor(activity: unknown, loopCharacteristics: SerializableElement) {
    const behaviour = loopCharacteristics.behaviour as { collection?: unknown } | undefined
    if (behaviour && typeof behaviour.collection === 'string' && VARIABLE_NAME.test(behaviour.collection))
      behaviour.collection = `\${${behaviour.collection}}`
    super(activity, loopCharacteristics)
  }

  execute(message: ElementBrokerMessage): unknown {
    const content = message.content as LoopContent
    if (this.elementVariable && content.isRootScope) content[ELEMENT_VARIABLE] = this.elementVariable
    return super.execute(message)
  }
}

const completedIn = (output: unknown): number => (Array.isArray(output) ? output.filter((o) => o !== undefined && o !== null).length : 0)

/**
 * The variables Camunda 7 defines for one instance of a multi-instance activity, from that
 * instance's message (`content`) and, when known, the message of the whole activity (`body`):
 * `loopCounter` (index of the instance), the element variable, `nrOfInstances`,
 * `nrOfCompletedInstances` and `nrOfActiveInstances` (always 1 when sequential). Empty for any other message.
 */
export function loopVariables(content: LoopContent | undefined, body?: LoopContent): Record<string, unknown> {
  if (!content?.isMultiInstance || content.isRootScope || typeof content.index !== 'number') return {}
  const out: Record<string, unknown> = { loopCounter: content.index }
  const name = content[ELEMENT_VARIABLE]
  if (typeof name === 'string' && name in content) out[name] = content[name]
  const instances = Number(content.loopCardinality ?? body?.loopCardinality)
  if (!Number.isFinite(instances)) return out
  // A completion condition sees the outputs so far (`loopOutput`, this instance's included); a
  // waiting instance, the body's.
  const completed = 'loopOutput' in content ? completedIn(content.loopOutput) : completedIn(body?.output)
  const sequential = content.isSequential ?? body?.isSequential
  const active = sequential ? 1 : typeof body?.running === 'number' && !('loopOutput' in content) ? body.running : instances - completed
  Object.assign(out, { nrOfInstances: instances, nrOfCompletedInstances: completed, nrOfActiveInstances: active })
  return out
}

interface SubProcessExecution {
  environment: { variables: Record<string, unknown> }
}
type SubProcessBehaviourConstructor = new (
  activity: unknown,
  context: unknown,
) => { _upsertExecution(message: ElementBrokerMessage): SubProcessExecution }
type ActivityWithBehaviour = { Behaviour: SubProcessBehaviourConstructor }

const iterationScopes = new WeakMap<SubProcessBehaviourConstructor, SubProcessBehaviourConstructor>()

/**
 * Each instance of a multi-instance sub-process runs in its own variable scope; Camunda puts the
 * instance's element variable and `loopCounter` there, so that the elements inside (the assignee of
 * a task, a gateway's condition) read them.
 */
function withIterationScope(Base: SubProcessBehaviourConstructor): SubProcessBehaviourConstructor {
  let Scoped = iterationScopes.get(Base)
  if (!Scoped) {
    Scoped = class extends Base {
      _upsertExecution(message: ElementBrokerMessage): SubProcessExecution {
        const execution = super._upsertExecution(message)
        const locals = loopVariables(message.content as LoopContent)
        delete locals.nrOfInstances
        delete locals.nrOfActiveInstances
        delete locals.nrOfCompletedInstances
        Object.assign(execution.environment.variables, locals)
        return execution
      }
    }
    iterationScopes.set(Base, Scoped)
  }
  return Scoped
}

/** bpmn-elements' SubProcess; a multi-instance one gives each instance its loop variables. */
export function CamundaSubProcess(activityDef: SerializableElement, context: unknown): unknown {
  const subProcess = (elements.SubProcess as unknown as (def: SerializableElement, ctx: unknown) => ActivityWithBehaviour)(
    activityDef,
    context,
  )
  if ((activityDef.behaviour as { loopCharacteristics?: unknown } | undefined)?.loopCharacteristics)
    subProcess.Behaviour = withIterationScope(subProcess.Behaviour)
  return subProcess
}

/** Element behaviours replacing bpmn-elements' own (TypeResolver names). */
export const camundaLoopElements = {
  MultiInstanceLoopCharacteristics: CamundaLoopCharacteristics,
  SubProcess: CamundaSubProcess,
}
