import t from 'tap'
import { manualClock } from '../src/clock.ts'
import { auth, fixture, testContext } from './helpers/context.ts'

const vn = (s: string) => new Date(`${s}+07:00`)
const local = (iso: string) => new Date(new Date(iso).getTime() + 7 * 3600_000).toISOString().slice(0, 16).replace('T', ' ')

t.test('appointment date on acceptance, working-day step due dates', async (t) => {
  const clock = manualClock(vn('2026-11-20T16:00'))
  const ctx = await testContext(t, { clock })
  await ctx.deploy(fixture('three-step-procedure.bpmn'))
  const officer = await auth(ctx, { roles: ['officer'], groups: ['one-stop', 'specialists', 'leaders'], agency: 'UBND-XA-DEMO' })
  const s = await ctx.app.inject({
    method: 'POST',
    url: '/api/dossiers',
    headers: officer,
    payload: { procedureCode: 'TEST.3STEP', applicant: { name: 'Hộ A', idNumber: '001099001234' }, channel: 1, data: {} },
  })
  t.equal(local(s.json().dossier.appointmentAt), '2026-11-25 16:00', 'Friday 16:00 + 3 working days = Wednesday 16:00')
  t.match(s.json().dossier.code, /-261120-0001$/, 'code carries the Vietnam receipt date')
  clock.set(vn('2026-11-23T09:00'))
  const c = await ctx.app.inject({
    method: 'POST',
    url: `/api/tasks/${s.json().tasks[0].id}/complete`,
    headers: officer,
    payload: { variables: { valid: true } },
  })
  t.equal(local(c.json().nextTasks[0].due), '2026-11-24 15:00', 'tthc:workingDays=1.5 (12 working hours) from Monday 09:00 → Tuesday 15:00')

  clock.set(vn('2026-11-20T17:30'))
  const late = await ctx.app.inject({
    method: 'POST',
    url: '/api/dossiers',
    headers: officer,
    payload: { procedureCode: 'TEST.3STEP', applicant: { name: 'Hộ B', idNumber: '001099001235' }, channel: 1, data: {} },
  })
  t.equal(local(late.json().dossier.appointmentAt), '2026-11-25 17:00', 'received after closing: counting starts Monday 07:00')
})

t.test('PAUSE: a 3-working-day supplement wait moves the appointment and open due dates by exactly 3 working days', async (t) => {
  const clock = manualClock(vn('2026-11-23T09:00'))
  const ctx = await testContext(t, { clock })
  await ctx.deploy(fixture('supplement.bpmn'))
  const officer = await auth(ctx, { roles: ['officer'], groups: ['one-stop'] })
  const s = await ctx.app.inject({
    method: 'POST',
    url: '/api/dossiers',
    headers: officer,
    payload: { procedureCode: 'TEST.SUPP', applicant: { name: 'A', idNumber: '001099001234' }, channel: 1, data: {} },
  })
  const before = s.json().dossier.appointmentAt
  t.equal(local(before), '2026-11-30 09:00', '5 working days from Monday 09:00')
  const c1 = await ctx.app.inject({
    method: 'POST',
    url: `/api/tasks/${s.json().tasks[0].id}/complete`,
    headers: officer,
    payload: { variables: { needSupplement: true } },
  })
  t.equal(c1.json().dossierStatus, 'SUPPLEMENT_REQUESTED')
  clock.set(vn('2026-11-26T09:00'))
  const c2 = await ctx.app.inject({
    method: 'POST',
    url: `/api/tasks/${c1.json().nextTasks[0].id}/complete`,
    headers: officer,
    payload: { variables: { needSupplement: false } },
  })
  t.equal(c2.json().dossierStatus, 'IN_PROCESS')
  const view = await ctx.app.inject({ url: `/api/dossiers/${s.json().dossier.id}`, headers: officer })
  t.equal(local(view.json().dossier.appointmentAt), '2026-12-03 09:00', 'moved by exactly 3 working days')
  t.equal(view.json().dossier.pausedAt, null)
  const resumed = view.json().history.find((h: any) => h.action === 'deadline.resumed')
  t.match(resumed.details, { policy: 'PAUSE', pausedWorkingMinutes: 3 * 480 })
})

t.test('RESTART: the full limit restarts when the complete dossier arrives', async (t) => {
  const clock = manualClock(vn('2026-11-23T09:00'))
  const ctx = await testContext(t, { clock })
  await ctx.deploy(fixture('supplement.bpmn').replace('supplementPolicy="PAUSE"', 'supplementPolicy="RESTART"'))
  const officer = await auth(ctx, { roles: ['officer'], groups: ['one-stop'] })
  const s = await ctx.app.inject({
    method: 'POST',
    url: '/api/dossiers',
    headers: officer,
    payload: { procedureCode: 'TEST.SUPP', applicant: { name: 'A', idNumber: '001099001234' }, channel: 1, data: {} },
  })
  const c1 = await ctx.app.inject({
    method: 'POST',
    url: `/api/tasks/${s.json().tasks[0].id}/complete`,
    headers: officer,
    payload: { variables: { needSupplement: true } },
  })
  clock.set(vn('2026-11-26T10:00'))
  await ctx.app.inject({
    method: 'POST',
    url: `/api/tasks/${c1.json().nextTasks[0].id}/complete`,
    headers: officer,
    payload: { variables: {} },
  })
  const view = await ctx.app.inject({ url: `/api/dossiers/${s.json().dossier.id}`, headers: officer })
  t.equal(local(view.json().dossier.appointmentAt), '2026-12-03 10:00', '5 working days again from Thursday 10:00')
})

