import { randomUUID } from 'node:crypto'
import type { UnitOfWork } from '../db/unit-of-work.ts'
import type { DossierRow } from '../records/dossier.repository.ts'
import type { CitizenNotificationRepository, PlannedRow } from './citizen-notification.repository.ts'
import type { CitizenEvent, TemplateData } from './citizen-templates.ts'

/** Retries after the first attempt, and the wait before each (then the last wait again): 1 min, 5 min, 30 min. */
export const DELIVERY_RETRIES = 3
const BACKOFF_MS = [60_000, 5 * 60_000, 30 * 60_000]

/** When the next attempt goes, after `retriesUsed` retries of this row were already spent. */
export const retryDelayMs = (retriesUsed: number) => BACKOFF_MS[Math.min(retriesUsed, BACKOFF_MS.length - 1)]!

/** The addresses a dossier's applicant gave (at submission). */
export function applicantAddresses(d: Pick<DossierRow, 'applicant'>): { email: string | null; phone: string | null; name: string } {
  const a = d.applicant ?? {}
  const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : null)
  return { email: str(a.email), phone: str(a.phone), name: str(a.name) ?? '' }
}

/**
 * Decides, inside the transaction of the event, which messages the applicant gets: one row per
 * channel the applicant can be reached on (email, SMS), one for the configured webhook, or a single
 * `no_address` row when the applicant gave neither email nor phone (visible to officers, sent to no one).
 */
export function createCitizenNotices(deps: { repo: CitizenNotificationRepository; webhookUrl: string | undefined }) {
  return {
    queue(
      uow: UnitOfWork,
      dossier: Pick<DossierRow, 'id' | 'code' | 'applicant'>,
      event: CitizenEvent,
      opts: { sequence: string | number; data: TemplateData; now: Date; appointmentFromDossier?: boolean },
    ): void {
      const { email, phone, name } = applicantAddresses(dossier)
      const rows: PlannedRow[] = []
      if (email) rows.push({ id: randomUUID(), channel: 'email', address: email, state: 'pending' })
      if (phone) rows.push({ id: randomUUID(), channel: 'sms', address: phone, state: 'pending' })
      if (!rows.length) rows.push({ id: randomUUID(), channel: 'none', address: null, state: 'no_address' })
      if (deps.webhookUrl) rows.push({ id: randomUUID(), channel: 'webhook', address: new URL(deps.webhookUrl).origin, state: 'pending' })
      uow.write(
        deps.repo.queueEvent(uow.tx, {
          dossierId: dossier.id,
          event,
          eventKey: `${dossier.id}:${event}:${opts.sequence}`,
          data: { code: dossier.code, applicantName: name, ...opts.data },
          appointmentFromDossier: opts.appointmentFromDossier ?? false,
          rows,
          retries: DELIVERY_RETRIES,
          now: opts.now,
        }),
      )
    },
  }
}
export type CitizenNotices = ReturnType<typeof createCitizenNotices>
