import type { Db } from '../db/knex.ts'
import type { Clock } from '../clock.ts'
import { AppError } from '../errors.ts'
import type { CalendarRepository } from './calendar.repository.ts'
import { SEED_ENTRIES, type CalendarEntry } from './holidays.ts'
import { createWorkingCalendar, type WorkingCalendar, type WorkingHours } from './working-calendar.ts'

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

  return {
    current: (): WorkingCalendar => calendar,
    reload,
    /** Seeds 2025–2026 on an empty table, then loads. */
    async init(): Promise<void> {
      if ((await deps.repo.count(deps.db)) === 0) {
        await deps.db.transaction(async (tx) => {
          for (const year of [2025, 2026]) await deps.repo.replaceYear(tx, year, SEED_ENTRIES.filter((e) => e.date.startsWith(String(year))), 'seed', deps.clock.now())
        })
      }
      await reload()
    },
    year(year: number) {
      const entries = calendar.entries(year)
      return { year, official: entries.some((e) => e.confirmed), entries }
    },
    async replaceYear(year: number, entries: CalendarEntry[], by: string) {
      const wrong = entries.find((e) => !e.date.startsWith(`${year}-`) || Number.isNaN(Date.parse(`${e.date}T00:00:00Z`)))
      if (wrong) throw new AppError('VALIDATION_FAILED', `Ngày ${wrong.date} không thuộc năm ${year}`)
      const dup = entries.find((e, i) => entries.findIndex((x) => x.date === e.date) !== i)
      if (dup) throw new AppError('VALIDATION_FAILED', `Ngày ${dup.date} xuất hiện hai lần`)
      await deps.db.transaction((tx) => deps.repo.replaceYear(tx, year, entries, by, deps.clock.now()))
      await reload()
      return this.year(year)
    },
  }
}
export type CalendarService = ReturnType<typeof createCalendarService>
