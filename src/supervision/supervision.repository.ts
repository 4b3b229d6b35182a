import type { Knex } from 'knex'
import type { Queryable } from '../db/knex.ts'

/** Counts behind the service-quality indicators, for dossiers received in [start, end]. */
export interface IndicatorCounts {
  dossiers: {
    received: number
    online: number
    finished: number
    on_time: number
    returned: number
    electronic_results: number
    paid_online: number
    digitised: number
  }
  evaluations: { evaluated: number; satisfied: number }
  procedures: { total: number; level4: number; online: number }
}

/** Supervisors' figures (giám sát): SQL only; the rules that read them are in indicators.ts. */
export function createSupervisionRepository() {
  return {
    /** `agency: null` counts every agency. */
    async indicatorCounts(q: Queryable, opts: { agency: string | null; start: Date; end: Date }): Promise<IndicatorCounts> {
      const scope = <T extends Knex.QueryBuilder>(qb: T, col = 'd.agency'): T => (opts.agency ? (qb.where(col, opts.agency) as T) : qb)
      const [dossiers] = await scope(q('dossiers as d').whereBetween('d.submitted_at', [opts.start, opts.end])).select(
        q.raw('count(*)::int as received'),
        q.raw('count(*) filter (where d.channel = 2)::int as online'),
        // On time: finished (result ready, returned, refused, stopped…) on or before the appointment, by date in Vietnam time; more than one supplement request counts as late.
        q.raw(`count(*) filter (where d.finished_at is not null and d.appointment_at is not null)::int as finished`),
        q.raw(`count(*) filter (where d.finished_at is not null and d.appointment_at is not null and d.supplement_count <= 1
          and (d.finished_at at time zone 'Asia/Ho_Chi_Minh')::date <= (d.appointment_at at time zone 'Asia/Ho_Chi_Minh')::date)::int as on_time`),
        q.raw(`count(*) filter (where d.status = 'RETURNED')::int as returned`),
        q.raw(`count(*) filter (where d.return_method = 'online')::int as electronic_results`),
        q.raw(
          `count(*) filter (where exists (select 1 from payments pm where pm.dossier_id = d.id and pm.status = 'paid'))::int as paid_online`,
        ),
        q.raw(
          `count(*) filter (where exists (select 1 from documents doc where doc.dossier_id = d.id and doc.kind = 'submission'))::int as digitised`,
        ),
      )
      const [evaluations] = await scope(
        q('evaluations as e').join('dossiers as d', 'd.id', 'e.dossier_id').whereBetween('d.submitted_at', [opts.start, opts.end]),
      ).select(q.raw('count(*)::int as evaluated'), q.raw('count(*) filter (where e.satisfied)::int as satisfied'))
      const [procedures] = await scope(
        q('procedures as pr').join('procedure_versions as v', (on) =>
          on.on('v.procedure_code', 'pr.code').andOn('v.version', 'pr.latest_version'),
        ),
        'pr.agency',
      ).select(
        q.raw('count(*)::int as total'),
        q.raw("count(*) filter (where (v.metadata->>'level')::int = 4)::int as level4"),
        q.raw("count(*) filter (where (v.metadata->>'level')::int >= 3)::int as online"),
      )
      return { dossiers, evaluations, procedures } as IndicatorCounts
    },
  }
}
export type SupervisionRepository = ReturnType<typeof createSupervisionRepository>
