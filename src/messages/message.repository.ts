import type { Queryable } from '../db/knex.ts'
import { read } from '../db/query.ts'
import type { MessageCatches } from '../engine/definition.ts'

/** A running process instance whose diagram has a catch for a message, with what the rules look at. */
export interface MessageCandidate {
  instance_id: string
  dossier_id: string
  step_id: string | null
  procedure_version_id: number
  code: string
  agency: string
  applicant_user_id: string | null
  submitted_by: string
  message_catches: MessageCatches
}

/** At most this many instances are considered for one message (a broadcast is narrowed by businessKey or keys). */
export const MAX_CANDIDATES = 500

/** The columns a candidate carries. */
const CANDIDATE_COLUMNS = [
  'pi.id as instance_id',
  'pi.dossier_id',
  'pi.step_id',
  'pi.procedure_version_id',
  'd.code',
  'd.agency',
  'd.applicant_user_id',
  'd.submitted_by',
  'v.message_catches',
]

/** Running instances whose version's `catches` column (message_catches, signal_catches) has `name`, in instance order. */
function runningCatching(q: Queryable, catches: 'message_catches' | 'signal_catches', name: string) {
  return q('process_instances as pi')
    .join('dossiers as d', 'd.id', 'pi.dossier_id')
    .join('procedure_versions as v', 'v.id', 'pi.procedure_version_id')
    .where('pi.status', 'running')
    .whereRaw(`jsonb_exists(v.${catches}, ?)`, [name])
    .orderBy('pi.id')
    .limit(MAX_CANDIDATES)
}

/** Where messages from outside (thông điệp từ bên ngoài) may go: running instances whose diagram catches them. */
export function createMessageRepository() {
  return {
    candidates: (q: Queryable, where: { messageName: string; dossierCode?: string; instanceId?: string }) => {
      const query = runningCatching(q, 'message_catches', where.messageName)
      if (where.dossierCode !== undefined) void query.where('d.code', where.dossierCode)
      if (where.instanceId !== undefined) void query.where('pi.id', where.instanceId)
      return read<MessageCandidate>(query.select(CANDIDATE_COLUMNS))
    },
    /**
     * One page (at most MAX_CANDIDATES) of running instances whose diagram catches the signal, in the
     * agency given (every agency: null), after `afterInstanceId` in instance order.
     */
    signalCandidates: (q: Queryable, where: { signalName: string; agency: string | null; afterInstanceId?: string }) => {
      const query = runningCatching(q, 'signal_catches', where.signalName)
      if (where.agency !== null) void query.where('d.agency', where.agency)
      if (where.afterInstanceId !== undefined) void query.where('pi.id', '>', where.afterInstanceId)
      return read<MessageCandidate & { signal_catches: MessageCatches }>(query.select([...CANDIDATE_COLUMNS, 'v.signal_catches']))
    },
  }
}

export type MessageRepository = ReturnType<typeof createMessageRepository>
