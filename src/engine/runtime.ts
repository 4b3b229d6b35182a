import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { Engine, type BpmnEngineExecutionState, type Execution } from 'bpmn-engine'
import type { Activity, Api, ElementBase, ElementMessageContent, Environment, Extension, ITimers, LoggerFactory } from 'bpmn-elements'
import type { SerializableContext } from 'moddle-context-serializer'
import { moddleOptions } from './definition.ts'
import { safeEngineExpressions } from './expressions.ts'
import { CapturingTimers, type PendingTimer } from './captured-timers.ts'
import { bindExpressionService } from './service-expression.ts'
import { interruptScopeOnStart } from './event-subprocess.ts'
import { keepOneStart, startMessageWaiting } from './start-event.ts'
import { nearestErrorCatch, throwToEventSubProcess } from './error-catch.ts'
import { startableEventSubProcesses, tendTimerEventSubProcesses, TIMER_STARTS } from './timer-event-subprocess.ts'
import { bindInputOutput } from './input-output.ts'
import { COMPENSABLE_KEY, driveCompensation, hasCompensation, recordCompensable } from './compensation.ts'
import { hasConditionalEvents, reevaluateConditions, setVariables, touchedBy } from './conditional-step.ts'
import { bindActivityInputOutput } from './input-output-activities.ts'
import { throwTracker, type UncaughtThrow } from './thrown.ts'
import { collectWaiting, isWaitState, runningActivityIds, waitingApi, type WaitingActivity } from './waiting.ts'
import { bindHandoffService } from './handoff-task.ts'
import { constructsOf } from './constructs.ts'

export type { WaitingActivity } from './waiting.ts'

export interface StepResult {
  state: unknown
  ended: boolean
  waiting: WaitingActivity[]
  timers: PendingTimer[]
  variables: Record<string, unknown>
  /** Activities entered during this step, in order (for `tthc:status` and history). */
  reached: string[]
  /** Identifies the state this step produced; stored with it so a cached engine is reused only for that exact state. */
  stepId: string
  /** Execution ids of the timers that came due and fired during this step (before its action: they were due first). */
  firedTimers: string[]
  /** BPMN errors and escalations thrown by the diagram in this step that nothing in the instance caught. */
  uncaught?: UncaughtThrow[]
}

export type StepAction =
  /**
   * A new instance. At its none start event, or with `message` at the message start event of the
   * process that waits for that message (POST /api/messages without a dossier): the message is
   * delivered to it as soon as the instance starts.
   */
  | { kind: 'start'; variables: Record<string, unknown>; message?: { messageId: string; startEventId: string } }
  | { kind: 'signal'; activityId: string; executionId: string; variables: Record<string, unknown> }
  | { kind: 'fireTimer'; executionId: string }
  /**
   * Delivers a BPMN message (payment received, supplement submitted, POST /api/messages) or signal to
   * the catch events, receive tasks and boundary events in `activityIds`. With `correlationKeys`, only
   * an instance whose process variables equal them; `variables` are set on the instance as the message
   * arrives; `probe` only checks that the instance waits for it and matches (nothing is delivered).
   */
  | {
      kind: 'message'
      messageId: string
      activityIds: string[]
      correlationKeys?: Record<string, unknown>
      variables?: Record<string, unknown>
      probe?: boolean
      /** Event sub-processes of the process the message starts (each while it is not already running). */
      eventSubProcesses?: Array<{ id: string; interrupting: boolean }>
    }
  /**
   * Throws an escalation from the waiting task (Camunda 7's `bpmnEscalation` on a task): the
   * variables are set first; an escalation boundary on the task or an enclosing sub-process, or an
   * escalation event sub-process, for that code catches it (a non-interrupting one leaves the task
   * waiting). No catcher: the step fails with `uncaughtEscalation` (and nothing is written).
   */
  | { kind: 'bpmnEscalation'; activityId: string; executionId: string; escalationCode: string; variables: Record<string, unknown> }
  /**
   * Ends the waiting task by throwing a BPMN error from it (Camunda 7's `bpmnError` on a task): the
   * variables are set first, then an error boundary or error event sub-process that matches the code
   * catches it. No catcher: the step fails with `uncaught` (and nothing is written).
   */
  | {
      kind: 'bpmnError'
      activityId: string
      executionId: string
      errorCode: string
      errorMessage: string | null
      variables: Record<string, unknown>
    }
  | { kind: 'resume' }
  /**
   * Sets and deletes process variables from outside (POST /api/process-instances/:id/variables,
   * Camunda 7's `POST /process-instance/{id}/variables`); the conditional events that listen for the
   * change are evaluated again.
   */
  | { kind: 'setVariables'; modifications: Record<string, unknown>; deletions: string[] }
  /**
   * Completes a waiting call activity (one instance of it, for a multi-instance one) whose called
   * procedure ended: its `camunda:out` variables are set first, as Camunda 7 does.
   */
  | { kind: 'completeCall'; activityId: string; executionId: string; variables: Record<string, unknown> }

