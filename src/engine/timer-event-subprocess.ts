import type { Activity, Api, ElementBase, Environment } from 'bpmn-elements'
import type { Execution } from 'bpmn-engine'

/**
 * Timer-started event sub-processes (quy trình con sự kiện hẹn giờ) as Camunda 7 runs them. While
 * their scope — the process, or the embedded sub-process that holds them — runs, their start event
 * waits on its timer: a durable timer like every other BPMN timer (a row in Postgres and a delayed
 * job, the same working-time rules). When it fires, an interrupting one cancels everything else in
 * its scope (event-subprocess.ts), a non-interrupting one runs beside it. When the rest of the scope
 * has ended, the timers still waiting are cancelled and the scope ends.
 *
 * bpmn-elements starts event sub-processes only on messages, signals, errors and escalations, so this
 * module arms them: after each settled step, `tend` runs every timer event sub-process of every
 * running scope that is not running yet, and cancels the ones left waiting alone. A non-interrupting
 * cycle (`R3/PT1H`) fires as often as the cycle says, each time counted from the end of the previous
 * run (a run still going when the next repetition is due delays it: runs never overlap). The count of
 * runs of each scope is kept in the scope's variables under `TIMER_STARTS`, saved with the state.
 */
export const TIMER_STARTS = '_tthcTimerStarts'

type Runs = Record<string, number>

interface Scope {
  environment: Environment
  children: Activity[]
  postponed: Api<ElementBase>[]
}

interface Running {
  execution?: {
    getPostponed?: () => Api<ElementBase>[]
    source?: { executions?: Array<{ environment: Environment; getActivities(): Activity[]; getPostponed(): Api<ElementBase>[] }> }
  }
}

interface TimerDefinition {
  type?: string
  timeCycle?: string
  timeDuration?: string
  timeDate?: string
}

/** The timer start event of an event sub-process, if it starts by a timer. */
function timerStart(sub: Activity): { start: Activity; runs: number } | null {
  const ctx = sub.context as unknown as { getActivities(): Activity[] }
  for (const a of ctx.getActivities()) {
    if (a.type !== 'bpmn:StartEvent' || a.parent?.id !== sub.id) continue
    const def = (a.eventDefinitions as TimerDefinition[] | undefined)?.find((d) => d.type === 'bpmn:TimerEventDefinition')
    if (!def) continue
    if (def.timeCycle === undefined) return { start: a, runs: 1 }
    const n = /^\s*R(\d*)\//.exec(def.timeCycle)
    return { start: a, runs: n ? (n[1] ? Number(n[1]) : Infinity) : Infinity }
  }
  return null
}

/** Every running scope of the instance: the process, then each running embedded sub-process, however deep. */
function scopes(execution: Execution): Scope[] {
  const out: Scope[] = []
  const proc = execution.definitions?.[0]?.getProcesses?.()[0] as unknown as
    | (ElementBase & {
        isRunning?: boolean
        environment: Environment
        execution?: { getActivities(): Activity[]; getPostponed(): Api<ElementBase>[] }
      })
    | undefined
  if (!proc?.isRunning || !proc.execution) return out
  const visit = (scope: Scope) => {
    out.push(scope)
    for (const api of scope.postponed) {
      const owner = api.owner as Activity & Running
      if (!owner.isSubProcess) continue
      for (const pe of owner.execution?.source?.executions ?? [])
        visit({ environment: pe.environment, children: pe.getActivities(), postponed: pe.getPostponed() })
    }
  }
  visit({ environment: proc.environment, children: proc.execution.getActivities(), postponed: proc.execution.getPostponed() })
  return out
}

/** The event sub-process is waiting at its timer start: nothing of it has started but its start event. */
function waitingAtStart(api: Api<ElementBase>): boolean {
  const owner = api.owner as Activity & Running
  const inner = (owner.execution?.getPostponed?.() ?? []).filter((a) => a.owner !== owner)
  return inner.length > 0 && inner.every((a) => (a.owner as Activity).type === 'bpmn:StartEvent')
}

/** An event sub-process whose start events all interrupt their scope (isInterrupting is true by default). */
function interrupting(sub: Activity): boolean {
  const ctx = sub.context as unknown as { getActivities(): Activity[] }
  return !ctx
    .getActivities()
    .some(
      (a) =>
        a.type === 'bpmn:StartEvent' && a.parent?.id === sub.id && (a.behaviour as { isInterrupting?: boolean }).isInterrupting === false,
    )
}

/**
 * Arms and cancels timer event sub-processes (see above); true when it changed something (settle,
 * then tend again). Also completes an interruption: when an interrupting event sub-process of a scope
 * has started, whatever else still runs in that scope is cancelled — event-subprocess.ts does it as
 * the start event fires, but a timer that comes due while the instance is recovered fires before the
 * rest of the scope is back, so it is checked again here.
 */
export function tendTimerEventSubProcesses(execution: Execution): boolean {
  let changed = false
  for (const scope of scopes(execution)) {
    const taking = scope.postponed.find((api) => {
      const owner = api.owner as Activity
      return owner.triggeredByEvent && interrupting(owner) && !waitingAtStart(api)
    })
    if (taking) {
      const rest = scope.postponed.filter((api) => api !== taking && api.owner !== taking.owner)
      for (const api of rest) api.discard()
      if (rest.length) changed = true
      continue
    }
    const timed = scope.children.filter((a) => a.triggeredByEvent && timerStart(a))
    if (!timed.length) continue
    const byOwner = new Map(scope.postponed.map((api) => [(api.owner as Activity).id, api]))
    const others = scope.postponed.filter((api) => !(api.owner as Activity).triggeredByEvent)
    if (!others.length) {
      // The rest of the scope has ended: the timers still waiting are cancelled, so the scope ends.
      const waiting = scope.postponed.filter((api) => timed.includes(api.owner as Activity) && waitingAtStart(api))
      if (waiting.length && waiting.length === scope.postponed.length) {
        for (const api of waiting) api.discard()
        changed = true
      }
      continue
    }
    const runs: Runs = { ...((scope.environment.variables[TIMER_STARTS] as Runs | undefined) ?? {}) }
    for (const sub of timed) {
      if (byOwner.has(sub.id)) continue
      const done = runs[sub.id] ?? 0
      if (done >= timerStart(sub)!.runs) continue
      runs[sub.id] = done + 1
      scope.environment.variables[TIMER_STARTS] = { ...runs }
      sub.run()
      changed = true
    }
  }
  return changed
}

/**
 * The event sub-processes among `ids` that can start now: each in a running scope (the process, or a
 * running sub-process: an event sub-process listens only while its scope runs) and not running
 * already. `processLevel`: its scope is the process.
 */
export function startableEventSubProcesses(
  execution: Execution,
  ids: ReadonlySet<string>,
): Array<{ activity: Activity; processLevel: boolean }> {
  const out: Array<{ activity: Activity; processLevel: boolean }> = []
  scopes(execution).forEach((scope, i) => {
    const running = new Set(scope.postponed.map((api) => (api.owner as Activity).id))
    for (const a of scope.children)
      if (a.triggeredByEvent && ids.has(a.id) && !running.has(a.id)) out.push({ activity: a, processLevel: i === 0 })
  })
  return out
}
