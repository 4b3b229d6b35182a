import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { manualClock } from '../src/clock.ts'
import { SEED_ENTRIES } from '../src/calendar/holidays.ts'
import { createWorkingCalendar } from '../src/calendar/working-calendar.ts'
import { taskDeadlineView } from '../src/deadlines/outcome.ts'
import { auth, fixture, testContext, type TestContext } from './helpers/context.ts'
import { caller } from './helpers/api.ts'
import { pdfText } from './helpers/pdf-text.ts'

const vn = (s: string) => new Date(`${s}+07:00`)
const local = (iso: string | Date) => new Date(new Date(iso).getTime() + 7 * 3600_000).toISOString().slice(0, 16).replace('T', ' ')
const cal = createWorkingCalendar(new Map([[2026, SEED_ENTRIES.filter((e) => e.date.startsWith('2026'))]]))

/** Submits a dossier of the supplement fixture (TEST.SUPP) at the counter; the answer's body. */
async function submitSupplementDossier(ctx: TestContext, officer: Record<string, string>) {
  const r = await ctx.app.inject({
    method: 'POST',
    url: '/api/dossiers',
    headers: officer,
    payload: { procedureCode: 'TEST.SUPP', applicant: { name: 'A', idNumber: '001099001234' }, channel: 1, data: {} },
  })
  if (r.statusCode !== 201) throw new Error(r.body)
  return r.json()
}

t.test('a deadline ending at closing time stays there when zero working minutes are added', async (t) => {
  t.equal(local(cal.addWorkingMinutes(vn('2026-11-20T17:00'), 0)), '2026-11-20 17:00', 'Friday 17:00 + 0 = Friday 17:00, not Monday 07:00')
  t.equal(local(cal.addWorkingMinutes(vn('2026-11-24T11:30'), 0)), '2026-11-24 11:30', 'the lunch closing stays too')
  t.equal(local(cal.addWorkingMinutes(vn('2026-11-20T17:00'), 30)), '2026-11-23 07:30', 'a real pause moves it on from the next opening')
})

t.test('a supplement asked and handed in after Friday closing leaves the appointment where it was', async (t) => {
  const clock = manualClock(vn('2026-11-13T17:30'))
  const ctx = await testContext(t, { clock })
  await ctx.deploy(fixture('supplement.bpmn'))
  const officer = await auth(ctx, { roles: ['officer'], groups: ['one-stop'] })
  const s = await submitSupplementDossier(ctx, officer)
  const id = s.dossier.id
  t.equal(
    local(s.dossier.appointmentAt),
    '2026-11-20 17:00',
    'received after closing on Friday 13: 5 working days from Monday → Friday 20, 17:00',
  )
  clock.set(vn('2026-11-20T17:10'))
  const asked = await ctx.app.inject({
    method: 'POST',
    url: `/api/tasks/${s.tasks[0].id}/complete`,
    headers: officer,
    payload: { variables: { needSupplement: true } },
  })
  t.equal(asked.json().dossierStatus, 'SUPPLEMENT_REQUESTED')
  clock.set(vn('2026-11-20T17:40'))
  const handed = await ctx.app.inject({
    method: 'POST',
    url: `/api/tasks/${asked.json().nextTasks[0].id}/complete`,
    headers: officer,
    payload: { variables: { needSupplement: false } },
  })
  t.equal(handed.json().dossierStatus, 'IN_PROCESS')
  const view = await ctx.app.inject({ url: `/api/dossiers/${id}`, headers: officer })
  t.equal(local(view.json().dossier.appointmentAt), '2026-11-20 17:00', 'the appointment did not move')
  const resumed = view.json().history.find((h: any) => h.action === 'deadline.resumed')
  t.match(resumed.details, { pausedWorkingMinutes: 0 })
  t.equal(local(resumed.details.appointmentAt), '2026-11-20 17:00', 'history records the unchanged appointment')
  const m01 = await ctx.app.inject({ url: `/api/dossiers/${id}/forms/mau-01`, headers: officer })
  t.match(await pdfText(m01.rawPayload), /Thời gian trả kết quả: 17:00 20\/11\/2026/, 'Mẫu 01 prints Friday 17:00')
})