export class EngineStepError extends Error {
  readonly code = 'PROCESS_STEP_FAILED'
  /** Set when an exclusive gateway found no way out: the gateway and the variable names it saw. */
  noWayOut?: { gateway: string; gatewayName: string | null; variables: string[] }
  /** Set when a delivered message finds nothing waiting for it, or the instance's variables do not match its correlation keys. */
  uncorrelated = false
  /** Set when a BPMN error thrown from a task found no catcher: its code. */
  uncaughtError?: string
  /** Set when an escalation thrown from a task found no catcher: its code. */
  uncaughtEscalation?: string
  /** `interrupted`: the step's target was ended by a timer that came due before it (the caller lost a race). */
  constructor(
    message: string,
    readonly activityId: string | null = null,
    readonly interrupted = false,
  ) {
    super(message)
  }
}

/**
 * The engine's failure as a step error. A call activity wraps its called process's error (in
 * `inner.error`), so the innermost one names the element that failed. Only variable names are
 * reported, never values: they may hold the applicant's personal data.
 */
interface EngineFailure {
  description?: string
  message?: string
  inner?: { error?: EngineFailure }
  source?: { content?: { id?: string; name?: string } }
}

function stepFailure(err: EngineFailure | null, variables: Record<string, unknown>): EngineStepError {
  let e = err
  for (let i = 0; i < 10 && e?.inner?.error; i++) e = e.inner.error
  const text: string = e?.description || e?.message || err?.message || 'unknown engine error'
  const gateway = /^<([^>]+)> no conditional flow taken/.exec(text)?.[1]
  if (!gateway) return new EngineStepError(text, e?.source?.content?.id ?? null)
  const name: string | null = e?.source?.content?.id === gateway ? (e.source.content.name ?? null) : null
  const keys = Object.keys(variables).sort()
  const out = new EngineStepError(
    `không có nhánh nào đi tiếp tại cổng "${name ?? gateway}" (${gateway}) với các biến ${keys.length ? keys.join(', ') : '(không có biến nào)'}; hãy gửi kèm biến mà các điều kiện của cổng này cần (ví dụ outcome)`,
    gateway,
  )
  out.noWayOut = { gateway, gatewayName: name, variables: keys }
  return out
}

/** Lets the engine run until it waits again (bpmn-elements continues some work on later ticks). */
async function settle(live: LiveEngine): Promise<void> {
  for (let i = 0; i < 1000 && live.engine.activityStatus === 'executing' && !live.failure; i++) {
    await new Promise((r) => setImmediate(r))
  }
}

/**
 * The variable scopes an activity sees, innermost first: its own (an embedded sub-process runs in a
 * copy of its parent's variables), each enclosing sub-process's, and its process's.
 */
function scopesOf(activity: Activity): Environment[] {
  const scopes = [activity.environment]
  for (
    let parent = activity.parentElement as Activity | undefined;
    parent;
    parent = parent.isSubProcess ? (parent.parentElement as Activity) : undefined
  ) {
    if (!scopes.includes(parent.environment)) scopes.push(parent.environment)
  }
  return scopes
}

/**
 * Copies the variables an officer sends with a completion into the process environment, so that
 * gateways after the task can read them (bpmn-elements otherwise keeps them as task output only).
 * Inside embedded sub-processes they are written to every enclosing scope up to the process, as
 * Camunda 7 sets a variable the task does not declare locally on the process instance.
 */
