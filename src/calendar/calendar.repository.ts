import type { Queryable } from '../db/knex.ts'
import type { CalendarEntry } from './holidays.ts'

type CalendarRow = Omit<CalendarEntry, 'date'> & { date: string | Date }
const toEntry = (r: CalendarRow): CalendarEntry => ({
  date:
    typeof r.date === 'string'
      ? r.date.slice(0, 10)
      : new Date(r.date.getTime() - r.date.getTimezoneOffset() * 60000).toISOString().slice(0, 10),
  kind: r.kind,
  name: r.name,
  source: r.source,
  confirmed: r.confirmed,
})

export function createCalendarRepository() {
  return {
    async all(q: Queryable): Promise<CalendarEntry[]> {
      return (
        await q.raw(`SELECT to_char(date, 'YYYY-MM-DD') AS date, kind, name, source, confirmed FROM calendar_entries ORDER BY date`)
      ).rows.map(toEntry)
    },
    async count(q: Queryable): Promise<number> {
      return Number((await q('calendar_entries').count('* as n'))[0]!.n)
    },
    /** The official entries of one year (none: the year uses the computed defaults). */
    async year(q: Queryable, year: number): Promise<CalendarEntry[]> {
      return (
        await q.raw(
          `SELECT to_char(date, 'YYYY-MM-DD') AS date, kind, name, source, confirmed FROM calendar_entries WHERE year = ? ORDER BY date`,
          [year],
        )
      ).rows.map(toEntry)
    },
    /** Serialises changes to one year's table until the transaction ends. */
    async lockYear(q: Queryable, year: number): Promise<void> {
      await q.raw("SELECT pg_advisory_xact_lock(hashtext('calendar_entries'), ?)", [year])
    },
    async upsertDay(q: Queryable, year: number, entry: CalendarEntry, by: string, now: Date): Promise<void> {
      await q('calendar_entries')
        .insert({ ...entry, year, updated_by: by, updated_at: now })
        .onConflict('date')
        .merge()
    },
    /** Whether the day had an entry. */
    async deleteDay(q: Queryable, date: string): Promise<boolean> {
      return (await q('calendar_entries').where({ date }).del()) > 0
    },
    /** Replaces a year's official table. */
    async replaceYear(q: Queryable, year: number, entries: CalendarEntry[], by: string, now: Date): Promise<void> {
      await q('calendar_entries').where({ year }).del()
      if (entries.length) await q('calendar_entries').insert(entries.map((e) => ({ ...e, year, updated_by: by, updated_at: now })))
    },
  }
}
export type CalendarRepository = ReturnType<typeof createCalendarRepository>
