import { randomUUID } from 'node:crypto'
import { DossierStatus, FINAL_STATUSES } from '../records/statuses.ts'
import { canTransition } from '../records/status-transitions.ts'
import type { NewTask } from '../records/task.repository.ts'
import type { StepData } from './lock.ts'

/**
 * The standard return step (bước trả kết quả) the runtime adds when a process ends while its dossier
 * is not in a final status (docs/lifecycle.md): every dossier always has an open task, a waiting event
 * or a final status. A diagram that returns the result itself (the skeleton's MotCua_TraKetQua) ends
 * in RETURNED and never gets one.
 *
 * Its activity id holds a colon, which no BPMN element id (an XML NCName) can: it never meets a
 * diagram's own step.
 */
export const RETURN_STEP = {
  activityId: 'tthc:TraKetQua',
  executionId: 'tthc:TraKetQua',
  name: 'Trả kết quả cho công dân',
  candidateGroups: ['one-stop'],
  formKey: 'tra-ket-qua',
  actions: ['return'],
} as const

export const isReturnStep = (activityId: string) => activityId === RETURN_STEP.activityId

/** Lifecycle actions a task offers: the diagram's `tthc:actions`, or the return step's own. */
export function stepActions(userTasks: Record<string, { actions: string[] } | undefined>, activityId: string): readonly string[] {
  return userTasks[activityId]?.actions ?? (isReturnStep(activityId) ? RETURN_STEP.actions : [])
}

/**
 * The status moves that close a process which ended in `last`: to RESULT_READY (through IN_PROCESS
 * when the dossier never left receipt), unless the dossier is already final or result-ready.
 */
export function pathToResultReady(last: DossierStatus): DossierStatus[] {
  if (FINAL_STATUSES.has(last) || last === DossierStatus.RESULT_READY) return []
  if (canTransition(last, DossierStatus.RESULT_READY)) return [DossierStatus.RESULT_READY]
  return [DossierStatus.IN_PROCESS, DossierStatus.RESULT_READY]
}

/** The return task row for the one-stop unit (Bộ phận Một cửa). */
export function returnTask(ctx: Pick<StepData, 'instance' | 'dossier'>, now: Date): NewTask {
  return {
    id: randomUUID(),
    instance_id: ctx.instance.id,
    dossier_id: ctx.dossier.id,
    procedure_code: ctx.dossier.procedure_code,
    agency: ctx.dossier.agency,
    activity_id: RETURN_STEP.activityId,
    execution_id: RETURN_STEP.executionId,
    name: RETURN_STEP.name,
    candidate_groups: [...RETURN_STEP.candidateGroups],
    candidate_users: [],
    assignee: null,
    form_key: RETURN_STEP.formKey,
    due_at: null,
    follow_up_at: null,
    created_at: now,
  }
}
