/**
 * Dossier code (mã số hồ sơ, TT01/2018 Art. 19): `<unit identifier>-<YYMMDD>-<NNNN>`, the date being
 * the receipt date in Vietnam time (UTC+7) whatever the server's zone.
 */
import { vietnamDay } from '../calendar/vietnam-time.ts'

export { vietnamDay }

export function formatDossierCode(unitId: string, at: Date, sequence: number): string {
  if (!unitId) throw new Error('receiving unit has no identifier (mã định danh)')
  if (sequence > 9999) throw new Error(`daily sequence exhausted for unit ${unitId}`)
  const day = vietnamDay(at)
  return `${unitId}-${day.slice(2, 4)}${day.slice(5, 7)}${day.slice(8, 10)}-${String(sequence).padStart(4, '0')}`
}
