/** Instants shown the way Vietnamese forms and messages print them, in Vietnam time (UTC+7) whatever the server's zone. */
const VN_OFFSET_MS = 7 * 3_600_000

const local = (t: Date | string) => new Date(new Date(t).getTime() + VN_OFFSET_MS)
const p2 = (n: number) => String(n).padStart(2, '0')

/** The calendar day in Vietnam of an instant, as `YYYY-MM-DD` (sortable, comparable). */
export function vietnamDay(at: Date | string): string {
  return local(at).toISOString().slice(0, 10)
}

/** `dd/mm/yyyy`; empty for no instant. */
export function vietnamDate(t: Date | string | null | undefined): string {
  if (!t) return ''
  const l = local(t)
  return `${p2(l.getUTCDate())}/${p2(l.getUTCMonth() + 1)}/${l.getUTCFullYear()}`
}

/** `HH:MM`. */
export function vietnamClock(t: Date | string): string {
  const l = local(t)
  return `${p2(l.getUTCHours())}:${p2(l.getUTCMinutes())}`
}

/** `HH:MM dd/mm/yyyy` as the forms print it; empty for no instant. */
export function vietnamDateTime(t: Date | string | null | undefined): string {
  return t ? `${vietnamClock(t)} ${vietnamDate(t)}` : ''
}
