import t from 'tap'
import { defaultHolidays, SEED_ENTRIES, type CalendarEntry } from '../src/calendar/holidays.ts'
import { lunarToSolar } from '../src/calendar/lunar.ts'
import { createWorkingCalendar, parseWorkingHours } from '../src/calendar/working-calendar.ts'

const byYear = (entries: CalendarEntry[]) => {
  const m = new Map<number, CalendarEntry[]>()
  for (const e of entries) {
    const y = Number(e.date.slice(0, 4))
    m.set(y, [...(m.get(y) ?? []), e])
  }
  return m
}
const cal = createWorkingCalendar(byYear(SEED_ENTRIES))
const vn = (s: string) => new Date(`${s}+07:00`)
const iso = (d: Date) => new Date(d.getTime() + 7 * 3600_000).toISOString().slice(0, 16).replace('T', ' ')

t.test('received Friday 16:00 with 1 working day → due Monday 16:00', async (t) => {
  t.equal(iso(cal.addWorkingDays(vn('2026-11-20T16:00'), 1)), '2026-11-23 16:00')
})

t.test('received after closing (17:30) → counting starts at the next opening', async (t) => {
  t.equal(iso(cal.nextOpening(vn('2026-11-20T17:30'))), '2026-11-23 07:00')
  t.equal(iso(cal.addWorkingDays(vn('2026-11-20T17:30'), 1)), '2026-11-23 17:00', 'one full working day from Monday 07:00')
  t.equal(iso(cal.nextOpening(vn('2026-11-23T12:00'))), '2026-11-23 13:30', 'lunch break → afternoon opening')
  t.notOk(cal.isWorkingTime(vn('2026-11-23T12:00')))
  t.ok(cal.isWorkingTime(vn('2026-11-23T07:00')))
})

t.test('5 working days across Tết 2025 skip every Tết day off', async (t) => {
  const due = cal.addWorkingDays(vn('2025-01-24T10:00'), 5)
  t.equal(iso(due), '2025-02-07 10:00')
  for (const d of ['2025-01-27', '2025-01-28', '2025-01-29', '2025-01-30', '2025-01-31'])
    t.notOk(cal.isWorkingDay(d), `${d} is a Tết day off`)
  t.equal(cal.workingMinutesBetween(vn('2025-01-24T10:00'), due), 5 * 480, 'exactly 5 × 8 working hours in between')
})

t.test('a make-up Saturday counts as a working day', async (t) => {
  t.ok(cal.isWorkingDay('2025-02-08'))
  t.equal(iso(cal.addWorkingDays(vn('2025-02-07T10:00'), 1)), '2025-02-08 10:00')
  t.ok(cal.isWorkingDay('2025-04-26'), 'Saturday 26/4/2025 works for Friday 2/5')
  t.notOk(cal.isWorkingDay('2025-05-02'))
})

t.test('a calendar-day limit ending on a Sunday rolls to Monday', async (t) => {
  t.equal(iso(cal.addCalendarDays(vn('2026-11-19T09:00'), 3)), '2026-11-23 09:00')
  t.equal(iso(cal.addCalendarDays(vn('2026-11-19T09:00'), 1)), '2026-11-20 09:00', 'a working day stays')
})

t.test('half-day units and hours', async (t) => {
  t.equal(iso(cal.addWorkingDays(vn('2026-11-23T07:00'), 0.5)), '2026-11-23 11:00')
  t.equal(iso(cal.addWorkingHours(vn('2026-11-23T11:00'), 1)), '2026-11-23 14:00', 'the lunch break does not count')
  t.equal(cal.minutesPerDay, 480)
})

t.test('a 3-working-day pause moves the appointment by exactly 3 working days', async (t) => {
  const appointment = vn('2026-11-27T16:00')
  const paused = cal.workingMinutesBetween(vn('2026-11-23T09:00'), vn('2026-11-26T09:00'))
  t.equal(paused, 3 * 480)
  t.equal(iso(cal.addWorkingMinutes(appointment, paused)), iso(cal.addWorkingDays(appointment, 3)))
  t.equal(iso(cal.addWorkingMinutes(appointment, paused)), '2026-12-02 16:00')
})

