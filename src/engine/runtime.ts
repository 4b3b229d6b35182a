import { EventEmitter } from 'node:events'
import { Engine } from 'bpmn-engine'
import { moddleOptions } from './definition.ts'
import { safeEngineExpressions } from './expressions.ts'
import { CapturingTimers, type PendingTimer } from './timers.ts'

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
}

export type StepAction =
  | { kind: 'start'; variables: Record<string, unknown> }
  | { kind: 'signal'; activityId: string; executionId: string; variables: Record<string, unknown> }
  | { kind: 'fireTimer'; executionId: string }
  | { kind: 'resume' }

export class EngineStepError extends Error {
  readonly code = 'PROCESS_STEP_FAILED'
  constructor(message: string, readonly activityId: string | null = null) {
    super(message)
  }
}

const WAIT_TYPES = new Set(['bpmn:UserTask', 'bpmn:ManualTask', 'bpmn:ReceiveTask', 'bpmn:IntermediateCatchEvent', 'bpmn:StartEvent'])

/**
 * Copies the variables an officer sends with a completion into the process environment, so that
 * gateways after the task can read them (bpmn-elements otherwise keeps them as task output only).
 */
const extensions = {
  taskVariables(activity: any) {
    if (!WAIT_TYPES.has(activity.type)) return
    activity.on('end', (api: any) => {
      const vars = api.content?.output?.variables
      if (vars && typeof vars === 'object') Object.assign(activity.environment.variables, vars)
    })
  },
}

function silentLogger() {
  const noop = () => {}
  return { debug: noop, error: noop, warn: noop }
}

/**
 * Runs one step of a process instance: start it, or recover it from its saved state and deliver
 * one signal or timer, then let it run to its next wait states. Pure with respect to storage: the
 * caller persists the returned state in its own transaction.
 */
export async function runStep(sourceContext: unknown, state: unknown | null, action: StepAction): Promise<StepResult> {
  const timers = new CapturingTimers()
  let failure: Error | null = null
  const engine = new Engine({
    name: 'dossier',
    sourceContext: sourceContext as any,
    moddleOptions,
    expressions: safeEngineExpressions as any,
    timers: timers as any,
    extensions: extensions as any,
    settings: { enableDummyService: true, disableTrackState: true },
    Logger: silentLogger as any,
  })
  engine.once('error', (err: Error) => { failure = err })
  const reached: string[] = []
  const listener = new EventEmitter()
  listener.on('activity.start', (api: any) => { reached.push(api.id) })
  try {
    let execution
    if (action.kind === 'start') {
      execution = await engine.execute({ variables: action.variables, listener })
    } else {
      if (!state) throw new EngineStepError('process instance has no saved state')
      engine.recover(structuredClone(state))
      execution = await engine.resume({ listener })
    }
    if (action.kind === 'signal') {
      const target = execution.getPostponed().find((a: any) => a.id === action.activityId && a.executionId === action.executionId)
      if (!target) throw new EngineStepError(`activity ${action.activityId} is not waiting in this instance`, action.activityId)
      execution.signal({ id: action.activityId, executionId: action.executionId, variables: action.variables })
    } else if (action.kind === 'fireTimer') {
      timers.fire(action.executionId)
    }
    for (let i = 0; i < 1000 && engine.activityStatus === 'executing' && !failure; i++) {
      await new Promise((r) => setImmediate(r))
    }
    if (failure) throw new EngineStepError((failure as Error).message)
    const ended = engine.state === 'idle' && engine.activityStatus === 'idle'
    const waiting: WaitingActivity[] = ended ? [] : execution.getPostponed()
      .filter((a: any) => WAIT_TYPES.has(a.type))
      .map((a: any) => ({ activityId: a.id, executionId: a.executionId, type: a.type }))
    const variables = processVariables(execution)
    const saved = await engine.getState()
    return { state: saved, ended, waiting, timers: ended ? [] : timers.pending(), variables, reached }
  } catch (err) {
    if (err instanceof EngineStepError) throw err
    throw new EngineStepError((err as Error).message)
  } finally {
    if (engine.state === 'running') await engine.stop().catch(() => {})
  }
}

/** Keys bpmn-elements merges into process variables from its run message: not the dossier's data. */
const ENGINE_KEYS = new Set(['fields', 'content', 'properties'])

function processVariables(execution: any): Record<string, unknown> {
  const proc = execution.definitions?.[0]?.getProcesses?.()[0]
  const raw = (proc?.environment?.variables ?? execution.environment.variables ?? {}) as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(raw)) if (!ENGINE_KEYS.has(k)) out[k] = v
  return out
}
