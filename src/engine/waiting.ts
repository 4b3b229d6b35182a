import type { Activity, Api, ElementBase } from 'bpmn-elements'
import type { Execution } from 'bpmn-engine'
import { loopVariables } from './multi-instance.ts'
import { LOCALS } from './input-output.ts'
import { handoffSpecOf, type HandoffSpec } from './handoff-task.ts'

/** A wait state that needs someone: a user task for officers, a receive/catch for a message. */
export interface WaitingActivity {
  activityId: string
  executionId: string
  type: string
  /**
   * Variables of this wait state's own scope, above the process variables: for an instance of a
   * multi-instance activity (or an element inside one), its element variable, `loopCounter`,
   * `nrOfInstances`, `nrOfActiveInstances`, `nrOfCompletedInstances`; the activity's input parameters (camunda:inputOutput).
   */
  localVariables: Record<string, unknown>
  /** Set on a service task that waits for another system's answer (docs/handoffs.md). */
  handoff?: HandoffSpec
}

export const WAIT_TYPES = new Set([
  'bpmn:UserTask',
  'bpmn:ManualTask',
  'bpmn:ReceiveTask',
  'bpmn:IntermediateCatchEvent',
  'bpmn:StartEvent',
])

/** A wait state: a user, manual or receive task, a catch event, or a service task handed to another system. */
export const isWaitState = (activity: Pick<Activity, 'type' | 'behaviour'>) =>
  WAIT_TYPES.has(activity.type) || handoffSpecOf(activity.type, activity.behaviour) !== null

/** What bpmn-elements keeps of a running activity (its types omit `getPostponed`). */
interface RunningActivity {
  execution?: { getPostponed?: () => Api<ElementBase>[] }
}

/**
 * Every wait state of a running instance, however deep: bpmn-engine lists the top-level ones only
 * (a running sub-process stands for everything inside it, a multi-instance task for all its
 * instances). Each activity's own execution lists its instances and, for a sub-process, the wait
 * states inside it, which are walked in turn.
 */
export function collectWaiting(execution: Execution): WaitingActivity[] {
  return walk(execution).map((w) => w.waiting)
}

/**
 * The engine handle of one wait state, to signal exactly that one: bpmn-engine's definition-wide
 * `signal({ id })` would reach every element with that id (each instance of a multi-instance
 * sub-process has its own copy of the tasks inside).
 */
export function waitingApi(execution: Execution, activityId: string, executionId: string): Api<ElementBase> | undefined {
  return walk(execution).find((w) => w.waiting.activityId === activityId && w.waiting.executionId === executionId)?.api
}

interface Found {
  waiting: WaitingActivity
  api: Api<ElementBase>
}

function walk(execution: Execution): Found[] {
  const out: Found[] = []
  for (const api of execution.getPostponed()) visit(api, {}, out)
  return out
}

function visit(api: Api<ElementBase>, inherited: Record<string, unknown>, out: Found[]): void {
  const activity = api.owner as Activity
  const postponed = (activity as unknown as RunningActivity).execution?.getPostponed?.() ?? [api]
  const own = postponed.filter((a) => a.owner === activity)
  const body = own.find((a) => a.content.isRootScope)
  // A multi-instance activity waits in its instances; any other in its root scope (its event
  // definitions are listed beside it, and are not wait states of their own).
  const instances = body?.content.isMultiInstance
    ? own.filter((a) => a.content.isMultiInstance && !a.content.isRootScope)
    : body
      ? [body]
      : []
  const scopes = new Map<string, Record<string, unknown>>()
  for (const inst of instances) {
    const locals = {
      ...inherited,
      ...loopVariables(inst.content, body?.content),
      ...(inst.content[LOCALS] as Record<string, unknown> | undefined),
    }
    scopes.set(inst.executionId, locals)
    const handoff = handoffSpecOf(activity.type, activity.behaviour)
    // A call activity to another procedure waits for that procedure's instance (src/steps/calls.ts).
    if (WAIT_TYPES.has(activity.type) || handoff || activity.type === 'bpmn:CallActivity')
      out.push({
        waiting: {
          activityId: activity.id,
          executionId: inst.executionId,
          type: activity.type,
          localVariables: locals,
          ...(handoff ? { handoff } : {}),
        },
        api: inst,
      })
  }
  for (const child of postponed) {
    if (child.owner === activity) continue
    visit(child, scopes.get(child.content.parent?.executionId ?? '') ?? inherited, out)
  }
}

/**
 * The ids of every element running in the instance, however deep: wait states, and also the boundary
 * events waiting beside their activities (a message or signal may be delivered to either).
 */
export function runningActivityIds(execution: Execution): Set<string> {
  const out = new Set<string>()
  const seen = new Set<Api<ElementBase>>()
  const visitAll = (api: Api<ElementBase>) => {
    if (seen.has(api)) return
    seen.add(api)
    out.add((api.owner as Activity | undefined)?.id ?? api.id)
    for (const child of (api.owner as unknown as RunningActivity | undefined)?.execution?.getPostponed?.() ?? [])
      if (child.owner !== api.owner) visitAll(child)
  }
  for (const api of execution.getPostponed()) visitAll(api)
  return out
}

interface Running {
  execution?: { getPostponed?: () => Api<ElementBase>[] }
}

/** Every running element handle, however deep (boundary events beside their activities included). */
export function runningApis(execution: Execution): Api<ElementBase>[] {
  const out: Api<ElementBase>[] = []
  const seen = new Set<Api<ElementBase>>()
  const visit = (api: Api<ElementBase>) => {
    if (seen.has(api)) return
    seen.add(api)
    out.push(api)
    for (const child of (api.owner as unknown as Running | undefined)?.execution?.getPostponed?.() ?? [])
      if (child.owner !== api.owner) visit(child)
  }
  for (const api of execution.getPostponed()) visit(api)
  return out
}