t.test('lunar defaults: Tết, Hùng Kings day and weekend compensation', async (t) => {
  t.equal(lunarToSolar(1, 1, 2026), '2026-02-17', 'lunar new year 2026')
  t.equal(lunarToSolar(10, 3, 2026), '2026-04-26', 'Hùng Kings day 2026')
  t.equal(lunarToSolar(1, 1, 2025), '2025-01-29')
  t.equal(lunarToSolar(10, 3, 2025), '2025-04-07')
  t.notOk(cal.isWorkingDay('2026-04-27'), 'Hùng Kings day on Sunday 26/4/2026 gives Monday 27/4 off')
  const y2027 = defaultHolidays(2027)
    .filter((e) => e.kind === 'day_off')
    .map((e) => e.date)
  t.same(
    y2027.filter((d) => d.startsWith('2027-02')),
    ['2027-02-05', '2027-02-06', '2027-02-07', '2027-02-08', '2027-02-09', '2027-02-10', '2027-02-11'],
    'Tết 2027 (6/2 on Saturday) with two days in compensation',
  )
  t.ok(
    defaultHolidays(2027).every((e) => !e.confirmed && e.source.length > 0),
    'defaults are marked unconfirmed with their source',
  )
})

t.test('results do not depend on the server time zone', async (t) => {
  const before = process.env.TZ
  process.env.TZ = 'America/Los_Angeles'
  t.teardown(() => {
    process.env.TZ = before
  })
  t.equal(iso(cal.addWorkingDays(vn('2026-11-20T16:00'), 1)), '2026-11-23 16:00')
  t.equal(iso(cal.nextOpening(vn('2026-11-20T23:30'))), '2026-11-23 07:00')
})

t.test('configurable working hours', async (t) => {
  const c = createWorkingCalendar(new Map(), parseWorkingHours('08:00-12:00,13:00-17:00'))
  t.equal(iso(c.addWorkingDays(vn('2026-11-23T08:00'), 1)), '2026-11-23 17:00')
  t.throws(() => parseWorkingHours('12:00-08:00'))
})

t.test('due-soon instants: working time counted backwards', async (t) => {
  t.equal(iso(cal.subtractWorkingMinutes(vn('2026-11-23T16:00'), 480)), '2026-11-20 16:00', 'Monday 16:00 − 1 working day = Friday 16:00')
  t.equal(iso(cal.subtractWorkingMinutes(vn('2026-11-23T07:30'), 60)), '2026-11-20 16:30', 'over the weekend')
  t.equal(
    iso(cal.subtractWorkingMinutes(vn('2026-12-10T17:00'), 480)),
    '2026-12-09 17:00',
    "a closing-time deadline warns at the previous closing, not at the same morning's opening",
  )
  t.equal(iso(cal.subtractWorkingMinutes(vn('2026-11-24T14:00'), 60)), '2026-11-24 11:00', 'over the lunch break')
  t.equal(iso(cal.subtractWorkingMinutes(vn('2025-02-03T10:00'), 480)), '2025-01-24 10:00', 'back across Tết 2025 (27/1–2/2 off)')
  t.equal(iso(cal.subtractWorkingMinutes(vn('2026-11-22T10:00'), 0)), '2026-11-22 10:00', 'zero is the instant itself')
  // Inverse of workingMinutesBetween for arbitrary instants and durations.
  let seed = 7
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
  const wrong: string[] = []
  for (let i = 0; i < 500; i++) {
    const at = new Date(vn('2025-01-01T00:00').getTime() + Math.floor(rnd() * 700 * 86400) * 1000)
    const minutes = Math.floor(rnd() * 5000) + 1
    const back = cal.subtractWorkingMinutes(at, minutes)
    if (Math.round(cal.workingMinutesBetween(back, at)) !== minutes) wrong.push(`${iso(at)} − ${minutes} → ${iso(back)}`)
  }
  t.same(wrong, [], '500 random instants: exactly the working minutes asked for lie between')
})