t.test('in a procedure counted in working hours, PT2H on a step is two working hours and never passes the appointment', async (t) => {
  const clock = manualClock(vn('2026-11-23T16:25'))
  const ctx = await testContext(t, { clock })
  const hours = fixture('supplement.bpmn')
    .replace('timeLimit="5" timeLimitUnit="workingDays"', 'timeLimit="4" timeLimitUnit="hours"')
    .replace('tthc:workingDays="2"', 'camunda:dueDate="PT2H"')
    .replace(
      '<bpmn:userTask id="WaitSupplement" name="Chờ bổ sung hồ sơ" camunda:candidateGroups="one-stop"',
      '<bpmn:userTask id="WaitSupplement" name="Chờ bổ sung hồ sơ" camunda:candidateGroups="one-stop" camunda:dueDate="PT30M"',
    )
  t.equal((await ctx.deploy(hours)).status, 201)
  const officer = await auth(ctx, { roles: ['officer'], groups: ['one-stop'] })
  const s = await submitSupplementDossier(ctx, officer)
  t.equal(local(s.dossier.appointmentAt), '2026-11-24 10:25', 'Monday 16:25 + 4 working hours = Tuesday 10:25')
  t.equal(local(s.tasks[0].due), '2026-11-24 08:25', 'Monday 16:25 + 2 working hours = Tuesday 08:25, not Monday 18:25')
  t.ok(new Date(s.tasks[0].due) <= new Date(s.dossier.appointmentAt), 'the step is due before the dossier')
  clock.set(vn('2026-11-24T11:15'))
  const c = (
    await ctx.app.inject({
      method: 'POST',
      url: `/api/tasks/${s.tasks[0].id}/complete`,
      headers: officer,
      payload: { variables: { needSupplement: true } },
    })
  ).json()
  t.equal(local(c.nextTasks[0].due), '2026-11-24 13:45', 'PT30M over the lunch break: 15 minutes before it, 15 after')
})

t.test('in a procedure counted in calendar days, PT2H keeps its calendar meaning', async (t) => {
  const clock = manualClock(vn('2026-11-23T16:25'))
  const ctx = await testContext(t, { clock })
  const calendarDays = fixture('supplement.bpmn')
    .replace('timeLimitUnit="workingDays"', 'timeLimitUnit="calendarDays"')
    .replace('tthc:workingDays="2"', 'camunda:dueDate="PT2H"')
  t.equal((await ctx.deploy(calendarDays)).status, 201)
  const officer = await auth(ctx, { roles: ['officer'], groups: ['one-stop'] })
  const s = await submitSupplementDossier(ctx, officer)
  t.equal(local(s.tasks[0].due), '2026-11-23 18:25')
})

