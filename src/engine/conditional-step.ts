import type { Execution } from 'bpmn-engine'
import { runningScopes, triggerConditionalEvents, variableChanges } from './conditional-events.ts'

/** The most rounds of re-evaluation in one step (a condition's path may change variables again). */
const MAX_ROUNDS = 10

const withConditionals = new WeakMap<object, boolean>()

/** Does the diagram hold any conditional event? (Cached per source context: a step without one costs nothing.) */
export function hasConditionalEvents(sourceContext: unknown): boolean {
  if (!sourceContext || typeof sourceContext !== 'object') return false
  let known = withConditionals.get(sourceContext)
  if (known === undefined) {
    const ctx = sourceContext as { getActivities?: () => Array<{ behaviour?: { eventDefinitions?: Array<{ type?: string }> } }> }
    known = (ctx.getActivities?.() ?? []).some((a) =>
      (a.behaviour?.eventDefinitions ?? []).some((d) => d.type === 'bpmn:ConditionalEventDefinition'),
    )
    withConditionals.set(sourceContext, known)
  }
  return known
}

/** The variable names an action sets or deletes explicitly. */
export function touchedBy(action: {
  kind: string
  variables?: Record<string, unknown>
  modifications?: Record<string, unknown>
}): string[] {
  return Object.keys(action.variables ?? action.modifications ?? {})
}

/** Sets and deletes variables in the process and in every running sub-process's copy of them. */
export function setVariables(execution: Execution, modifications: Record<string, unknown>, deletions: readonly string[]): void {
  for (const scope of runningScopes(execution)) {
    Object.assign(scope, modifications)
    for (const name of deletions) delete scope[name]
  }
}

/**
 * After a step's action: signals the conditional events listening for what changed in the
 * variables (everything, on `start`), lets the engine run, and repeats while the paths taken change
 * variables again.
 */
export async function reevaluateConditions(
  execution: Execution,
  before: Record<string, unknown> | 'all',
  touched: readonly string[],
  variables: () => Record<string, unknown>,
  settle: () => Promise<void>,
): Promise<void> {
  let last = before
  let names = touched
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const now = variables()
    const changes = last === 'all' ? 'all' : variableChanges(last, now, names)
    if (changes !== 'all' && !changes.length) return
    if (!triggerConditionalEvents(execution, changes, now)) return
    await settle()
    last = now
    names = []
  }
}
