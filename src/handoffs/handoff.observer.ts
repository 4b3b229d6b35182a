import { randomUUID } from 'node:crypto'
import type { HandoffSpec } from '../engine/handoff-task.ts'
import { defineObserver } from '../steps/observer.ts'
import type { HandoffRepository, NewHandoff } from './handoff.repository.ts'
import type { ProcedureVersionRow } from '../procedures/procedure.repository.ts'

/**
 * Every step writes its handoffs in its own transaction: a service task the step left waiting for
 * another system gets its row (and, for an adapter, the outbox entry of its first job); a handoff
 * whose activity no longer waits (interrupted, withdrawn, stopped) is cancelled. Writes only: the
 * rows already there are left to Postgres (ON CONFLICT), so a step prepared ahead can carry them.
 */
export function createHandoffObserver(deps: {
  handoffs: HandoffRepository
  dueAt?: (spec: HandoffSpec, now: Date) => Date | null
  /** Whether a procedure version has any handoff task: an instance of one without has no handoff to write or cancel. */
  hasHandoffs?: (version: ProcedureVersionRow) => boolean
}) {
  return defineObserver({
    name: 'handoffs',
    reads: [],
    async apply(ctx) {
      const { uow, instance, dossier, result, now } = ctx
      const waiting = result.waiting.filter((w) => w.handoff)
      if (!waiting.length && deps.hasHandoffs && !deps.hasHandoffs(ctx.version)) return []
      const rows: NewHandoff[] = waiting.map((w) => ({
        id: randomUUID(),
        dossier_id: dossier.id,
        instance_id: instance.id,
        procedure_code: dossier.procedure_code,
        agency: dossier.agency,
        receiving_agency: w.handoff!.agency,
        business_key: dossier.code,
        activity_id: w.activityId,
        execution_id: w.executionId,
        topic: w.handoff!.topic,
        adapter: w.handoff!.adapter,
        priority: w.handoff!.priority,
        // What the other system gets: the process variables, and the task's own (input parameters, loop variables).
        variables: { ...result.variables, ...w.localVariables },
        retry_cycle: w.handoff!.retryCycle,
        due_at: deps.dueAt?.(w.handoff!, now) ?? null,
        created_at: now,
      }))
      uow.write(deps.handoffs.createForStep(uow.tx, rows))
      uow.write(
        deps.handoffs.cancelOthers(
          uow.tx,
          instance.id,
          waiting.map((w) => w.executionId),
          now,
        ),
      )
      return []
    },
  })
}
