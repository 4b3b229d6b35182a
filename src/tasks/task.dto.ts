import { taskDeadlineView } from '../deadlines/outcome.ts'
import type { TaskRow } from '../records/task.repository.ts'

export function taskDto(t: TaskRow) {
  return {
    id: t.id,
    name: t.name,
    activityId: t.activity_id,
    dossierId: t.dossier_id,
    procedureCode: t.procedure_code,
    agency: t.agency,
    status: t.status,
    candidateGroups: t.candidate_groups,
    candidateUsers: t.candidate_users,
    assignee: t.assignee,
    formKey: t.form_key,
    due: t.due_at,
    followUp: t.follow_up_at ?? null,
    deadlineState: taskDeadlineView(t),
    created: t.created_at,
    claimedAt: t.claimed_at,
    completedAt: t.completed_at,
    completedBy: t.completed_by,
  }
}