function variableExtensions(
  definitionEnvironment: () => Environment | undefined,
  fail: (err: Error) => void,
  startAt: () => string | null | undefined = () => undefined,
): Record<string, (element: ElementBase) => unknown> {
  return {
    taskVariables(element: ElementBase) {
      const activity = element as Activity
      keepOneStart(activity, startAt)
      if (activity.type === 'bpmn:CallActivity') {
        // bpmn-elements starts a called process from the definition's environment: hand it the
        // caller's current variables, so the skeleton's gateways see what earlier steps decided.
        activity.on('enter', () => {
          const env = definitionEnvironment()
          if (!env) return
          for (const [k, v] of Object.entries(activity.environment.variables)) if (!ENGINE_KEYS.has(k)) env.variables[k] = v
        })
        // A called process returns its output: the caller's gateways read it.
        activity.on('end', (api: Api<Activity>) => {
          // Recovered call activities wrap the called process's output as { executionId, output }.
          const raw = api.content?.output
          const out = raw && typeof raw === 'object' && 'executionId' in raw ? raw.output : raw
          if (out && typeof out === 'object' && !Array.isArray(out)) {
            Object.assign(activity.environment.variables, out)
            Object.assign(activity.environment.output, out)
          }
        })
        return
      }
      interruptScopeOnStart(activity)
      recordCompensable(activity)
      bindExpressionService(activity, (vars) => {
        for (const scope of scopesOf(activity)) Object.assign(scope.variables, vars)
      })
      bindHandoffService(activity)
      if (!isWaitState(activity))
        return bindActivityInputOutput(
          activity,
          (vars) => {
            for (const scope of scopesOf(activity)) Object.assign(scope.variables, vars)
          },
          fail,
        )
      const setAll = (vars: Record<string, unknown>) => {
        for (const scope of scopesOf(activity)) Object.assign(scope.variables, vars)
      }
      // camunda:inputOutput: a completion variable named like an input parameter stays local, as in Camunda 7.
      const io = bindInputOutput(activity, () => activity.environment.variables, setAll, fail)
      const assign = (vars: unknown) => {
        if (!vars || typeof vars !== 'object') return
        const locals = io?.localNames
        const shared = locals ? Object.fromEntries(Object.entries(vars).filter(([k]) => !locals.has(k))) : vars
        for (const scope of scopesOf(activity)) Object.assign(scope.variables, shared)
        // Inside a called process, the output is what the call activity hands back to its caller.
        Object.assign(activity.environment.output, vars)
      }
      activity.on('end', (api: Api<Activity>) => {
        assign(api.content?.output?.variables)
        io?.end(api)
      })
      // Each instance of a multi-instance task sets its variables when it completes (the activity's
      // own end carries only the list of its instances' outputs), before the completion condition reads them.
      if (activity.isMultiInstance) {
        activity.broker.subscribeTmp(
          'execution',
          'execute.completed',
          (_rk: string, msg: { content?: ElementMessageContent }) => {
            if (msg.content?.isMultiInstance && !msg.content.isRootScope) assign(msg.content.output?.variables)
          },
          { noAck: true, consumerTag: '_tthc-instance-variables', priority: 400 },
        )
      }
      return io ? { activate: (message: { fields?: { routingKey?: string } }) => io.activate(message), deactivate: () => {} } : undefined
    },
  }
}

/**
 * bpmn-engine saves each definition's serialized source with its state (here ~60 % of it). A step
 * always recovers with the sourceContext of the instance's own procedure version, which the engine
 * then matches by definition id, so the copy is dropped: smaller rows, and no re-parsing of the
 * diagram on recovery. (States saved with a source still recover from it.)
 */
function withoutSource(state: BpmnEngineExecutionState): BpmnEngineExecutionState {
  for (const d of state?.definitions ?? []) delete d.source
  return state
}

