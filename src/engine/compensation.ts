import type { Activity, ElementBase } from 'bpmn-elements'
import * as elements from 'bpmn-elements'
import type { Execution } from 'bpmn-engine'
import { runningApis } from './waiting.ts'

/**
 * Compensation (bù trừ) as Camunda 7 runs it. An activity with a compensation boundary event has a
 * compensation handler (an activity marked `isForCompensation="true"`, linked to the boundary by an
 * association). A compensation intermediate throw or end event compensates, in its scope (the
 * process, or the embedded sub-process that holds it), every activity that completed there — or only
 * the one its `activityRef` names — and waits until the handlers have ended before it completes
 * (`waitForCompletion`, true by default). Activities that never completed are not compensated. The
 * handlers run one after the other, in reverse order of completion: a user-task handler is a real
 * task officers complete, and the next handler starts when it is done.
 *
 * bpmn-elements keeps a compensation boundary listening after its activity completes, and runs its
 * handler when it receives a `compensate` message; its throw events broadcast to every boundary at
 * once and go on without waiting. Here the throw event waits instead (`CompensateEventDefinition`
 * below), and `driveCompensation` hands `compensate` to one boundary at a time after each step.
 */

/** Process variable holding, in completion order, the activities with a compensation boundary that completed (not the dossier's data). */
export const COMPENSABLE_KEY = 'tthc:compensable'

interface Completed {
  /** The completed activity. */
  id: string
  /** Its scope: the process or embedded sub-process that holds it. */
  scope: string
}

type Def = { type?: string; behaviour?: { activityRef?: { id?: string } | string; waitForCompletion?: boolean } }
const compensateDef = (activity: Activity | undefined): Def | undefined =>
  (activity?.behaviour as { eventDefinitions?: Def[] } | undefined)?.eventDefinitions?.find(
    (d) => d.type === 'bpmn:CompensateEventDefinition',
  )

/** The process an element belongs to (through any enclosing sub-processes). */
function processOf(activity: Activity): Activity | undefined {
  let el: Activity | undefined = activity.parentElement as Activity | undefined
  while (el && (el as { isSubProcess?: boolean }).isSubProcess) el = el.parentElement as Activity | undefined
  return el
}

/**
 * Called for every element the engine builds: a compensation boundary event records, in the
 * process's variables, each completion of the activity it is attached to.
 */
export function recordCompensable(element: ElementBase): void {
  const boundary = element as Activity
  if (boundary.type !== 'bpmn:BoundaryEvent' || !compensateDef(boundary)) return
  const target = (boundary as unknown as { attachedTo?: Activity }).attachedTo
  if (!target) return
  target.on('end', () => {
    const proc = processOf(target) as unknown as { environment?: { variables: Record<string, unknown> } } | undefined
    const vars = proc?.environment?.variables
    if (!vars) return
    const list = (vars[COMPENSABLE_KEY] as Completed[] | undefined) ?? []
    vars[COMPENSABLE_KEY] = [...list, { id: target.id, scope: (target.parentElement as Activity | undefined)?.id ?? '' }]
  })
}

interface Parent {
  id?: string
  executionId: string
  type?: string
  path?: Array<{ id?: string; executionId: string; type?: string }>
}

/** The parent one level up (bpmn-elements' own shiftParent). */
function shiftParent(parent: Parent | undefined): Parent | undefined {
  if (!parent?.path?.length) return undefined
  const [first, ...rest] = parent.path
  return { ...first!, ...(rest.length ? { path: rest } : {}) }
}

const ASSOCIATIONS = Symbol.for('associations')

/**
 * A compensation boundary discarded (its scope completes without compensation) also discards its
 * association to the handler in bpmn-elements, and that message stays pending in the process for
 * ever: the process never completes. A handler that never started has nothing to discard, so the
 * association is left out of the discard.
 */
function withoutDiscardedAssociations(native: ThrowingBehaviour): ThrowingBehaviour {
  const inner = native as unknown as Record<string | symbol, unknown> & { _onDiscardApiMessage?: (...args: unknown[]) => unknown }
  const discard = inner._onDiscardApiMessage
  if (typeof discard !== 'function') return native
  inner._onDiscardApiMessage = function (this: Record<symbol, unknown>, ...args: unknown[]) {
    const associations = this[ASSOCIATIONS]
    this[ASSOCIATIONS] = []
    try {
      return discard.apply(this, args)
    } finally {
      this[ASSOCIATIONS] = associations
    }
  }
  return native
}

interface ThrowingBehaviour {
  execute(message: { content: Record<string, unknown> & { executionId: string; parent: { executionId: string } } }): void
}

type Ctor = new (activity: Activity, def: unknown, context: unknown, index: number) => ThrowingBehaviour

