import { DossierStatus, FINAL_STATUSES } from './statuses.ts'

/**
 * The dossier state machine (docs/domain.md#status-transitions). Diagrams move a dossier between states with
 * `tthc:status`; a step that would make a move not listed here fails and changes nothing.
 * Withdrawal (rút hồ sơ) and stopping (dừng xử lý) are possible from every open state.
 */
const S = DossierStatus
const TRANSITIONS: Record<DossierStatus, readonly DossierStatus[]> = {
  SUBMITTED_ONLINE: [S.RECEIVING, S.ACCEPTED, S.SUPPLEMENT_REQUESTED, S.REFUSED_AT_RECEIPT, S.IN_PROCESS],
  RECEIVING: [S.ACCEPTED, S.SUPPLEMENT_REQUESTED, S.REFUSED_AT_RECEIPT, S.IN_PROCESS],
  ACCEPTED: [S.IN_PROCESS, S.SUPPLEMENT_REQUESTED, S.FINANCIAL_OBLIGATION, S.RESULT_READY],
  IN_PROCESS: [S.SUPPLEMENT_REQUESTED, S.FINANCIAL_OBLIGATION, S.RESULT_READY],
  // A supplement requested at receipt goes back to the receipt check; after appraisal, back to processing.
  SUPPLEMENT_REQUESTED: [S.RECEIVING, S.ACCEPTED, S.IN_PROCESS, S.REFUSED_AT_RECEIPT],
  FINANCIAL_OBLIGATION: [S.IN_PROCESS, S.RESULT_READY],
  RESULT_READY: [S.RETURNED],
  REFUSED_AT_RECEIPT: [],
  WITHDRAWN: [],
  STOPPED: [],
  RETURNED: [],
}

export function canTransition(from: DossierStatus, to: DossierStatus): boolean {
  if (from === to) return true
  if ((to === S.WITHDRAWN || to === S.STOPPED) && isOpen(from)) return true
  return TRANSITIONS[from].includes(to)
}

/** Open: not finished for the applicant (result ready still waits for the return). */
export const isOpen = (s: DossierStatus) => !FINAL_STATUSES.has(s)

/** States in which the resolving agency has finished (kết thúc xử lý): the clock no longer runs. */
export const FINISHED_PROCESSING: ReadonlySet<DossierStatus> = new Set([
  S.RESULT_READY,
  S.RETURNED,
  S.WITHDRAWN,
  S.STOPPED,
  S.REFUSED_AT_RECEIPT,
])
