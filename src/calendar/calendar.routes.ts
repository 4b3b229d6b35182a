import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { requireRole } from '../http/auth.ts'
import type { CalendarService } from './calendar.service.ts'

const YearParam = Type.Object({ year: Type.Integer({ minimum: 2000, maximum: 2100 }) })
const Entry = Type.Object({
  date: Type.String({ format: 'date' }),
  kind: Type.Union([Type.Literal('day_off'), Type.Literal('working_day')]),
  name: Type.String({ minLength: 1, maxLength: 200 }),
  source: Type.String({ minLength: 1, maxLength: 500, description: 'Văn bản pháp lý (số hiệu, ngày)' }),
  confirmed: Type.Boolean({ default: false }),
}, { additionalProperties: false })

/** Holidays and make-up working days per year (admins edit, everyone with a token reads). */
export async function calendarRoutes(app: FastifyInstance, opts: { calendar: CalendarService }) {
  app.get('/calendar/:year', { schema: { tags: ['calendar'], params: YearParam } }, async (req) => {
    return opts.calendar.year((req.params as { year: number }).year)
  })
  app.put('/calendar/:year', {
    schema: { tags: ['calendar'], summary: 'Replace a year\'s official days off and make-up working days', params: YearParam, body: Type.Object({ entries: Type.Array(Entry, { maxItems: 100 }) }, { additionalProperties: false }) },
  }, async (req) => {
    const p = requireRole(req, 'admin')
    const { entries } = req.body as { entries: any[] }
    return opts.calendar.replaceYear((req.params as { year: number }).year, entries, p.userId)
  })
}
