import { hasRole, type Principal } from '../auth/principal.ts'
import { authorize } from '../auth/policy.ts'
import type { Knex } from 'knex'
import type { Db } from '../db/knex.ts'
import { AppError } from '../errors.ts'

const ratio = (n: number, d: number) => (d === 0 ? null : Math.round((n / d) * 10_000) / 10_000)

/**
 * Service-quality indicators of Decision 766/QĐ-TTg computed from our own data (docs/domain.md#indicators-766),
 * for the caller's agency (admins: any agency or all) and a period of receipt dates (Vietnam time).
 * Each rate comes with its numerator and denominator; a rate without data is null, not 0.
 */
export async function computeIndicators(db: Db, p: Principal, q: { from: string; to: string; agency?: string }) {
  authorize('supervision.view', p, { agency: q.agency ?? p.agency })
  const agency = hasRole(p, 'admin') ? q.agency ?? null : p.agency
  const start = new Date(`${q.from}T00:00:00+07:00`), end = new Date(`${q.to}T23:59:59.999+07:00`)
  if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime()) || end < start) throw new AppError('VALIDATION_FAILED', 'Khoảng ngày không hợp lệ (from ≤ to)')
  const scope = <Q extends Knex.QueryBuilder>(qb: Q, col = 'd.agency'): Q => (agency ? (qb.where(col, agency) as Q) : qb)

  const dossiers = () => scope(db('dossiers as d').whereBetween('d.submitted_at', [start, end]))
  const [row] = await dossiers().select(
    db.raw('count(*)::int as received'),
    db.raw('count(*) filter (where d.channel = 2)::int as online'),
    // 2.1 on time: finished (result ready, returned, refused, stopped…) on or before the appointment, by date in Vietnam time; more than one supplement request counts as late.
    db.raw(`count(*) filter (where d.finished_at is not null and d.appointment_at is not null)::int as finished`),
    db.raw(`count(*) filter (where d.finished_at is not null and d.appointment_at is not null and d.supplement_count <= 1
      and (d.finished_at at time zone 'Asia/Ho_Chi_Minh')::date <= (d.appointment_at at time zone 'Asia/Ho_Chi_Minh')::date)::int as on_time`),
    db.raw(`count(*) filter (where d.status = 'RETURNED')::int as returned`),
    db.raw(`count(*) filter (where d.return_method = 'online')::int as electronic_results`),
    db.raw(`count(*) filter (where exists (select 1 from payments pm where pm.dossier_id = d.id and pm.status = 'paid'))::int as paid_online`),
    db.raw(`count(*) filter (where exists (select 1 from documents doc where doc.dossier_id = d.id and doc.kind = 'submission'))::int as digitised`),
  )
  const [ev] = await scope(db('evaluations as e').join('dossiers as d', 'd.id', 'e.dossier_id').whereBetween('d.submitted_at', [start, end]))
    .select(db.raw('count(*)::int as evaluated'), db.raw('count(*) filter (where e.satisfied)::int as satisfied'))
  const procs = await scope(db('procedures as pr').join('procedure_versions as v', function (this: Knex.JoinClause) { this.on('v.procedure_code', 'pr.code').andOn('v.version', 'pr.latest_version') }), 'pr.agency')
    .select(db.raw("count(*)::int as total"), db.raw("count(*) filter (where (v.metadata->>'level')::int = 4)::int as level4"), db.raw("count(*) filter (where (v.metadata->>'level')::int >= 3)::int as online"))
  const pr = procs[0]
  return {
    period: { from: q.from, to: q.to }, agency,
    received: row.received,
    onTime: { rate: ratio(row.on_time, row.finished), onTime: row.on_time, finished: row.finished }, // 2.1
    onlineDossiers: { rate: ratio(row.online, row.received), online: row.online, received: row.received }, // 3.3
    level4Procedures: { rate: ratio(pr.level4, pr.total), level4: pr.level4, procedures: pr.total }, // 3.1 (toàn trình)
    onlineProcedures: { rate: ratio(pr.online, pr.total), online: pr.online, procedures: pr.total },
    paidOnline: { rate: ratio(row.paid_online, row.received), paidOnline: row.paid_online, received: row.received }, // 3.6
    electronicResults: { rate: ratio(row.electronic_results, row.returned), electronic: row.electronic_results, returned: row.returned }, // 4.1
    digitised: { rate: ratio(row.digitised, row.received), digitised: row.digitised, received: row.received }, // 4.2
    satisfaction: { rate: ratio(ev.satisfied, ev.evaluated), satisfied: ev.satisfied, evaluated: ev.evaluated }, // 5.4
  }
}
