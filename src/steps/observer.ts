import type { UnitOfWork } from '../db/unit-of-work.ts'
import type { StepResult } from '../engine/runtime.ts'
import type { OutboxMessage } from '../outbox/outbox.repository.ts'
import type { ProcedureVersionRow } from '../procedures/procedure.repository.ts'
import type { DossierRow } from '../records/dossier.repository.ts'
import type { InstanceRow } from '../records/instance.repository.ts'
import type { DossierStatus } from '../records/statuses.ts'
import type { TaskRow } from '../records/task.repository.ts'
import type { StepData } from './lock.ts'

/** What an observer may ask of the rows `lockForStep` read (beyond the instance, the dossier and its open tasks). */
export type ObservedRead = 'pendingTimers' | 'liveAlarms'

/** What an observer gets of a step: the step's own facts, and of the rows read for it only those it declared. */
export interface ObserverContext<R extends ObservedRead> {
  /** The step's unit of work: observers add their writes; a read of the step's own writes flushes it first. */
  uow: UnitOfWork
  version: ProcedureVersionRow
  instance: InstanceRow
  /** The dossier as locked at the start of the step. */
  dossier: DossierRow
  result: StepResult
  now: Date
  /** The dossier's status before and after the step. */
  from: string
  to: DossierStatus
  /** The instance's open tasks after the step. */
  open: TaskRow[]
  /** The rows the observer declared in `reads`, as read under the step's locks. */
  read: Pick<StepData, R>
}

/**
 * A plug-in of every committed step (durable timers, deadlines), registered by the composition root:
 * the step module knows none of them. `reads` declares the rows it uses; it gets those and no others,
 * and the timer look-ahead compares exactly the declared rows before committing a prepared firing.
 */
export interface StepObserver<R extends ObservedRead = ObservedRead> {
  name: string
  reads: readonly R[]
  apply: (ctx: ObserverContext<R>) => Promise<OutboxMessage[]>
}

/** Declares an observer (infers its reads). */
export const defineObserver = <R extends ObservedRead>(o: StepObserver<R>): StepObserver<R> => o
