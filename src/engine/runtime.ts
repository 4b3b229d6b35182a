import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { Engine } from 'bpmn-engine'
import { moddleOptions } from './definition.ts'
import { safeEngineExpressions } from './expressions.ts'
import { CapturingTimers, type PendingTimer } from './captured-timers.ts'

/** A wait state that needs someone: a user task for officers, a receive/catch for a message. */
export interface WaitingActivity {
  activityId: string
  executionId: string
  type: string
}

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
}

export type StepAction =
  | { kind: 'start'; variables: Record<string, unknown> }
  | { kind: 'signal'; activityId: string; executionId: string; variables: Record<string, unknown> }
  | { kind: 'fireTimer'; executionId: string }
  /** Delivers a BPMN message (payment received, supplement submitted) to the catch events in `activityIds`. */
  | { kind: 'message'; messageId: string; activityIds: string[] }
  | { kind: 'resume' }

export class EngineStepError extends Error {
  readonly code = 'PROCESS_STEP_FAILED'
  /** Set when an exclusive gateway found no way out: the gateway and the variable names it saw. */
  noWayOut?: { gateway: string; gatewayName: string | null; variables: string[] }
  /** `interrupted`: the step's target was ended by a timer that came due before it (the caller lost a race). */
  constructor(message: string, readonly activityId: string | null = null, readonly interrupted = false) {
    super(message)
  }
}

/**
 * The engine's failure as a step error. A call activity wraps its called process's error (in
 * `inner.error`), so the innermost one names the element that failed. Only variable names are
 * reported, never values: they may hold the applicant's personal data.
 */
function stepFailure(err: any, variables: Record<string, unknown>): EngineStepError {
  let e = err
  for (let i = 0; i < 10 && e?.inner?.error; i++) e = e.inner.error
  const text: string = e?.description || e?.message || err?.message || 'unknown engine error'
  const gateway = /^<([^>]+)> no conditional flow taken/.exec(text)?.[1]
  if (!gateway) return new EngineStepError(text, e?.source?.content?.id ?? null)
  const name: string | null = e?.source?.content?.id === gateway ? e.source.content.name ?? null : null
  const keys = Object.keys(variables).sort()
  const out = new EngineStepError(`không có nhánh nào đi tiếp tại cổng "${name ?? gateway}" (${gateway}) với các biến ${keys.length ? keys.join(', ') : '(không có biến nào)'}; hãy gửi kèm biến mà các điều kiện của cổng này cần (ví dụ outcome)`, gateway)
  out.noWayOut = { gateway, gatewayName: name, variables: keys }
  return out
}

/** Lets the engine run until it waits again (bpmn-elements continues some work on later ticks). */
async function settle(live: LiveEngine): Promise<void> {
  for (let i = 0; i < 1000 && live.engine.activityStatus === 'executing' && !live.failure; i++) {
    await new Promise((r) => setImmediate(r))
  }
}

const WAIT_TYPES = new Set(['bpmn:UserTask', 'bpmn:ManualTask', 'bpmn:ReceiveTask', 'bpmn:IntermediateCatchEvent', 'bpmn:StartEvent'])

/**
 * Copies the variables an officer sends with a completion into the process environment, so that
 * gateways after the task can read them (bpmn-elements otherwise keeps them as task output only).
 */
