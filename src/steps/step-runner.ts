import { randomUUID } from 'node:crypto'
import type { Tx } from '../db/knex.ts'
import type { UnitOfWork } from '../db/unit-of-work.ts'
import type { EngineRunner, StepAction, StepResult } from '../engine/runtime.ts'
import type { ProcedureVersionRow } from '../procedures/procedure.repository.ts'
import type { ProcedureVersionCache } from '../procedures/version-cache.ts'
import type { InstanceRow } from '../records/instance.repository.ts'
import { DossierStatus } from '../records/statuses.ts'
import { lockForStep, readForStep, type StepRepositories, type StepTarget } from './lock.ts'
import type { ObservedRead } from './observer.ts'
import { isReturnStep } from './return-step.ts'
import { runEngine } from './run.ts'
import { terminateStep, writeStep, type StepContext, type StepInput, type StepOutcome, type WriteDeps } from './write.ts'
import { cancelCalledOf, followCalls, throwToCaller, type Stepper } from './calls.ts'
import type { ProcedureRepository } from '../procedures/procedure.repository.ts'

/**
 * One engine step of one process instance (bước xử lý), and everything it implies, in the caller's
 * transaction: lock and read (`lock`), run the engine (`runEngine`), write task rows, engine state
 * (with an optimistic version check), status moves, history, outbox and the observers' rows (`write`),
 * all in the caller's unit of work, which the caller sends. Either all of it is written or none.
 */
export function createStepRunner(
  deps: WriteDeps & StepRepositories & { engine: EngineRunner; versions: ProcedureVersionCache; procedures: ProcedureRepository },
) {
  /** Writes a step, then what it implies for the instances of called procedures (src/steps/calls.ts). */
  const writeAndFollow = async (ctx: StepContext, result: StepResult, input: StepInput): Promise<StepOutcome> => {
    const outcome = await writeStep(deps, ctx, result, input)
    const linked = await followCalls(deps, stepper, ctx, outcome, input)
    if (!linked || (!linked.steps.length && !linked.cancelled.length)) return outcome
    // Other instances moved too: the answer tells what is open in the whole dossier now, and where it stands.
    const open = ctx.uow.read(deps.tasks.openForDossier(ctx.uow.tx, ctx.data.dossier.id))
    await ctx.uow.flush()
    return {
      result: outcome.result,
      created: [...outcome.created, ...linked.steps.flatMap((s) => s.outcome.created)],
      open: open.rows,
      status: linked.steps.at(-1)?.outcome.status ?? outcome.status,
    }
  }
  const stepper: Stepper = {
    step: (ctx, action, input) => runner.step(ctx, action, input),
    async startWith(ctx, variables, input) {
      const result = await runEngine(deps, null, ctx.data.instance, ctx.version, { kind: 'start', variables })
      return writeAndFollow(ctx, result, input)
    },
  }
  const runner = {
    /** What every step reads beyond the instance, the dossier and its open tasks: the observers' declared reads. */
    observedReads: [...new Set(deps.observers.flatMap((o) => o.reads))].sort() as ObservedRead[],

    /** Takes a step's locks in the one lock order and reads what it needs (see `lockForStep`). */
    lock: (uow: UnitOfWork, target: StepTarget, opts: { state?: boolean } = {}) => lockForStep(uow, deps, target, opts),

    /** Reads what a step of one instance needs, without locks (a firing prepared ahead). */
    read: (uow: UnitOfWork, at: { instanceId: string; dossierId: string }) => readForStep(uow, deps, at),

    /** The procedure version of an instance (cached per process). */
    version: (tx: Tx, instance: Pick<InstanceRow, 'procedure_version_id'>): Promise<ProcedureVersionRow> =>
      deps.versions.get(tx, instance.procedure_version_id),

    /** Runs the engine for one step (no writes): from the saved state, or a new instance for `start`. */
    runEngine: (
      tx: Tx | null,
      instance: Pick<InstanceRow, 'id' | 'step_id'>,
      version: ProcedureVersionRow,
      action: StepAction,
      state?: { saved: unknown },
    ): Promise<StepResult> => runEngine(deps, tx, instance, version, action, state),

    /** One step: the engine, then its writes added to the caller's unit of work. */
    async step(ctx: StepContext, action: StepAction, input: StepInput): Promise<StepOutcome> {
      if (action.kind === 'signal' && isReturnStep(action.activityId)) {
        // The runtime's return step: the engine has ended already; the dossier moves to RETURNED.
        const state = ctx.data.state
          ? ctx.data.state.saved
          : ((await deps.instances.state(ctx.uow.tx, ctx.data.instance.id).one())?.state ?? null)
        const done: StepResult = {
          state,
          ended: true,
          waiting: [],
          timers: [],
          variables: {},
          reached: [],
          stepId: randomUUID(),
          firedTimers: [],
        }
        return writeStep(deps, ctx, done, { ...input, fallbackStatus: DossierStatus.RETURNED })
      }
      let result: StepResult
      try {
        result = await runEngine(deps, ctx.uow.tx, ctx.data.instance, ctx.version, action, ctx.data.state)
      } catch (err) {
        // Thrown from a called procedure's task and not caught in it: its call activity gets it.
        const code = (err as { code?: string }).code
        const thrown =
          action.kind === 'bpmnError' && code === 'BPMN_ERROR_NOT_CAUGHT'
            ? { kind: 'error' as const, code: action.errorCode, message: action.errorMessage }
            : action.kind === 'bpmnEscalation' && code === 'ESCALATION_NOT_CAUGHT'
              ? { kind: 'escalation' as const, code: action.escalationCode }
              : null
        const caught = thrown && ctx.data.instance.parent_instance_id ? await throwToCaller(deps, stepper, ctx, thrown, input) : null
        if (caught) return caught
        throw err
      }
      return writeAndFollow(ctx, result, input)
    },

    /** Adds what an engine step already run implies (a submission runs the engine before its transaction). */
    write: (ctx: StepContext, result: StepResult, input: StepInput): Promise<StepOutcome> => writeAndFollow(ctx, result, input),

    /** Ends a running instance from outside the diagram (withdrawal, stop), in the caller's unit of work. */
    async terminate(ctx: StepContext, to: DossierStatus, input: Omit<StepInput, 'fallbackStatus'>): Promise<void> {
      // The procedures it called end with it (their open tasks cancelled), in the same transaction.
      if (Object.keys(ctx.version.calls ?? {}).length) await cancelCalledOf(deps, ctx, input.now)
      await terminateStep(deps, ctx, to, input)
    },
  }
  return runner
}
export type StepRunner = ReturnType<typeof createStepRunner>