/** The escalation element (bpmn:escalation) a code names, as a throw event would send it; none when no element has that code. */
function escalationByCode(activity: Activity, code: string): Record<string, unknown> | null {
  const context = activity.context as unknown as {
    definitionContext: { getActivities(): Array<{ id: string; type: string; name?: string; behaviour?: { escalationCode?: unknown } }> }
  }
  const def = context.definitionContext
    .getActivities()
    .find((a) => a.type === 'bpmn:Escalation' && String(a.behaviour?.escalationCode ?? '') === code)
  return def ? { id: def.id, type: def.type, messageType: 'escalation', name: def.name, code } : null
}

const noop = () => {}
const silentLogger: LoggerFactory = () => ({ debug: noop, error: noop, warn: noop, info: noop })

/** Keys bpmn-elements merges into process variables from its run message: not the dossier's data. */
const ENGINE_KEYS = new Set(['fields', 'content', 'properties', COMPENSABLE_KEY, TIMER_STARTS])

function processVariables(execution: Execution): Record<string, unknown> {
  const proc = execution.definitions?.[0]?.getProcesses?.()[0]
  const raw: Record<string, unknown> = proc?.environment?.variables ?? execution.environment.variables ?? {}
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(raw)) if (!ENGINE_KEYS.has(k)) out[k] = v
  return out
}

/** Equality of a correlation key's value and a process variable (values as JSON: numbers, strings, booleans, lists, objects). */
function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

interface LiveEngine {
  engine: Engine
  /** Set once the engine is executing or resumed. */
  execution: Execution
  timers: CapturingTimers
  failure: Error | null
}

/** `startAt`: the start event a new instance starts at (null: its none start); undefined when recovering. */
function newEngine(sourceContext: unknown, now: () => Date, startAt?: string | null): LiveEngine {
  // A timer the engine asks for by delay alone is dated by the injected clock.
  const timers = new CapturingTimers({ now })
  const holder: { engine?: Engine } = {}
  const extensions = variableExtensions(
    () => holder.engine?.execution?.definitions?.[0]?.environment,
    (err) => {
      live.failure ??= err
    },
    () => startAt,
  )
  const engine = new Engine({
    name: 'dossier',
    sourceContext: sourceContext as SerializableContext,
    moddleOptions,
    expressions: safeEngineExpressions,
    // Records what the engine asks for instead of scheduling it (the ITimers shape, typed loosely upstream).
    timers: timers as unknown as ITimers,
    // bpmn-elements also takes an extension that only listens and returns nothing.
    extensions: extensions as unknown as Record<string, Extension>,
    settings: { enableDummyService: true, disableTrackState: true },
    Logger: silentLogger,
  })
  holder.engine = engine
  const live: LiveEngine = { engine, execution: null as unknown as Execution, timers, failure: null }
  engine.on('error', (err: Error) => {
    live.failure = err
  })
  return live
}

/**
 * Runs process instances one step at a time: start, or continue from the saved state and deliver
 * one signal or timer, then run to the next wait states. Storage stays with the caller, who
 * persists the returned state (and `stepId`) in its own transaction.
 *
 * Engines in a wait state are kept in a small LRU keyed by instance and step id: when the stored
 * step id matches, the next step continues in memory instead of recovering from JSON. A step whose
 * transaction rolled back never matches (its step id was not stored), so the cache cannot serve a
 * state that Postgres does not hold.
 *
 * The LRU is bounded by entries and by the total size of the held states (their JSON length; a live
 * engine takes several times that in memory): an instance with large variables pushes older ones
 * out, and one larger than the whole budget is not held at all.
 */