function variableExtensions(definitionEnvironment: () => any) {
  return {
    taskVariables(activity: any) {
      if (activity.type === 'bpmn:CallActivity') {
        // bpmn-elements starts a called process from the definition's environment: hand it the
        // caller's current variables, so the skeleton's gateways see what earlier steps decided.
        activity.on('enter', () => {
          const env = definitionEnvironment()
          if (!env) return
          for (const [k, v] of Object.entries(activity.environment.variables as Record<string, unknown>)) if (!ENGINE_KEYS.has(k)) env.variables[k] = v
        })
        // A called process returns its output: the caller's gateways read it.
        activity.on('end', (api: any) => {
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
      if (!WAIT_TYPES.has(activity.type)) return
      activity.on('end', (api: any) => {
        const vars = api.content?.output?.variables
        if (vars && typeof vars === 'object') {
          Object.assign(activity.environment.variables, vars)
          // Inside a called process, the output is what the call activity hands back to its caller.
          Object.assign(activity.environment.output, vars)
        }
      })
    },
  }
}

/**
 * bpmn-engine saves each definition's serialized source with its state (here ~60 % of it). A step
 * always recovers with the sourceContext of the instance's own procedure version, which the engine
 * then matches by definition id, so the copy is dropped: smaller rows, and no re-parsing of the
 * diagram on recovery. (States saved with a source still recover from it.)
 */
function withoutSource(state: any): any {
  for (const d of state?.definitions ?? []) delete d.source
  return state
}

const noop = () => {}
const silentLogger = () => ({ debug: noop, error: noop, warn: noop })

/** Keys bpmn-elements merges into process variables from its run message: not the dossier's data. */
const ENGINE_KEYS = new Set(['fields', 'content', 'properties'])

function processVariables(execution: any): Record<string, unknown> {
  const proc = execution.definitions?.[0]?.getProcesses?.()[0]
  const raw = (proc?.environment?.variables ?? execution.environment.variables ?? {}) as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(raw)) if (!ENGINE_KEYS.has(k)) out[k] = v
  return out
}

interface LiveEngine {
  engine: Engine
  execution: any
  timers: CapturingTimers
  failure: Error | null
}

function newEngine(sourceContext: unknown): LiveEngine {
  const timers = new CapturingTimers()
  let engine: Engine
  const extensions = variableExtensions(() => (engine as any)?.execution?.definitions?.[0]?.environment)
  engine = new Engine({
    name: 'dossier',
    sourceContext: sourceContext as any,
    moddleOptions,
    expressions: safeEngineExpressions as any,
    timers: timers as any,
    extensions: extensions as any,
    settings: { enableDummyService: true, disableTrackState: true },
    Logger: silentLogger as any,
  })
  const live: LiveEngine = { engine, execution: null, timers, failure: null }
  engine.on('error', (err: Error) => { live.failure = err })
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

  async function open(instanceId: string, stepId: string | null, sourceContext: unknown, loadState: () => Promise<unknown | null>, watch: (live: LiveEngine) => void): Promise<LiveEngine> {
    const hit = drop(instanceId)
    if (hit && stepId && hit.stepId === stepId) {
      watch(hit.live)
      return hit.live
    }
    const state = await loadState()
    if (!state) throw new EngineStepError('process instance has no saved state')
    const live = newEngine(sourceContext)
    live.engine.recover(structuredClone(state))
    // A timer already due completes during resume: what it reaches belongs to this step.
    watch(live)
    live.execution = await live.engine.resume()
    return live
  }

  return {
    async step(instanceId: string, stepId: string | null, sourceContext: unknown, loadState: () => Promise<unknown | null>, action: StepAction): Promise<StepResult> {
      let live: LiveEngine | null = null
      const reached: string[] = []
      const firedTimers: string[] = []
      try {
        if (action.kind === 'start') {
          const listener = new EventEmitter()
          listener.on('activity.start', (api: any) => { reached.push(api.id) })
          live = newEngine(sourceContext)
          live.execution = await live.engine.execute({ variables: action.variables, listener })
        } else {
          live = await open(instanceId, stepId, sourceContext, loadState, (l) => {
            l.failure = null
            l.engine.broker.subscribeTmp('event', 'activity.start', (_rk: string, msg: any) => { reached.push(msg.content.id) }, { noAck: true, consumerTag: '_step-reached' })
            l.engine.broker.subscribeTmp('event', 'activity.timeout', (_rk: string, msg: any) => {
              if (msg.content.state === 'timeout' && msg.content.executionId) firedTimers.push(msg.content.executionId)
            }, { noAck: true, consumerTag: '_step-timeouts' })
          })
          // Timers that came due before this step fire first, whether the engine was in memory or
          // recovered: the step's action then applies to what they left (a completion may find its
          // task interrupted).
          const firing = action.kind === 'fireTimer' ? action.executionId : null
          for (const t of live.timers.pending().filter((p) => p.expireAt <= now() && p.executionId !== firing).sort((a, b) => a.expireAt.getTime() - b.expireAt.getTime())) {
            live.timers.fire(t.executionId)
            await settle(live)
          }
        }
        const execution = live.execution
        if (action.kind === 'signal') {
          const target = execution.getPostponed().find((a: any) => a.id === action.activityId && a.executionId === action.executionId)
          if (!target && firedTimers.length) throw new EngineStepError(`activity ${action.activityId} was interrupted by a timer that came due first`, action.activityId, true)
          if (!target) throw new EngineStepError(`activity ${action.activityId} is not waiting in this instance`, action.activityId)
          execution.signal({ id: action.activityId, executionId: action.executionId, variables: action.variables })
        } else if (action.kind === 'message') {
          const waiting = execution.getPostponed().some((a: any) => action.activityIds.includes(a.id))
          if (!waiting) throw new EngineStepError(`nothing in this instance waits for message ${action.messageId}`, action.activityIds[0] ?? null)
          execution.signal({ id: action.messageId })
        } else if (action.kind === 'fireTimer') {
          live.timers.fire(action.executionId)
        }
        await settle(live)
        live.engine.broker.cancel('_step-reached')
        live.engine.broker.cancel('_step-timeouts')
        if (live.failure) throw stepFailure(live.failure, { ...processVariables(execution), ...(action.kind === 'signal' ? action.variables : {}) })
        const ended = live.engine.state === 'idle' && live.engine.activityStatus === 'idle'
        const waiting: WaitingActivity[] = ended ? [] : execution.getPostponed()
          .filter((a: any) => WAIT_TYPES.has(a.type))
          .map((a: any) => ({ activityId: a.id, executionId: a.executionId, type: a.type }))
        const result: StepResult = {
          state: withoutSource(await live.engine.getState()),
          ended,
          waiting,
          timers: ended ? [] : live.timers.pending(),
          variables: processVariables(execution),
          reached,
          stepId: randomUUID(),
          firedTimers,
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
    get cached() { return cache.size },
    /** JSON size of the states held (bounded by `cacheBytes`). */
    get cachedBytes() { return heldBytes },
    clear() { cache.clear(); heldBytes = 0 },
  }
}
export type EngineRunner = ReturnType<typeof createEngineRunner>

/** One step without any cache: the raw save-state / recover / signal cycle (benchmarks, tools). */
export async function runStep(sourceContext: unknown, state: unknown | null, action: StepAction): Promise<StepResult> {
  return createEngineRunner({ cacheSize: 0 }).step('one-off', null, sourceContext, async () => state, action)
}