/**
 * bpmn-elements' compensate event definition, except that a throwing one waits (as a catch event
 * waits) until `driveCompensation` signals it, once the handlers of its scope have ended.
 */
export function CompensateEventDefinition(this: unknown, activity: Activity, def: unknown, context: unknown, index: number) {
  const Native = (elements as unknown as { CompensateEventDefinition: Ctor }).CompensateEventDefinition
  if (!(activity as unknown as { isThrowing?: boolean }).isThrowing)
    return withoutDiscardedAssociations(new Native(activity, def, context, index))
  const broker = activity.broker
  return {
    type: 'bpmn:CompensateEventDefinition',
    execute(executeMessage: { content: Record<string, unknown> & { executionId: string; parent: { executionId: string } } }) {
      const content = executeMessage.content
      const executionId = content.executionId
      const parentExecutionId = content.parent.executionId
      const stop = () => {
        broker.cancel(`_compensate-api-${executionId}`)
      }
      broker.subscribeTmp(
        'api',
        `activity.#.${parentExecutionId}`,
        (_rk: string, message: { properties: Record<string, unknown> }) => {
          const type = message.properties.type
          if (type === 'signal') {
            stop()
            broker.publish('execution', 'execute.completed', structuredClone(content))
          } else if (type === 'discard') {
            stop()
            broker.publish('execution', 'execute.discard', { ...structuredClone(content), state: 'discard' })
          } else if (type === 'stop') {
            stop()
          }
        },
        { noAck: true, consumerTag: `_compensate-api-${executionId}` },
      )
      broker.publish('event', 'activity.wait', {
        ...structuredClone(content),
        executionId: parentExecutionId,
        parent: shiftParent(content.parent as Parent),
      })
    },
  }
}

const THROWS = new Set(['bpmn:IntermediateThrowEvent', 'bpmn:EndEvent'])

/**
 * After a step: for each compensation throw event waiting in the instance, starts the handler of
 * the last activity of its scope that completed and is not compensated yet (when no handler of that
 * scope is running), or, with none left, lets the throw event complete. Repeats while the engine
 * moves (a handler that does not wait ends at once).
 */
export async function driveCompensation(
  execution: Execution,
  processVariables: Record<string, unknown>,
  settle: () => Promise<void>,
): Promise<void> {
  for (let round = 0; round < 100; round++) {
    const running = runningApis(execution)
    const thrower = running.find((a) => {
      const owner = a.owner as Activity | undefined
      return owner && THROWS.has(owner.type) && compensateDef(owner)
    })
    if (!thrower) return
    const owner = thrower.owner as Activity
    const scope = (owner.parentElement as Activity | undefined)?.id ?? ''
    const handlerRunning = running.some((a) => {
      const o = a.owner as Activity | undefined
      return o?.isForCompensation && (o.parentElement as Activity | undefined)?.id === scope
    })
    if (handlerRunning) return
    const ref = compensateDef(owner)?.behaviour?.activityRef
    const refId = typeof ref === 'string' ? ref : ref?.id
    const proc = execution.definitions?.[0]?.getProcesses?.()[0]
    const vars = (proc?.environment?.variables ?? processVariables) as Record<string, unknown>
    const list = ((vars[COMPENSABLE_KEY] as Completed[] | undefined) ?? []).slice()
    let next = -1
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i]!.scope === scope && (!refId || list[i]!.id === refId)) {
        next = i
        break
      }
    }
    if (next < 0) {
      thrower.signal()
      await settle()
      continue
    }
    const target = list[next]!
    list.splice(next, 1)
    vars[COMPENSABLE_KEY] = list
    // The compensation boundary still listening beside the completed activity runs its handler.
    const boundary = running.find((a) => {
      const o = a.owner as (Activity & { attachedTo?: Activity }) | undefined
      return o?.type === 'bpmn:BoundaryEvent' && o.attachedTo?.id === target.id && compensateDef(o)
    })
    if (!boundary) continue
    boundary.sendApiMessage('compensate', { message: { id: owner.id } })
    await settle()
  }
}

const withCompensation = new WeakMap<object, boolean>()

/** Does the diagram use compensation? (Cached per source context.) */
export function hasCompensation(sourceContext: unknown): boolean {
  if (!sourceContext || typeof sourceContext !== 'object') return false
  let known = withCompensation.get(sourceContext)
  if (known === undefined) {
    const ctx = sourceContext as {
      getActivities?: () => Array<{ type?: string; behaviour?: { eventDefinitions?: Array<{ type?: string }> } }>
    }
    known = (ctx.getActivities?.() ?? []).some((a) =>
      (a.behaviour?.eventDefinitions ?? []).some((d) => d.type === 'bpmn:CompensateEventDefinition'),
    )
    withCompensation.set(sourceContext, known)
  }
  return known
}
