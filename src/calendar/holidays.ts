import { lunarToSolar } from './lunar.ts'

/** One calendar entry (ngày nghỉ / ngày làm bù), with its legal source. */
export interface CalendarEntry {
  date: string // YYYY-MM-DD, Vietnam date
  kind: 'day_off' | 'working_day'
  name: string
  source: string
  confirmed: boolean
}

const DOW = (ymd: string) => new Date(`${ymd}T00:00:00Z`).getUTCDay()
const isWeekend = (ymd: string) => DOW(ymd) === 0 || DOW(ymd) === 6
export function addDays(ymd: string, n: number): string {
  return new Date(Date.parse(`${ymd}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10)
}

const DEFAULT_SOURCE = 'Tính từ âm lịch theo Điều 112 Bộ luật Lao động 2019 (chưa có thông báo chính thức)'

/**
 * Default days off for a year without an official notice: 1/1, Tết (the last day of the lunar year
 * and the first four of the new one), Giỗ Tổ Hùng Vương (10/3 lunar), 30/4, 1/5, Quốc khánh 1–2/9;
 * a holiday falling on a weekend gives the next working day off (nghỉ bù).
 */
export function defaultHolidays(year: number): CalendarEntry[] {
  const tet = lunarToSolar(1, 1, year)
  const holidays: Array<[string, string]> = [
    [`${year}-01-01`, 'Tết Dương lịch'],
    [addDays(tet, -1), 'Tết Nguyên đán (cuối năm âm lịch)'],
    ...[0, 1, 2, 3].map((i): [string, string] => [addDays(tet, i), `Tết Nguyên đán (mùng ${i + 1})`]),
    [lunarToSolar(10, 3, year), 'Giỗ Tổ Hùng Vương (10/3 âm lịch)'],
    [`${year}-04-30`, 'Ngày Chiến thắng'],
    [`${year}-05-01`, 'Ngày Quốc tế Lao động'],
    [`${year}-09-01`, 'Quốc khánh'],
    [`${year}-09-02`, 'Quốc khánh'],
  ]
  const off = new Set(holidays.map(([d]) => d))
  const entries: CalendarEntry[] = holidays.map(([date, name]) => ({
    date,
    kind: 'day_off',
    name,
    source: DEFAULT_SOURCE,
    confirmed: false,
  }))
  for (const [date, name] of holidays) {
    if (!isWeekend(date)) continue
    let d = addDays(date, 1)
    while (isWeekend(d) || off.has(d)) d = addDays(d, 1)
    off.add(d)
    entries.push({ date: d, kind: 'day_off', name: `Nghỉ bù ${name}`, source: DEFAULT_SOURCE, confirmed: false })
  }
  return entries.sort((a, b) => a.date.localeCompare(b.date))
}

/**
 * The public holidays the Labour Code fixes for every year, one day each (the official notice may add
 * adjacent days): 1/1, the lunar new year's day, Giỗ Tổ Hùng Vương, 30/4, 1/5 and 2/9.
 */
export function statutoryHolidays(year: number): Array<{ date: string; name: string }> {
  return [
    { date: `${year}-01-01`, name: 'Tết Dương lịch' },
    { date: lunarToSolar(1, 1, year), name: 'Tết Nguyên đán (mùng 1)' },
    { date: lunarToSolar(10, 3, year), name: 'Giỗ Tổ Hùng Vương (10/3 âm lịch)' },
    { date: `${year}-04-30`, name: 'Ngày Chiến thắng' },
    { date: `${year}-05-01`, name: 'Ngày Quốc tế Lao động' },
    { date: `${year}-09-02`, name: 'Quốc khánh' },
  ]
}

/**
 * Statutory holidays a year's table would turn into working days: not listed as a day off, or listed
 * as a working day. One falling on a weekend and not listed is off anyway. An empty table uses the
 * computed defaults, so misses nothing.
 */
export function missingStatutoryHolidays(year: number, entries: CalendarEntry[]): Array<{ date: string; name: string }> {
  if (!entries.length) return []
  const kind = new Map(entries.map((e) => [e.date, e.kind]))
  return statutoryHolidays(year).filter((h) => kind.get(h.date) === 'working_day' || (!kind.has(h.date) && !isWeekend(h.date)))
}

const NOTICE_2025 =
  'Thông báo 6150/TB-BLĐTBXH ngày 8/11/2024 (Tết 2025) và Thông báo 6151/TB-BLĐTBXH (30/4, 1/5, 2/9), theo báo chí — đối chiếu văn bản gốc trước khi dùng thật'

/** Seed data: 2025 from the official notices as reported; 2026 lunar days computed, to confirm. */
export const SEED_ENTRIES: CalendarEntry[] = [
  { date: '2025-01-01', kind: 'day_off', name: 'Tết Dương lịch', source: NOTICE_2025, confirmed: true },
  ...['2025-01-27', '2025-01-28', '2025-01-29', '2025-01-30', '2025-01-31'].map((date) => ({
    date,
    kind: 'day_off' as const,
    name: 'Tết Nguyên đán Ất Tỵ',
    source: NOTICE_2025,
    confirmed: true,
  })),
  { date: '2025-02-08', kind: 'working_day', name: 'Làm bù cho thứ Hai 27/01/2025', source: NOTICE_2025, confirmed: true },
  { date: '2025-04-07', kind: 'day_off', name: 'Giỗ Tổ Hùng Vương', source: NOTICE_2025, confirmed: true },
  { date: '2025-04-30', kind: 'day_off', name: 'Ngày Chiến thắng', source: NOTICE_2025, confirmed: true },
  { date: '2025-05-01', kind: 'day_off', name: 'Ngày Quốc tế Lao động', source: NOTICE_2025, confirmed: true },
  { date: '2025-05-02', kind: 'day_off', name: 'Nghỉ hoán đổi (làm bù thứ Bảy 26/4/2025)', source: NOTICE_2025, confirmed: true },
  { date: '2025-04-26', kind: 'working_day', name: 'Làm bù cho thứ Sáu 02/5/2025', source: NOTICE_2025, confirmed: true },
  { date: '2025-09-01', kind: 'day_off', name: 'Quốc khánh', source: NOTICE_2025, confirmed: true },
  { date: '2025-09-02', kind: 'day_off', name: 'Quốc khánh', source: NOTICE_2025, confirmed: true },
  ...defaultHolidays(2026),
]
