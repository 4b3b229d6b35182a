import t from 'tap'
import { auth, testContext } from './helpers/context.ts'

const TET_EVE = { date: '2027-02-05', kind: 'day_off', name: 'Tết Nguyên đán', source: 'Thông báo số X/TB-BNV', confirmed: true }

t.test('a year table without the statutory holidays is refused unless confirmed; nothing changes', async (t) => {
  const ctx = await testContext(t)
  const admin = await auth(ctx, { roles: ['admin'] })
  const put = (payload: unknown) => ctx.app.inject({ method: 'PUT', url: '/api/calendar/2027', headers: admin, payload: payload as any })
  const careless = await put({ entries: [TET_EVE] })
  t.equal(careless.statusCode, 422)
  t.equal(careless.json().error.code, 'CALENDAR_HOLIDAYS_MISSING')
  t.same(
    careless.json().error.details.missing.map((m: any) => m.date),
    ['2027-01-01', '2027-04-16', '2027-04-30', '2027-09-02'],
    'each statutory day that would be worked is named (1/5 is a Saturday, Tết a weekend)',
  )
  t.notOk(ctx.system.calendar.current().isWorkingDay('2027-01-01'), '1 January is still a day off')
  t.equal(
    (await ctx.app.inject({ url: '/api/calendar/2027', headers: admin })).json().entries.length,
    14,
    'the computed defaults still apply',
  )

  const full = ['2027-01-01', '2027-04-16', '2027-04-30', '2027-09-02'].map((date) => ({ ...TET_EVE, date, name: 'Ngày lễ' }))
  t.equal((await put({ entries: [TET_EVE, ...full] })).statusCode, 200, 'a table with every statutory day is taken')
  t.equal(
    (await put({ entries: [{ ...TET_EVE, date: '2027-01-01', kind: 'working_day' }, ...full.slice(1)] })).json().error.code,
    'CALENDAR_HOLIDAYS_MISSING',
    'a statutory day listed as a working day is refused too',
  )
  const confirmed = await put({ entries: [TET_EVE], confirmMissingHolidays: true })
  t.equal(confirmed.statusCode, 200, 'an explicit confirmation takes the table as it is')
  t.ok(ctx.system.calendar.current().isWorkingDay('2027-01-01'))
})

t.test('one day at a time: the rest of the year stays, statutory days are guarded', async (t) => {
  const ctx = await testContext(t)
  const admin = await auth(ctx, { roles: ['admin'] })
  const officer = await auth(ctx, { roles: ['officer'] })
  const cal = () => ctx.system.calendar.current()
  const day = (method: 'PUT' | 'DELETE', url: string, payload?: unknown, headers = admin) =>
    ctx.app.inject({ method, url: `/api/calendar/2027/days/${url}`, headers, ...(payload ? { payload: payload as any } : {}) })

  const makeUp = {
    kind: 'working_day',
    name: 'Làm bù cho thứ Sáu 05/02/2027',
    source: 'Thông báo số Y/TB-BNV ngày 1/11/2026',
    confirmed: true,
  }
  t.equal((await day('PUT', '2027-02-20', makeUp, officer)).statusCode, 403, 'admins only')
  const added = await day('PUT', '2027-02-20', makeUp)
  t.equal(added.statusCode, 200)
  t.ok(cal().isWorkingDay('2027-02-20'), 'the make-up Saturday counts')
  t.notOk(cal().isWorkingDay('2027-01-01'), 'the computed holidays of the year are kept')
  t.equal(added.json().entries.length, 15, 'defaults plus the new day')

  t.equal(
    (await day('PUT', '2027-01-01', { ...makeUp, name: 'Làm việc' })).json().error.code,
    'CALENDAR_HOLIDAYS_MISSING',
    'turning 1 January into a working day needs a confirmation',
  )
  t.equal(
    (await day('DELETE', '2027-09-02?source=Th%C3%B4ng%20b%C3%A1o%20Z')).json().error.code,
    'CALENDAR_HOLIDAYS_MISSING',
    'so does removing National Day',
  )
  t.notOk(cal().isWorkingDay('2027-09-02'))

  const removed = await day('DELETE', '2027-02-11?source=Th%C3%B4ng%20b%C3%A1o%20Z')
  t.equal(removed.statusCode, 200, 'a non-statutory day off can be removed')
  t.ok(cal().isWorkingDay('2027-02-11'))
  t.equal((await day('DELETE', '2027-02-11?source=Th%C3%B4ng%20b%C3%A1o%20Z')).statusCode, 404, 'a day without an entry')
  t.equal((await day('DELETE', '2027-02-11')).statusCode, 400, 'a removal cites its legal source')
  t.equal((await day('DELETE', '2027-09-02?source=Th%C3%B4ng%20b%C3%A1o%20Z&confirmMissingHolidays=true')).statusCode, 200, 'confirmed')
  t.ok(cal().isWorkingDay('2027-09-02'))
})

t.test('calendar input is validated: dates within the year, real dates, text limits, no control characters', async (t) => {
  const ctx = await testContext(t)
  const admin = await auth(ctx, { roles: ['admin'] })
  const entry = { kind: 'day_off', name: 'Nghỉ', source: 'Thông báo' }
  const cases: Array<[string, 'PUT' | 'DELETE', string, unknown]> = [
    ['a date of another year', 'PUT', '/api/calendar/2027/days/2028-01-03', entry],
    ['an impossible date', 'PUT', '/api/calendar/2027/days/2027-02-30', entry],
    ['a year out of range', 'PUT', '/api/calendar/1999/days/1999-01-04', entry],
    ['a NUL in the name', 'PUT', '/api/calendar/2027/days/2027-03-08', { ...entry, name: 'Ng\u0000hỉ' }],
    ['a lone surrogate in the source', 'PUT', '/api/calendar/2027/days/2027-03-08', { ...entry, source: 'Th\uD800ông báo' }],
    ['a name too long', 'PUT', '/api/calendar/2027/days/2027-03-08', { ...entry, name: 'x'.repeat(201) }],
    ['an empty source', 'PUT', '/api/calendar/2027/days/2027-03-08', { ...entry, source: '' }],
    ['an unknown kind', 'PUT', '/api/calendar/2027/days/2027-03-08', { ...entry, kind: 'holiday' }],
    ['an unknown field', 'PUT', '/api/calendar/2027/days/2027-03-08', { ...entry, year: 2027 }],
    ['a NUL in a removal source', 'DELETE', '/api/calendar/2027/days/2027-01-01?source=%00', undefined],
    ['a date of another year in a table', 'PUT', '/api/calendar/2027', { entries: [{ ...entry, date: '2028-01-01' }] }],
    ['a NUL in a table', 'PUT', '/api/calendar/2027', { entries: [{ ...entry, date: '2027-03-08', name: '\u0000' }] }],
  ]
  for (const [what, method, url, payload] of cases) {
    const r = await ctx.app.inject({ method, url, headers: admin, ...(payload === undefined ? {} : { payload: payload as any }) })
    t.equal(r.statusCode, 400, what)
    t.equal(r.json().error?.code, 'VALIDATION_FAILED', `${what}: coded`)
  }
  t.equal((await ctx.app.inject({ url: '/api/calendar/2027', headers: admin })).json().entries.length, 14, 'nothing changed')
  t.notOk(ctx.system.calendar.current().isWorkingDay('2027-01-01'))
})
