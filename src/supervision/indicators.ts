import type { IndicatorCounts } from './supervision.repository.ts'

const ratio = (n: number, d: number) => (d === 0 ? null : Math.round((n / d) * 10_000) / 10_000)

/** The period of receipt dates, Vietnam time, as instants; null when it is not a period (to before from). */
export function receiptPeriod(from: string, to: string): { start: Date; end: Date } | null {
  const start = new Date(`${from}T00:00:00+07:00`),
    end = new Date(`${to}T23:59:59.999+07:00`)
  return Number.isNaN(start.getTime()) || Number.isNaN(end.getTime()) || end < start ? null : { start, end }
}

/**
 * Service-quality indicators of Decision 766/QĐ-TTg computed from our own data (docs/domain.md#indicators-766).
 * Each rate comes with its numerator and denominator; a rate without data is null, not 0.
 */
export function indicatorsOf(c: IndicatorCounts, period: { from: string; to: string }, agency: string | null) {
  const { dossiers: row, evaluations: ev, procedures: pr } = c
  return {
    period,
    agency,
    received: row.received,
    onTime: { rate: ratio(row.on_time, row.finished), onTime: row.on_time, finished: row.finished }, // 2.1
    onlineDossiers: { rate: ratio(row.online, row.received), online: row.online, received: row.received }, // 3.3
    early: { rate: ratio(row.early, row.finished), early: row.early, finished: row.finished }, // trước hạn, part of 2.1
    postalDossiers: { rate: ratio(row.postal, row.received), postal: row.postal, received: row.received }, // BCCI share beside 3.3
    level4Procedures: { rate: ratio(pr.level4, pr.total), level4: pr.level4, procedures: pr.total }, // 3.1 (toàn trình)
    onlineProcedures: { rate: ratio(pr.online, pr.total), online: pr.online, procedures: pr.total },
    paidOnline: { rate: ratio(row.paid_online, row.received), paidOnline: row.paid_online, received: row.received }, // 3.6
    electronicResults: { rate: ratio(row.electronic_results, row.returned), electronic: row.electronic_results, returned: row.returned }, // 4.1
    digitised: { rate: ratio(row.digitised, row.received), digitised: row.digitised, received: row.received }, // 4.2
    satisfaction: { rate: ratio(ev.satisfied, ev.evaluated), satisfied: ev.satisfied, evaluated: ev.evaluated }, // 5.4
  }
}
