import { requireRole } from '../auth/authenticate.ts'
import type { Api } from '../http/schemas.ts'
import type { CalendarService } from './calendar.service.ts'
import { getYearSchema, removeDaySchema, replaceYearSchema, setDaySchema } from './calendar.schemas.ts'

/**
 * Holidays and make-up working days per year (admins edit, everyone with a token reads): a whole
 * year's table, or one day at a time.
 */
export async function calendarRoutes(app: Api, opts: { calendar: CalendarService }) {
  app.get('/calendar/:year', { schema: getYearSchema }, async (req) => {
    return opts.calendar.year(req.params.year)
  })
  app.put('/calendar/:year', { schema: replaceYearSchema }, async (req) => {
    const p = requireRole(req, 'admin')
    const { entries, confirmMissingHolidays } = req.body
    return opts.calendar.replaceYear(req.params.year, entries, p.userId, confirmMissingHolidays)
  })
  app.put('/calendar/:year/days/:date', { schema: setDaySchema }, async (req) => {
    const p = requireRole(req, 'admin')
    const { year, date } = req.params
    const { confirmMissingHolidays, ...rest } = req.body
    return opts.calendar.setDay(year, { date, ...rest }, p.userId, confirmMissingHolidays)
  })
  app.delete('/calendar/:year/days/:date', { schema: removeDaySchema }, async (req) => {
    const p = requireRole(req, 'admin')
    const { year, date } = req.params
    const { source, confirmMissingHolidays } = req.query
    const view = await opts.calendar.removeDay(year, date, p.userId, confirmMissingHolidays)
    req.log.info({ year, date, source, by: p.userId }, 'calendar day removed')
    return view
  })
}
