import type { Db, Tx } from '../db/knex.ts'
import type { Clock } from '../clock.ts'
import { AppError } from '../errors.ts'
import type { CalendarRepository } from './calendar.repository.ts'
import { defaultHolidays, missingStatutoryHolidays, SEED_ENTRIES, type CalendarEntry } from './holidays.ts'
import { createWorkingCalendar, type WorkingCalendar, type WorkingHours } from './working-calendar.ts'

const inYear = (year: number, date: string) =>
  date.startsWith(`${year}-`) &&
  !Number.isNaN(Date.parse(`${date}T00:00:00Z`)) &&
  new Date(`${date}T00:00:00Z`).toISOString().startsWith(date)

function refuseMissing(year: number, entries: CalendarEntry[]): void {
  const missing = missingStatutoryHolidays(year, entries)
  if (missing.length) {
    throw new AppError(
      'CALENDAR_HOLIDAYS_MISSING',
      `Lịch năm ${year} thiếu ngày nghỉ lễ theo luật: ${missing.map((m) => `${m.date} (${m.name})`).join(', ')}. Bổ sung các ngày này, hoặc gửi confirmMissingHolidays: true nếu văn bản chính thức quy định khác`,
      { missing },
    )
  }
}

/**
 * The holiday table (lịch nghỉ lễ, ngày làm bù) admins edit per year, and the working calendar built
 * from it. Reads are synchronous from memory; a change reloads it.
 */
export function createCalendarService(deps: { db: Db; repo: CalendarRepository; clock: Clock; hours: WorkingHours }) {
  let calendar: WorkingCalendar = createWorkingCalendar(new Map(), deps.hours)

  async function reload(): Promise<void> {
    const byYear = new Map<number, CalendarEntry[]>()
    for (const e of await deps.repo.all(deps.db)) {
      const y = Number(e.date.slice(0, 4))
      byYear.set(y, [...(byYear.get(y) ?? []), e])
    }
    calendar = createWorkingCalendar(byYear, deps.hours)
  }

  /** One year's table, locked, with the computed defaults written as the table when it had none. */
  async function changeYear(year: number, by: string, change: (tx: Tx, current: CalendarEntry[]) => Promise<void>): Promise<void> {
    await deps.db.transaction(async (tx) => {
      await deps.repo.lockYear(tx, year)
      let current = await deps.repo.year(tx, year)
      if (!current.length) {
        current = defaultHolidays(year)
        await deps.repo.replaceYear(tx, year, current, by, deps.clock.now())
      }
      await change(tx, current)
    })
    await reload()
  }

  return {
    current: (): WorkingCalendar => calendar,
    reload,
    /** Seeds 2025–2026 on an empty table, then loads. */
    async init(): Promise<void> {
      if ((await deps.repo.count(deps.db)) === 0) {
        await deps.db.transaction(async (tx) => {
          for (const year of [2025, 2026])
            await deps.repo.replaceYear(
              tx,
              year,
              SEED_ENTRIES.filter((e) => e.date.startsWith(String(year))),
              'seed',
              deps.clock.now(),
            )
        })
      }
      await reload()
    },
    year(year: number) {
      const entries = calendar.entries(year)
      return { year, official: entries.some((e) => e.confirmed), entries }
    },
    /**
     * Replaces a year's official table. A table that would leave a statutory holiday as a working day
     * is refused unless `confirmMissingHolidays` (the error lists the days).
     */
    async replaceYear(year: number, entries: CalendarEntry[], by: string, confirmMissingHolidays = false) {
      const wrong = entries.find((e) => !inYear(year, e.date))
      if (wrong) throw new AppError('VALIDATION_FAILED', `Ngày ${wrong.date} không thuộc năm ${year}`)
      const dup = entries.find((e, i) => entries.findIndex((x) => x.date === e.date) !== i)
      if (dup) throw new AppError('VALIDATION_FAILED', `Ngày ${dup.date} xuất hiện hai lần`)
      if (!confirmMissingHolidays) refuseMissing(year, entries)
      await deps.db.transaction(async (tx) => {
        await deps.repo.lockYear(tx, year)
        await deps.repo.replaceYear(tx, year, entries, by, deps.clock.now())
      })
      await reload()
      return this.year(year)
    },
    /**
     * Adds or changes one day of a year's table. A year still on the computed defaults gets them as its
     * table first, so one entry never wipes the other holidays.
     */
    async setDay(year: number, entry: CalendarEntry, by: string, confirmMissingHolidays = false) {
      if (!inYear(year, entry.date)) throw new AppError('VALIDATION_FAILED', `Ngày ${entry.date} không thuộc năm ${year}`)
      await changeYear(year, by, async (tx, current) => {
        if (!confirmMissingHolidays) refuseMissing(year, [...current.filter((e) => e.date !== entry.date), entry])
        await deps.repo.upsertDay(tx, year, entry, by, deps.clock.now())
      })
      return this.year(year)
    },
    /** Removes one day's entry: the day then follows the weekly rule (Monday–Friday working). */
    async removeDay(year: number, date: string, by: string, confirmMissingHolidays = false) {
      if (!inYear(year, date)) throw new AppError('VALIDATION_FAILED', `Ngày ${date} không thuộc năm ${year}`)
      await changeYear(year, by, async (tx, current) => {
        if (!current.some((e) => e.date === date))
          throw new AppError('CALENDAR_DAY_NOT_FOUND', `Ngày ${date} không có trong lịch năm ${year}`)
        if (!confirmMissingHolidays)
          refuseMissing(
            year,
            current.filter((e) => e.date !== date),
          )
        await deps.repo.deleteDay(tx, date)
      })
      return this.year(year)
    },
  }
}
export type CalendarService = ReturnType<typeof createCalendarService>