export function createEngineRunner(opts: { cacheSize?: number; cacheBytes?: number; now?: () => Date } = {}) {
  const cacheSize = opts.cacheSize ?? 500
  const cacheBytes = opts.cacheBytes ?? 32 * 1024 * 1024
  const now = opts.now ?? (() => new Date())
  const cache = new Map<string, { stepId: string; live: LiveEngine; bytes: number }>()
  let heldBytes = 0
  const drop = (instanceId: string) => {
    const entry = cache.get(instanceId)
    if (!entry) return undefined
    cache.delete(instanceId)
    heldBytes -= entry.bytes
    return entry
  }
  function hold(instanceId: string, stepId: string, live: LiveEngine, state: unknown) {
    const bytes = JSON.stringify(state).length
    if (cacheSize === 0 || bytes > cacheBytes) return
    cache.set(instanceId, { stepId, live, bytes })
    heldBytes += bytes
    while (cache.size > cacheSize || heldBytes > cacheBytes) drop(cache.keys().next().value!)
  }

  async function open(
    instanceId: string,
    stepId: string | null,
    sourceContext: unknown,
    loadState: () => Promise<unknown | null>,
    watch: (live: LiveEngine) => void,
  ): Promise<LiveEngine> {
    const hit = drop(instanceId)
    if (hit && stepId && hit.stepId === stepId) {
      watch(hit.live)
      return hit.live
    }
    const state = await loadState()
    if (!state) throw new EngineStepError('process instance has no saved state')
    const live = newEngine(sourceContext, now)
    live.engine.recover(structuredClone(state))
    // A timer already due completes during resume: what it reaches belongs to this step.
    watch(live)
    live.execution = await live.engine.resume()
    return live
  }

  return {
    async step(
      instanceId: string,
      stepId: string | null,
      sourceContext: unknown,
      loadState: () => Promise<unknown | null>,
      action: StepAction,
    ): Promise<StepResult> {
      let live: LiveEngine | null = null
      const reached: string[] = []
      const firedTimers: string[] = []
      const throws = throwTracker()
      // What the diagram uses: the glue for constructs it lacks is skipped (each costs every step).
      const uses = constructsOf(sourceContext)
      try {
        if (action.kind === 'start') {
          const listener = new EventEmitter()
          listener.on('activity.start', (api: Api<ElementBase>) => {
            reached.push(api.id)
          })
          if (uses.errorsOrEscalations) {
            listener.on('activity.throw', (api: Api<ElementBase>) => throws.thrown('error', api.content))
            listener.on('activity.escalate', (api: Api<ElementBase>) => throws.thrown('escalation', api.content))
            listener.on('activity.catch', (api: Api<ElementBase>) => throws.caught(api.content))
          }
          live = newEngine(sourceContext, now, action.message?.startEventId ?? null)
          live.execution = await live.engine.execute({ variables: action.variables, listener })
          // The message start event waits for its message: it is the message that started the instance.
          await settle(live)
          const startMessage = action.message?.messageId ?? startMessageWaiting(live.execution.getPostponed())
          if (startMessage) live.execution.signal({ id: startMessage })
        } else {
          live = await open(instanceId, stepId, sourceContext, loadState, (l) => {
            l.failure = null
            l.engine.broker.subscribeTmp(
              'event',
              'activity.start',
              (_rk: string, msg: { content?: ElementMessageContent }) => {
                if (msg.content?.id) reached.push(msg.content.id)
              },
              { noAck: true, consumerTag: '_step-reached' },
            )
            l.engine.broker.subscribeTmp(
              'event',
              'activity.timeout',
              (_rk: string, msg: { content?: ElementMessageContent }) => {
                if (msg.content?.state === 'timeout' && msg.content.executionId) firedTimers.push(msg.content.executionId)
              },
              { noAck: true, consumerTag: '_step-timeouts' },
            )
            // A diagram without error or escalation events throws none (a task's bpmnError fails the step instead).
            for (const [key, track] of uses.errorsOrEscalations
              ? ([
                  ['activity.throw', (c: ElementMessageContent) => throws.thrown('error', c)],
                  [
                    'activity.escalate',
                    (c: ElementMessageContent) => (action.kind === 'bpmnEscalation' ? undefined : throws.thrown('escalation', c)),
                  ],
                  ['activity.catch', (c: ElementMessageContent) => throws.caught(c)],
                ] as const)
              : [])
              l.engine.broker.subscribeTmp('event', key, (_rk: string, msg: { content?: ElementMessageContent }) => track(msg.content!), {
                noAck: true,
                consumerTag: `_step-${key}`,
              })
          })
          // Timers that came due before this step fire first, whether the engine was in memory or
          // recovered: the step's action then applies to what they left (a completion may find its
          // task interrupted).
          const firing = action.kind === 'fireTimer' ? action.executionId : null
          for (const t of live.timers
            .pending()
            .filter((p) => p.expireAt <= now() && p.executionId !== firing)
            .sort((a, b) => a.expireAt.getTime() - b.expireAt.getTime())) {
            live.timers.fire(t.executionId)
            await settle(live)
          }
        }
        const execution = live.execution
        // Conditional events are evaluated again on what the step changes in the variables.
        const conditional = hasConditionalEvents(sourceContext)
        const before = conditional && action.kind !== 'start' ? processVariables(execution) : {}
        let caught = 0
        if (action.kind === 'signal' || action.kind === 'bpmnError' || action.kind === 'bpmnEscalation' || action.kind === 'completeCall') {
          // The task may wait inside a sub-process or be one instance of a multi-instance task.
          const target = waitingApi(execution, action.activityId, action.executionId)
          if (!target && firedTimers.length)
            throw new EngineStepError(
              `activity ${action.activityId} was interrupted by a timer that came due first`,
              action.activityId,
              true,
            )
          if (!target) throw new EngineStepError(`activity ${action.activityId} is not waiting in this instance`, action.activityId)
          if (action.kind === 'signal') {
            target.signal({ id: action.activityId, executionId: action.executionId, variables: action.variables })
          } else if (action.kind === 'completeCall') {
            for (const scope of scopesOf(target.owner as Activity)) Object.assign(scope.variables, action.variables)
            target.signal({})
          } else if (action.kind === 'bpmnEscalation') {
            const owner = target.owner as Activity
            for (const scope of scopesOf(owner)) Object.assign(scope.variables, action.variables)
            const escalation = escalationByCode(owner, action.escalationCode)
            if (escalation) {
              live.engine.broker.subscribeTmp('event', 'activity.catch', () => caught++, { noAck: true, consumerTag: '_step-caught' })
              // As an escalation throw event publishes it: bpmn-elements' catchers match the escalation's id.
              owner.broker.publish(
                'event',
                'activity.escalate',
                { ...structuredClone(target.content), message: escalation, state: 'throw' },
                { type: 'escalate', delegate: true },
              )
            }
          } else {
            // Camunda 7 sets the variables before the error propagates, so the catching path reads them.
            for (const scope of scopesOf(target.owner as Activity)) Object.assign(scope.variables, action.variables)
            const catcher = nearestErrorCatch(target.owner as Activity, action.errorCode)
            // The nearest catcher is an error event sub-process: the error is thrown to it (bpmn-elements
            // would only offer a task's error to boundary events).
            if (catcher?.kind === 'eventSubProcess')
              throwToEventSubProcess(target, catcher.errorId, { code: action.errorCode, message: action.errorMessage })
            // bpmn-elements' error boundary events match the error's `code`.
            else
              target.sendApiMessage('error', {
                message: action.errorMessage ?? action.errorCode,
                code: action.errorCode,
                name: action.errorCode,
              })
          }
        } else if (action.kind === 'message') {
          // A boundary event waits beside its activity: every running element counts, not only wait states.
          const running = runningActivityIds(execution)
          const uncorrelated = (text: string) => {
            const e = new EngineStepError(text, action.activityIds[0] ?? null)
            e.uncorrelated = true
            return e
          }
          // An event sub-process listens while its scope (the process or a sub-process) runs, one run at a time.
          const interruptingIds = new Set((action.eventSubProcesses ?? []).filter((e) => e.interrupting).map((e) => e.id))
          const starts = startableEventSubProcesses(execution, new Set((action.eventSubProcesses ?? []).map((e) => e.id))).map((s) => ({
            ...s,
            id: s.activity.id,
            interrupting: interruptingIds.has(s.activity.id),
          }))
          if (!action.activityIds.some((id) => running.has(id)) && !starts.length)
            throw uncorrelated(`nothing in this instance waits for message ${action.messageId}`)
          const vars = processVariables(execution)
          for (const [k, v] of Object.entries(action.correlationKeys ?? {}))
            if (!Object.hasOwn(vars, k) || !sameValue(vars[k], v)) throw uncorrelated(`correlation key ${k} does not match`)
          if (!action.probe) {
            const proc = execution.definitions?.[0]?.getProcesses?.()[0]
            if (action.variables && proc) Object.assign(proc.environment.variables, action.variables)
            // bpmn-elements starts an event sub-process only on a message thrown inside the definition:
            // one from outside starts it here, then reaches its start event like any other catch.
            const started = starts.map((e) => {
              e.activity.run({ id: action.messageId, messageType: 'message' })
              return e
            })
            execution.signal({ id: action.messageId })
            if (started.some((e) => e.interrupting && e.processLevel)) {
              // An interrupting start cancels everything else running in the process (Camunda 7); in a
              // sub-process, what runs in that sub-process (event-subprocess.ts, timer-event-subprocess.ts).
              await settle(live)
              const keep = new Set(started.map((e) => e.id))
              for (const api of execution.getPostponed()) if (!keep.has(api.owner?.id ?? api.id)) api.discard()
            }
          }
        } else if (action.kind === 'fireTimer') {
          live.timers.fire(action.executionId)
        } else if (action.kind === 'setVariables') {
          setVariables(execution, action.modifications, action.deletions)
        }
        await settle(live)
        // Timer event sub-processes are armed as their scopes run, and cancelled when they end.
        if (uses.eventSubProcesses)
          for (let i = 0; i < 20 && !live.failure && tendTimerEventSubProcesses(execution); i++) await settle(live)
        if (conditional && !(action.kind === 'message' && action.probe) && !live.failure)
          await reevaluateConditions(
            execution,
            action.kind === 'start' ? 'all' : before,
            touchedBy(action),
            () => processVariables(execution),
            () => settle(live!),
          )
        // A compensation throw event waiting for its handlers: the next handler starts, or the event completes.
        if (hasCompensation(sourceContext) && !(action.kind === 'message' && action.probe) && !live.failure)
          await driveCompensation(execution, processVariables(execution), () => settle(live!))
        live.engine.broker.cancel('_step-reached')
        live.engine.broker.cancel('_step-timeouts')
        live.engine.broker.cancel('_step-caught')
        for (const key of ['activity.throw', 'activity.escalate', 'activity.catch']) live.engine.broker.cancel(`_step-${key}`)
        if (action.kind === 'bpmnEscalation' && !caught) {
          const err = new EngineStepError(
            `escalation ${action.escalationCode} thrown from ${action.activityId} has no catcher`,
            action.activityId,
          )
          err.uncaughtEscalation = action.escalationCode
          throw err
        }
        if (live.failure && action.kind === 'bpmnError') {
          const err = new EngineStepError(
            `BPMN error ${action.errorCode} thrown from ${action.activityId} has no catcher`,
            action.activityId,
          )
          err.uncaughtError = action.errorCode
          throw err
        }
        if (live.failure)
          throw stepFailure(live.failure, { ...processVariables(execution), ...(action.kind === 'signal' ? action.variables : {}) })
        const ended = live.engine.state === 'idle' && live.engine.activityStatus === 'idle'
        const waiting: WaitingActivity[] = ended ? [] : collectWaiting(execution)
        const result: StepResult = {
          state: withoutSource(await live.engine.getState()),
          ended,
          waiting,
          timers: ended ? [] : live.timers.pending(),
          variables: processVariables(execution),
          reached,
          stepId: randomUUID(),
          firedTimers,
          uncaught: throws.uncaught(execution.definitions?.[0]?.getProcesses?.()[0] as unknown as Activity | undefined),
        }
        if (!ended) hold(instanceId, result.stepId, live, result.state)
        return result
      } catch (err) {
        if (live && live.engine.state === 'running') await live.engine.stop().catch(() => {})
        if (err instanceof EngineStepError) throw err
        throw new EngineStepError((err as Error).message)
      }
    },
    /** Engines held in memory (for health and benchmarks). */
    get cached() {
      return cache.size
    },
    /** JSON size of the states held (bounded by `cacheBytes`). */
    get cachedBytes() {
      return heldBytes
    },
    clear() {
      cache.clear()
      heldBytes = 0
    },
  }
}
export type EngineRunner = ReturnType<typeof createEngineRunner>

/** One step without any cache: the raw save-state / recover / signal cycle (benchmarks, tools). */
export async function runStep(sourceContext: unknown, state: unknown | null, action: StepAction): Promise<StepResult> {
  return createEngineRunner({ cacheSize: 0 }).step('one-off', null, sourceContext, async () => state, action)
}
