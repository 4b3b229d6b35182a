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

/** Where messages from outside (thông điệp từ bên ngoài) may go: running instances whose diagram catches them. */
export function createMessageRepository() {
  return {
    candidates: (q: Queryable, where: { messageName: string; dossierCode?: string; instanceId?: string }) => {
      const query = q('process_instances as pi')
        .join('dossiers as d', 'd.id', 'pi.dossier_id')
        .join('procedure_versions as v', 'v.id', 'pi.procedure_version_id')
        .where('pi.status', 'running')
        .whereRaw('jsonb_exists(v.message_catches, ?)', [where.messageName])
      if (where.dossierCode !== undefined) query.where('d.code', where.dossierCode)
      if (where.instanceId !== undefined) query.where('pi.id', where.instanceId)
      return read<MessageCandidate>(
        query
          .orderBy('pi.id')
          .limit(MAX_CANDIDATES)
          .select(
            'pi.id as instance_id',
            'pi.dossier_id',
            'pi.step_id',
            'pi.procedure_version_id',
            'd.code',
            'd.agency',
            'd.applicant_user_id',
            'd.submitted_by',
            'v.message_catches',
          ),
      )
    },
    /** Running instances whose diagram catches the signal, in the agency given (every agency: null). */
    signalCandidates: (q: Queryable, where: { signalName: string; agency: string | null }) => {
      const query = q('process_instances as pi')
        .join('dossiers as d', 'd.id', 'pi.dossier_id')
        .join('procedure_versions as v', 'v.id', 'pi.procedure_version_id')
        .where('pi.status', 'running')
        .whereRaw('jsonb_exists(v.signal_catches, ?)', [where.signalName])
      if (where.agency !== null) query.where('d.agency', where.agency)
      return read<MessageCandidate & { signal_catches: MessageCatches }>(
        query
          .orderBy('pi.id')
          .limit(MAX_CANDIDATES)
          .select(
            'pi.id as instance_id',
            'pi.dossier_id',
            'pi.step_id',
            'pi.procedure_version_id',
            'd.code',
            'd.agency',
            'd.applicant_user_id',
            'd.submitted_by',
            'v.message_catches',
            'v.signal_catches',
          ),
      )
    },
  }
}
export type MessageRepository = ReturnType<typeof createMessageRepository>
