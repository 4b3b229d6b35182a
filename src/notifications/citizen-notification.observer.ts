import { defineObserver } from '../steps/observer.ts'
import { DossierStatus } from '../records/statuses.ts'
import type { CitizenNotices } from './citizen-notices.ts'

/** Reaching one of these for the first time means the dossier was accepted (tiếp nhận). */
const ACCEPTED_STATES: ReadonlySet<string> = new Set([
  DossierStatus.ACCEPTED,
  DossierStatus.IN_PROCESS,
  DossierStatus.FINANCIAL_OBLIGATION,
  DossierStatus.RESULT_READY,
  DossierStatus.RETURNED,
])

/**
 * Tells the applicant, in the step's transaction, what a status change means for them: the receipt
 * with the appointment date when the dossier is accepted, and the result when it is ready. The
 * supplement request, the apology (Mẫu 04) and the payment request carry details a status does not,
 * and are queued by the services that record them.
 */
export function createCitizenNotificationObserver(deps: { notices: CitizenNotices }) {
  return defineObserver({
    name: 'citizen-notifications',
    reads: [],
    async apply(change) {
      const { dossier: d, uow, now, version } = change
      const data = { procedureName: version.metadata.name }
      // The deadline observer (registered before this one) sets received_at at acceptance: null before means this step accepts.
      if (!d.received_at && ACCEPTED_STATES.has(change.to))
        deps.notices.queue(uow, d, 'receipt', { sequence: 1, data, now, appointmentFromDossier: true })
      if (change.to === DossierStatus.RESULT_READY && change.from !== DossierStatus.RESULT_READY) {
        const postalAddress = typeof d.applicant?.address === 'string' ? d.applicant.address : null
        deps.notices.queue(uow, d, 'result_ready', { sequence: 1, data: { ...data, channel: d.channel, postalAddress }, now })
      }
      return []
    },
  })
}
