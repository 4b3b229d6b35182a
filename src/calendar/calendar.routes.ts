import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { requireRole } from '../auth/authenticate.ts'
import type { CalendarService } from './calendar.service.ts'
import type { CalendarEntry } from './holidays.ts'

/** Printable text: no control characters but tab and line breaks, no lone UTF-16 surrogates. */
const TEXT = '^(?:[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\uD800-\\uDFFF]|[\\uD800-\\uDBFF][\\uDC00-\\uDFFF])*$'
const Text = (maxLength: number, description?: string) => Type.String({ minLength: 1, maxLength, pattern: TEXT, ...(description ? { description } : {}) })

const YearParam = Type.Object({ year: Type.Integer({ minimum: 2000, maximum: 2100 }) })
const DayParams = Type.Object({ year: Type.Integer({ minimum: 2000, maximum: 2100 }), date: Type.String({ format: 'date' }) })
const Kind = Type.Union([Type.Literal('day_off'), Type.Literal('working_day')])
const Name = Text(200)
const Source = Text(500, 'Văn bản pháp lý (số hiệu, ngày)')
const Confirm = Type.Boolean({ default: false, description: 'Chấp nhận lịch để một ngày lễ theo luật thành ngày làm việc (theo văn bản chính thức)' })
const Entry = Type.Object({
  date: Type.String({ format: 'date' }),
  kind: Kind,
  name: Name,
  source: Source,
  confirmed: Type.Boolean({ default: false }),
}, { additionalProperties: false })

/**
 * Holidays and make-up working days per year (admins edit, everyone with a token reads): a whole
 * year's table, or one day at a time.
 */
export async function calendarRoutes(app: FastifyInstance, opts: { calendar: CalendarService }) {
  app.get('/calendar/:year', { schema: { tags: ['calendar'], params: YearParam } }, async (req) => {
    return opts.calendar.year((req.params as { year: number }).year)
  })
  app.put('/calendar/:year', {
    schema: {
      tags: ['calendar'],
      summary: 'Replace a year\'s official days off and make-up working days (refused when a statutory holiday would become a working day, unless confirmMissingHolidays)',
      params: YearParam,
      body: Type.Object({ entries: Type.Array(Entry, { maxItems: 100 }), confirmMissingHolidays: Confirm }, { additionalProperties: false }),
    },
  }, async (req) => {
    const p = requireRole(req, 'admin')
    const { entries, confirmMissingHolidays } = req.body as { entries: CalendarEntry[]; confirmMissingHolidays: boolean }
    return opts.calendar.replaceYear((req.params as { year: number }).year, entries, p.userId, confirmMissingHolidays)
  })
  app.put('/calendar/:year/days/:date', {
    schema: {
      tags: ['calendar'],
      summary: 'Add or change one day (day off or make-up working day) with its legal source; the rest of the year stays',
      params: DayParams,
      body: Type.Object({ kind: Kind, name: Name, source: Source, confirmed: Type.Boolean({ default: false }), confirmMissingHolidays: Confirm }, { additionalProperties: false }),
    },
  }, async (req) => {
    const p = requireRole(req, 'admin')
    const { year, date } = req.params as { year: number; date: string }
    const { confirmMissingHolidays, ...rest } = req.body as Omit<CalendarEntry, 'date'> & { confirmMissingHolidays: boolean }
    return opts.calendar.setDay(year, { date, ...rest }, p.userId, confirmMissingHolidays)
  })
  app.delete('/calendar/:year/days/:date', {
    schema: {
      tags: ['calendar'],
      summary: 'Remove one day\'s entry, citing the legal source of the change; the day then follows the weekly rule',
      params: DayParams,
      querystring: Type.Object({ source: Source, confirmMissingHolidays: Confirm }, { additionalProperties: false }),
    },
  }, async (req) => {
    const p = requireRole(req, 'admin')
    const { year, date } = req.params as { year: number; date: string }
    const { source, confirmMissingHolidays } = req.query as { source: string; confirmMissingHolidays: boolean }
    const view = await opts.calendar.removeDay(year, date, p.userId, confirmMissingHolidays)
    req.log.info({ year, date, source, by: p.userId }, 'calendar day removed')
    return view
  })
}