t.test('holiday table: admins replace a year, others read; bad input is refused', async (t) => {
  const ctx = await testContext(t)
  const admin = await auth(ctx, { roles: ['admin'] })
  const officer = await auth(ctx, { roles: ['officer'] })
  const y2025 = await ctx.app.inject({ url: '/api/calendar/2025', headers: officer })
  t.ok(
    y2025.json().entries.some((e: any) => e.date === '2025-02-08' && e.kind === 'working_day'),
    'seeded make-up Saturday',
  )
  const entries = [{ date: '2027-02-05', kind: 'day_off', name: 'Tết', source: 'Thông báo số X/TB-BNV', confirmed: true }]
  t.equal((await ctx.app.inject({ method: 'PUT', url: '/api/calendar/2027', headers: officer, payload: { entries } })).statusCode, 403)
  const bad = await ctx.app.inject({
    method: 'PUT',
    url: '/api/calendar/2027',
    headers: admin,
    payload: { entries: [{ ...entries[0], date: '2028-01-01' }] },
  })
  t.equal(bad.statusCode, 400)
  const ok = await ctx.app.inject({
    method: 'PUT',
    url: '/api/calendar/2027',
    headers: admin,
    payload: { entries, confirmMissingHolidays: true },
  })
  t.equal(ok.statusCode, 200)
  t.equal(ok.json().entries.length, 1)
  t.notOk(ctx.system.calendar.current().isWorkingDay('2027-02-05'))
  t.ok(ctx.system.calendar.current().isWorkingDay('2027-02-10'), 'the official table replaces the computed defaults')
})

t.test('apology with a new appointment: at least one working day before, with a reason, only once', async (t) => {
  const clock = manualClock(vn('2026-11-23T09:00'))
  const ctx = await testContext(t, { clock })
  await ctx.deploy(fixture('supplement.bpmn'))
  const officer = await auth(ctx, { roles: ['officer'], groups: ['one-stop'] })
  const s = await ctx.app.inject({
    method: 'POST',
    url: '/api/dossiers',
    headers: officer,
    payload: { procedureCode: 'TEST.SUPP', applicant: { name: 'A', idNumber: '001099001234' }, channel: 1, data: {} },
  })
  const id = s.json().dossier.id
  const url = `/api/dossiers/${id}/extension`
  clock.set(vn('2026-11-27T10:00')) // appointment Monday 30/11 09:00: less than one working day left
  const late = await ctx.app.inject({
    method: 'POST',
    url,
    headers: officer,
    payload: { newAppointmentAt: '2026-12-04T09:00:00+07:00', reason: 'Cần xác minh thêm' },
  })
  t.equal(late.statusCode, 422)
  t.equal(late.json().error.code, 'EXTENSION_TOO_LATE')
  clock.set(vn('2026-11-26T09:00'))
  const noReason = await ctx.app.inject({
    method: 'POST',
    url,
    headers: officer,
    payload: { newAppointmentAt: '2026-12-04T09:00:00+07:00', reason: '' },
  })
  t.equal(noReason.statusCode, 400)
  const ok = await ctx.app.inject({
    method: 'POST',
    url,
    headers: officer,
    payload: { newAppointmentAt: '2026-12-04T09:00:00+07:00', reason: 'Cần xác minh thêm tại thực địa' },
  })
  t.equal(ok.statusCode, 200, ok.body)
  const again = await ctx.app.inject({
    method: 'POST',
    url,
    headers: officer,
    payload: { newAppointmentAt: '2026-12-08T09:00:00+07:00', reason: 'Lần hai' },
  })
  t.equal(again.statusCode, 409, 'a second extension is refused')
  t.equal(again.json().error.code, 'EXTENSION_ALREADY_USED')
  const view = await ctx.app.inject({ url: `/api/dossiers/${id}`, headers: officer })
  t.equal(local(view.json().dossier.appointmentAt), '2026-12-04 09:00')
  t.ok(
    view.json().history.some((h: any) => h.action === 'deadline.extended' && h.details.reason === 'Cần xác minh thêm tại thực địa'),
    'recorded with its reason',
  )
  const other = await auth(ctx, { roles: ['officer'], agency: 'SO-XAY-DUNG' })
  t.equal(
    (
      await ctx.app.inject({
        method: 'POST',
        url,
        headers: other,
        payload: { newAppointmentAt: '2026-12-09T09:00:00+07:00', reason: 'không được phép' },
      })
    ).statusCode,
    404,
    'another agency cannot act on it',
  )
})
