import type { Knex } from 'knex'
import type { Queryable } from '../db/knex.ts'

/** Counts behind the service-quality indicators, for dossiers received in [start, end]. */
export interface IndicatorCounts {
  dossiers: {
    received: number
    online: number
    postal: number
    finished: number
    early: number
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
    /**
     * `agency: null` counts every agency. Dossier figures are sums of the daily counts (supervision_daily,
     * by Vietnam day of receipt), kept in the transaction of each change: no scan of the period's dossiers.
     */
    async indicatorCounts(q: Queryable, opts: { agency: string | null; from: string; to: string }): Promise<IndicatorCounts> {
      const scope = <T extends Knex.QueryBuilder>(qb: T, col = 'agency'): T => (opts.agency ? (qb.where(col, opts.agency) as T) : qb)
      const sum = (c: string) => q.raw(`coalesce(sum(${c}), 0)::int as ${c}`)
      const [daily] = await scope(q('supervision_daily').whereBetween('day', [opts.from, opts.to])).select(
        sum('received'),
        sum('online'),
        sum('postal'),
        // On time: finished (result ready, returned, refused, stopped…) on or before the appointment, by Vietnam date;
        // more than one supplement request counts as late (the dossier's `outcome` column, migration 013).
        sum('finished'),
        sum('early'),
        q.raw('coalesce(sum(early + on_time), 0)::int as on_time'),
        sum('returned'),
        sum('electronic_results'),
        sum('paid_online'),
        sum('digitised'),
        sum('evaluated'),
        sum('satisfied'),
      )
      const { evaluated, satisfied, ...dossiers } = daily
      const evaluations = { evaluated, satisfied }
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
