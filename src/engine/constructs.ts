import { isHandoffActivity } from './handoff-task.ts'

/**
 * Which of the runtime's per-step glue a diagram needs, read once per source context (one per
 * deployed procedure version, held by the version cache) and cached: a step of a diagram that uses
 * none of these constructs skips their work entirely.
 */
export interface Constructs {
  /** An event sub-process (`triggeredByEvent`), in the process or in a sub-process at any depth. */
  eventSubProcesses: boolean
  /** An error or escalation event definition anywhere (throw, end, boundary or event-sub-process start). */
  errorsOrEscalations: boolean
  /** A service or send task handed to another system (`tthc:handoff`, `camunda:type="external"`). */
  handoffs: boolean
}

interface ActivityInfo {
  type?: string
  behaviour?: { triggeredByEvent?: boolean; eventDefinitions?: Array<{ type?: string }> }
}

const EVERY: Constructs = { eventSubProcesses: true, errorsOrEscalations: true, handoffs: true }

const THROWN = new Set(['bpmn:ErrorEventDefinition', 'bpmn:EscalationEventDefinition'])

const known = new WeakMap<object, Constructs>()

/** What the diagram of this source context uses (every construct, when it cannot be read: the glue then runs as before). */
export function constructsOf(sourceContext: unknown): Constructs {
  if (!sourceContext || typeof sourceContext !== 'object') return EVERY
  let found = known.get(sourceContext)
  if (!found) {
    const ctx = sourceContext as { getActivities?: () => ActivityInfo[] }
    const activities = ctx.getActivities?.()
    found = activities
      ? {
          eventSubProcesses: activities.some((a) => a.behaviour?.triggeredByEvent === true),
          errorsOrEscalations: activities.some((a) => (a.behaviour?.eventDefinitions ?? []).some((d) => THROWN.has(d.type ?? ''))),
          handoffs: activities.some((a) => isHandoffActivity(a as Parameters<typeof isHandoffActivity>[0])),
        }
      : EVERY
    known.set(sourceContext, found)
  }
  return found
}
