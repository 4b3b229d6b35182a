import type { Queryable } from '../db/knex.ts'
import { read } from '../db/query.ts'

/** A process instance with what the rules look at (its dossier's agency and applicant). */
export interface InstanceOfDossier {
  instance_id: string
  dossier_id: string
  status: string
  agency: string
  applicant_user_id: string | null
  submitted_by: string
}

/** Reads a process instance (phiên bản quy trình) with its dossier, to check who may change its variables. */
export function createInstanceVariablesRepository() {
  return {
    find: (q: Queryable, instanceId: string) =>
      read<InstanceOfDossier>(
        q('process_instances as pi')
          .join('dossiers as d', 'd.id', 'pi.dossier_id')
          .where('pi.id', instanceId)
          .select(['pi.id as instance_id', 'pi.dossier_id', 'pi.status', 'd.agency', 'd.applicant_user_id', 'd.submitted_by']),
      ),
  }
}
export type InstanceVariablesRepository = ReturnType<typeof createInstanceVariablesRepository>