t.test('a finished dossier and its finished steps show their final deadline outcome, not the last alarm', async (t) => {
  const clock = manualClock(vn('2026-11-23T09:00'))
  const ctx = await testContext(t, { clock })
  t.equal((await ctx.deploy(fs.readFileSync(path.resolve(import.meta.dirname, '../processes/s3-ho-kinh-doanh.bpmn'), 'utf8'))).status, 201)
  const officer = await caller(ctx, {
    userId: 'can-bo-1',
    roles: ['officer'],
    groups: ['one-stop', 'specialists', 'leaders'],
    agency: 'UBND-XA-DEMO',
  })
  const supervisor = await caller(ctx, { userId: 'giam-sat-1', roles: ['supervisor'], agency: 'UBND-XA-DEMO' })
  const act = async (id: string, action: string, body: unknown = {}) => {
    const r = await officer.act(id, action, body)
    t.equal(r.status, 200, `${action}: ${JSON.stringify(r.body?.error ?? '')}`)
    return r.body
  }
  const submit = async () =>
    (
      await officer.post('/api/dossiers', {
        procedureCode: '2.000575',
        applicant: { name: 'Hộ B', idNumber: '001099001234' },
        channel: 1,
        data: {},
      })
    ).body.dossier.id as string
  const view = async (id: string) => (await officer.get(`/api/dossiers/${id}`)).body

  const onTime = await submit()
  const late = await submit()
  for (const id of [onTime, late]) await act(id, 'accept')
  t.equal(local((await view(onTime)).dossier.appointmentAt), '2026-11-26 09:00', '3 working days')
  clock.set(vn('2026-11-26T08:00'))
  await ctx.system.watch.fireDue()
  t.equal((await view(onTime)).dossier.deadlineState, 'due_soon', 'due soon the day before, while it runs')
  const dueSoonList = (await supervisor.get('/api/supervision/deadlines?state=due_soon')).body.items
  t.same(dueSoonList.map((d: any) => d.id).sort(), [onTime, late].sort())

  const approveTask = (await act(onTime, 'propose')).nextTasks[0]
  await act(onTime, 'approve')
  t.equal((await act(onTime, 'return', { method: 'counter' })).dossierStatus, 'RETURNED')
  t.equal((await view(onTime)).dossier.deadlineState, 'on_time', 'returned on the appointment date: on time, no longer due soon')
  const approved = (await officer.get(`/api/tasks/${approveTask.id}`)).body
  t.match(
    approved,
    { status: 'completed', deadlineState: 'on_time' },
    'the signing step (half a working day) done on its due date: on time',
  )

  clock.set(vn('2026-11-27T10:00'))
  await ctx.system.watch.fireDue()
  t.equal((await view(late)).dossier.deadlineState, 'overdue')
  for (const s of ['propose', 'approve']) await act(late, s)
  t.equal((await view(late)).dossier.deadlineState, 'late', 'result ready a day after the appointment: late, even before it is returned')
  t.same((await supervisor.get('/api/supervision/deadlines?state=all')).body.items, [], 'finished dossiers leave the supervision list')

  const early = await submit()
  await act(early, 'accept')
  for (const s of ['propose', 'approve']) await act(early, s)
  t.equal((await view(early)).dossier.deadlineState, 'early')
})

t.test('a finished step shows its outcome in the task view', async (t) => {
  const clock = manualClock(vn('2026-11-23T09:00'))
  const ctx = await testContext(t, { clock })
  await ctx.deploy(fixture('supplement.bpmn'))
  const officer = await auth(ctx, { roles: ['officer'], groups: ['one-stop'] })
  const s = await submitSupplementDossier(ctx, officer)
  const check = s.tasks[0]
  t.equal(local(check.due), '2026-11-25 09:00', 'two working days')
  clock.set(vn('2026-11-25T08:30'))
  await ctx.system.watch.fireDue()
  t.equal((await ctx.app.inject({ url: `/api/tasks/${check.id}`, headers: officer })).json().deadlineState, 'due_soon')
  await ctx.app.inject({
    method: 'POST',
    url: `/api/tasks/${check.id}/complete`,
    headers: officer,
    payload: { variables: { needSupplement: false } },
  })
  t.equal(
    (await ctx.app.inject({ url: `/api/tasks/${check.id}`, headers: officer })).json().deadlineState,
    'on_time',
    'completed on its due date',
  )
  t.equal(
    (await ctx.app.inject({ url: `/api/dossiers/${s.dossier.id}`, headers: officer })).json().dossier.deadlineState,
    'early',
    'result ready before the appointment (Monday 30)',
  )
})

t.test('a step cancelled with its process has no outcome', async (t) => {
  t.equal(
    taskDeadlineView({
      status: 'cancelled',
      completed_at: vn('2026-11-30T09:00'),
      due_at: vn('2026-11-25T09:00'),
      deadline_state: 'overdue',
    }),
    'none',
  )
})
