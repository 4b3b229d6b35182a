import type { Activity, Api, ElementBase } from 'bpmn-elements'

/** What the runtime reads of an error event definition: its error element (none: catch-all). */
interface ErrorDefinition {
  type?: string
  reference?: { id?: string }
}

interface ErrorElement {
  id: string
  type: string
  name?: string
  errorCode?: string
}

interface ElementInfo {
  id: string
  type: string
  parent?: { id?: string }
  triggeredByEvent?: boolean
  attachedTo?: { id?: string }
  eventDefinitions?: ErrorDefinition[]
  getActivityById?: (id: string) => unknown
}

/** The error element (bpmn:error) of a catching definition, and whether it matches `code` (no element: catch-all). */
function catches(def: ErrorDefinition, code: string, lookup: (id: string) => ErrorElement | null): boolean {
  if (def.type !== 'bpmn:ErrorEventDefinition') return false
  const ref = def.reference?.id
  if (!ref) return true
  const element = lookup(ref)
  return !!element && String(element.errorCode ?? '') === code
}

/**
 * Where a BPMN error thrown from a waiting task goes, as Camunda 7 propagates it: outward from the
 * task, the first scope that catches it wins. At each scope, an error boundary event on the task (or
 * on the sub-process the error leaves) and, inside each enclosing sub-process and then the process,
 * its error event sub-processes — those inside a scope before the boundary events on that scope,
 * since they are nearer to the thrower. `eventSubProcess` with the error element its start event
 * waits for (none: a catch-all start); `boundary` when a boundary event catches it (the engine's own
 * error propagation reaches it); null when nothing does.
 */
export function nearestErrorCatch(
  task: Activity,
  code: string,
): { kind: 'boundary' } | { kind: 'eventSubProcess'; id: string; errorId: string | null } | null {
  const all = (task.context as unknown as { getActivities(): ElementInfo[] }).getActivities()
  const lookup = (id: string) => {
    const el = (task.context as unknown as { getActivityById(id: string): ErrorElement | null }).getActivityById(id)
    return el && el.type === 'bpmn:Error' ? el : null
  }
  const boundaryOn = (id: string) =>
    all.some(
      (a) => a.type === 'bpmn:BoundaryEvent' && a.attachedTo?.id === id && (a.eventDefinitions ?? []).some((d) => catches(d, code, lookup)),
    )
  if (boundaryOn(task.id)) return { kind: 'boundary' }
  for (let scope = task.parentElement as unknown as ElementInfo | undefined; scope;) {
    for (const sub of all.filter((a) => a.triggeredByEvent && a.parent?.id === scope!.id)) {
      for (const start of all.filter((a) => a.type === 'bpmn:StartEvent' && a.parent?.id === sub.id)) {
        const def = (start.eventDefinitions ?? []).find((d) => catches(d, code, lookup))
        if (def) return { kind: 'eventSubProcess', id: sub.id, errorId: def.reference?.id ?? null }
      }
    }
    if (scope.type === 'bpmn:Process') return null
    if (boundaryOn(scope.id)) return { kind: 'boundary' }
    scope = (scope as unknown as Activity).parentElement as unknown as ElementInfo | undefined
  }
  return null
}

/**
 * Throws the error from the waiting task to the error event sub-process that catches it, as an error
 * end event at the task's place would: a delegated throw that the enclosing scope's execution hands to
 * the event sub-processes whose start waits for that error. The interrupting start then cancels the
 * rest of its scope, the task included.
 */
export function throwToEventSubProcess(
  target: Api<ElementBase>,
  errorId: string | null,
  error: { code: string; message: string | null },
): void {
  const owner = target.owner as Activity
  const element = errorId
    ? (owner.context as unknown as { getActivityById(id: string): ErrorElement | null }).getActivityById(errorId)
    : null
  owner.broker.publish(
    'event',
    'activity.throw',
    {
      ...structuredClone(target.content),
      message: {
        ...(element ? { id: element.id, type: element.type, name: element.name } : { name: 'anonymous' }),
        messageType: 'throw',
        code: error.code,
        ...(error.message ? { message: error.message } : {}),
      },
      state: 'throw',
    },
    { type: 'throw', delegate: true },
  )
}
