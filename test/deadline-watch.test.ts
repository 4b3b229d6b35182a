import t from 'tap'
import { pino } from 'pino'
import { manualClock } from '../src/clock.ts'
import { createOutboxRelay } from '../src/outbox/relay.ts'
import { createQueues, QUEUE, redisConnection } from '../src/outbox/queues.ts'
import { startTimerWorker } from '../src/workers/timer.worker.ts'
import { auth, fixture, testContext, testUrls, type TestContext } from './helpers/context.ts'
import { pollUntil } from './helpers/poll.ts'

const vn = (s: string) => new Date(`${s}+07:00`)
const local = (iso: string | Date) => new Date(new Date(iso).getTime() + 7 * 3600_000).toISOString().slice(0, 16).replace('T', ' ')

const S3 = { procedureCode: 'TEST.3STEP', applicant: { name: 'Hộ A', idNumber: '001099001234' }, channel: 1, data: {} }
const dossierAlarms = (ctx: TestContext, dossierId: string, status: string) =>
  ctx.db('deadline_alarms').where({ dossier_id: dossierId, status }).whereNull('task_id').orderBy('fire_at')
const dossierEvents = async (ctx: TestContext, dossierId: string) =>
  (
    await ctx
      .db('history')
      .where({ dossier_id: dossierId })
      .whereIn('action', ['deadline.due_soon', 'deadline.overdue'])
      .whereNull('task_id')
      .orderBy('id')
  ).map((h) => `${h.action}@${local(h.at)}`)

t.test('a dossier turns due-soon one working day before its appointment and overdue at the exact instant', async (t) => {
  const clock = manualClock(vn('2026-11-20T16:00'))
  const ctx = await testContext(t, { clock })
  await ctx.deploy(fixture('three-step-procedure.bpmn'))
  const officer = await auth(ctx, { roles: ['officer'], groups: ['one-stop', 'specialists', 'leaders'], agency: 'UBND-XA-DEMO' })
  const supervisor = await auth(ctx, { roles: ['supervisor'], agency: 'UBND-XA-DEMO' })
  const otherSupervisor = await auth(ctx, { roles: ['supervisor'], agency: 'UBND-XA-KHAC' })
  const s = (await ctx.app.inject({ method: 'POST', url: '/api/dossiers', headers: officer, payload: S3 })).json()
  const id = s.dossier.id
  t.equal(local(s.dossier.appointmentAt), '2026-11-25 16:00')
  t.equal(s.dossier.deadlineState, 'on_track')
  t.same(
    (await dossierAlarms(ctx, id, 'pending')).map((a) => [a.kind, local(a.fire_at)]),
    [
      ['due_soon', '2026-11-24 16:00'],
      ['overdue', '2026-11-25 16:00'],
    ],
    'two alarms: one working day before, and at the deadline',
  )

  clock.set(new Date(vn('2026-11-24T16:00').getTime() - 1))
  await ctx.system.watch.fireDue()
  t.same(await dossierEvents(ctx, id), [], 'nothing a millisecond early')
  clock.set(vn('2026-11-24T16:00'))
  await ctx.system.watch.fireDue()
  await ctx.system.watch.fireDue()
  t.same(await dossierEvents(ctx, id), ['deadline.due_soon@2026-11-24 16:00'], 'due soon, once')
  t.equal((await ctx.app.inject({ url: `/api/dossiers/${id}`, headers: officer })).json().dossier.deadlineState, 'due_soon')
  const soon = await ctx.app.inject({ url: '/api/supervision/deadlines?state=due_soon', headers: supervisor })
  t.same(
    soon.json().items.map((d: any) => [d.code, d.workingMinutesLeft]),
    [[s.dossier.code, 480]],
    'supervisor sees it due soon with one working day left',
  )

  clock.set(vn('2026-11-25T16:00'))
  await ctx.system.watch.fireDue()
  t.same(await dossierEvents(ctx, id), ['deadline.due_soon@2026-11-24 16:00', 'deadline.overdue@2026-11-25 16:00'])
  clock.set(vn('2026-11-26T09:00'))
  const overdue = await ctx.app.inject({ url: '/api/supervision/deadlines', headers: supervisor })
  t.equal(overdue.statusCode, 200)
  t.same(
    overdue.json().items.map((d: any) => [d.code, d.deadlineState, d.workingMinutesLeft]),
    [[s.dossier.code, 'overdue', -180]],
    'overdue by 3 working hours (16:00–17:00, then 07:00–09:00)',
  )
  t.equal(overdue.json().items[0].openTasks[0].name, 'Tiếp nhận và kiểm tra hồ sơ')
  t.same(
    (await ctx.app.inject({ url: '/api/supervision/deadlines', headers: otherSupervisor })).json().items,
    [],
    'another agency sees none of it',
  )
  t.equal(
    (await ctx.app.inject({ url: '/api/supervision/deadlines', headers: officer })).statusCode,
    403,
    'officers have no supervision view',
  )
  t.equal(
    (await ctx.app.inject({ url: '/api/supervision/deadlines?state=late', headers: supervisor })).json().error.code,
    'VALIDATION_FAILED',
  )
  t.equal(
    (await ctx.app.inject({ url: '/api/supervision/deadlines?cursor=nope', headers: supervisor })).json().error.code,
    'CURSOR_INVALID',
  )

  // Finishing the dossier ends the watch: pending task alarms are cancelled.
  let tasks = s.tasks
  for (const vars of [{ valid: true }, { approved: true }, {}])
    tasks = (
      await ctx.app.inject({ method: 'POST', url: `/api/tasks/${tasks[0].id}/complete`, headers: officer, payload: { variables: vars } })
    ).json().nextTasks
  t.equal((await ctx.app.inject({ url: `/api/dossiers/${id}`, headers: officer })).json().dossier.status, 'RESULT_READY')
  t.equal(
    (await ctx.db('deadline_alarms').where({ dossier_id: id, status: 'pending' })).length,
    0,
    'no pending alarm once the result is ready',
  )
  t.same((await ctx.app.inject({ url: '/api/supervision/deadlines', headers: supervisor })).json().items, [], 'no longer listed')
})

t.test("task alarms follow each task's due date; a task completed in time never turns overdue", async (t) => {
  const clock = manualClock(vn('2026-11-23T09:00'))
  const ctx = await testContext(t, { clock })
  await ctx.deploy(fixture('three-step-procedure.bpmn'))
  const officer = await auth(ctx, { roles: ['officer'], groups: ['one-stop', 'specialists', 'leaders'], agency: 'UBND-XA-DEMO' })
  const s = (await ctx.app.inject({ method: 'POST', url: '/api/dossiers', headers: officer, payload: S3 })).json()
  const appraise = (
    await ctx.app.inject({
      method: 'POST',
      url: `/api/tasks/${s.tasks[0].id}/complete`,
      headers: officer,
      payload: { variables: { valid: true } },
    })
  ).json().nextTasks[0]
  t.equal(local(appraise.due), '2026-11-24 15:00', 'Appraise: 1.5 working days')
  const alarms = await ctx.db('deadline_alarms').where({ task_id: appraise.id, status: 'pending' }).orderBy('fire_at')
  t.same(
    alarms.map((a) => [a.kind, local(a.fire_at)]),
    [
      ['due_soon', '2026-11-23 15:00'],
      ['overdue', '2026-11-24 15:00'],
    ],
  )
  clock.set(vn('2026-11-23T15:00'))
  await ctx.system.watch.fireDue()
  const view = await ctx.app.inject({ url: `/api/tasks/${appraise.id}`, headers: officer })
  t.equal(view.json().deadlineState, 'due_soon')
  const done = await ctx.app.inject({
    method: 'POST',
    url: `/api/tasks/${appraise.id}/complete`,
    headers: officer,
    payload: { variables: { approved: true } },
  })
  t.equal(done.statusCode, 200)
  t.same(
    (await ctx.db('deadline_alarms').where({ task_id: appraise.id })).map((a) => `${a.kind}:${a.status}`).sort(),
    ['due_soon:fired', 'overdue:cancelled'],
    'completing the task cancels its overdue alarm',
  )
  clock.set(vn('2026-11-25T09:00'))
  await ctx.system.watch.fireDue()
  t.equal((await ctx.db('history').where({ task_id: appraise.id, action: 'deadline.overdue' })).length, 0)
})

t.test('moving a deadline moves its alarms: supplement pause and the apology with a new appointment', async (t) => {
  const clock = manualClock(vn('2026-11-23T09:00'))
  const ctx = await testContext(t, { clock })
  await ctx.deploy(fixture('supplement.bpmn'))
  const officer = await auth(ctx, { roles: ['officer'], groups: ['one-stop'] })
  const s = (
    await ctx.app.inject({
      method: 'POST',
      url: '/api/dossiers',
      headers: officer,
      payload: { procedureCode: 'TEST.SUPP', applicant: { name: 'A', idNumber: '001099001234' }, channel: 1, data: {} },
    })
  ).json()
  const id = s.dossier.id
  t.same(
    (await dossierAlarms(ctx, id, 'pending')).map((a) => local(a.deadline_at)),
    ['2026-11-30 09:00', '2026-11-30 09:00'],
  )
  const c1 = (
    await ctx.app.inject({
      method: 'POST',
      url: `/api/tasks/${s.tasks[0].id}/complete`,
      headers: officer,
      payload: { variables: { needSupplement: true } },
    })
  ).json()
  t.equal(c1.dossierStatus, 'SUPPLEMENT_REQUESTED')
  t.equal(
    (await ctx.db('deadline_alarms').where({ dossier_id: id, status: 'pending' })).length,
    0,
    'the clock is stopped: nothing can fire while the applicant has the ball',
  )
  clock.set(vn('2026-11-30T10:00'))
  t.equal(await ctx.system.watch.fireDue(), 0, 'the old deadline passes without an alarm')
  await ctx.app.inject({
    method: 'POST',
    url: `/api/tasks/${c1.nextTasks[0].id}/complete`,
    headers: officer,
    payload: { variables: { needSupplement: false } },
  })
  const moved = await dossierAlarms(ctx, id, 'pending')
  t.same(
    moved.map((a) => [a.kind, local(a.fire_at)]),
    [
      ['due_soon', '2026-12-04 10:00'],
      ['overdue', '2026-12-07 10:00'],
    ],
    'new alarms at the appointment moved by the 5 working days and 1 hour waited',
  )

  // Apology with a new appointment (Mẫu 04) on 2026-12-03: the alarms move again.
  clock.set(vn('2026-12-03T09:00'))
  const ext = await ctx.app.inject({
    method: 'POST',
    url: `/api/dossiers/${id}/extension`,
    headers: officer,
    payload: { newAppointmentAt: vn('2026-12-10T17:00').toISOString(), reason: 'Cần xác minh thực địa' },
  })
  t.equal(ext.statusCode, 200)
  t.same(
    (await dossierAlarms(ctx, id, 'pending')).map((a) => [a.kind, local(a.fire_at)]),
    [
      ['due_soon', '2026-12-09 17:00'],
      ['overdue', '2026-12-10 17:00'],
    ],
  )
  clock.set(vn('2026-12-07T09:00'))
  await ctx.system.watch.fireDue()
  t.same(await dossierEvents(ctx, id), [], 'the superseded alarms never fire')
  clock.set(vn('2026-12-10T17:00'))
  await ctx.system.watch.fireDue()
  t.same(await dossierEvents(ctx, id), ['deadline.due_soon@2026-12-10 17:00', 'deadline.overdue@2026-12-10 17:00'])
  t.equal(
    (await ctx.app.inject({ url: `/api/dossiers/${id}`, headers: officer })).json().dossier.deadlineState,
    'overdue',
    'overdue wins over due soon whatever the firing order',
  )
})

t.test('deadline alarms run as BullMQ delayed jobs and become notifications for the right people', async (t) => {
  // BullMQ delays run on the real clock: the injected clock starts a day ahead so only it decides what is due.
  const t0 = new Date(Math.ceil((Date.now() + 24 * 3600_000) / 86_400_000) * 86_400_000)
  const clock = manualClock(t0)
  const ctx = await testContext(t, { clock, env: { DUE_SOON_WORKING_MINUTES: '240' } })
  await ctx.deploy(fixture('supplement.bpmn'))
  const officer = await auth(ctx, { roles: ['officer'], groups: ['one-stop'] })
  const outsider = await auth(ctx, { roles: ['officer'], groups: ['one-stop'], agency: 'UBND-KHAC' })
  const citizen = await auth(ctx, { roles: ['citizen'] })
  const s = (
    await ctx.app.inject({
      method: 'POST',
      url: '/api/dossiers',
      headers: officer,
      payload: { procedureCode: 'TEST.SUPP', applicant: { name: 'A', idNumber: '001099001234' }, channel: 1, data: {} },
    })
  ).json()

  const connection = redisConnection(testUrls().redisUrl)
  const queues = createQueues(connection, ctx.config.queuePrefix)
  const log = pino({ level: 'silent' })
  const relay = createOutboxRelay({ db: ctx.db, repo: ctx.system.repos.outbox, queues, clock, log })
  const timerWorker = startTimerWorker({
    connection,
    prefix: ctx.config.queuePrefix,
    timers: ctx.system.timers,
    watch: ctx.system.watch,
    clock,
    log,
  })
  t.teardown(async () => {
    await timerWorker.close()
    await queues.close()
  })
  await relay.drain()
  const timers = queues.get(QUEUE.timers)
  t.equal(await timers.getDelayedCount(), 0, 'alarms due beyond the queue horizon (60 min) have no job in Redis yet')

  const settle = async (done: () => Promise<boolean>) => {
    const settled = async () => {
      await relay.drain()
      const c = await timers.getJobCounts('waiting', 'active')
      return c.waiting + c.active === 0 && (await done())
    }
    if (
      await pollUntil('the queues to settle', settled).then(
        () => true,
        () => false,
      )
    )
      return
    const failed = (await timers.getFailed()).map((j) => `${j.name}: ${j.failedReason}`)
    throw new Error(
      `queues did not settle ${JSON.stringify({ timers: await timers.getJobCounts(), failed, n: await ctx.db('notifications').count('* as n') })}`,
    )
  }
  const notes = async (h: Record<string, string>) => (await ctx.app.inject({ url: '/api/notifications', headers: h })).json()
  // Half an hour before the first alarm, the per-minute pass queues exactly the alarms due within the hour.
  const alarms = await ctx.db('deadline_alarms').where({ dossier_id: s.dossier.id, status: 'pending' }).orderBy('fire_at')
  t.equal(alarms.length, 4, 'dossier and task: due-soon and overdue each')
  const passAt = new Date(alarms[0].fire_at.getTime() - 30 * 60_000)
  clock.set(passAt)
  const near = alarms.filter((a) => a.fire_at.getTime() <= passAt.getTime() + 3600_000).length
  t.equal(await ctx.system.watch.queueComing(timers), near, 'the pass queues the alarms coming due within the hour')
  t.equal(await timers.getDelayedCount(), near, 'as delayed jobs')
  t.equal(await ctx.system.watch.queueComing(timers), near, 'a second pass finds them again')
  t.equal(await timers.getDelayedCount(), near, 'and leaves their jobs as they are')
  // Everything comes due: the pass queues the rest, the worker fires them; the injected clock says they are due.
  clock.set(new Date(t0.getTime() + 30 * 86_400_000))
  t.equal(await ctx.system.watch.queueComing(timers), 4, 'past alarms are queued too (as after a lost Redis)')
  await timers.promoteJobs()
  await settle(async () => Number((await ctx.db('notifications').count('* as n'))[0]!.n) === 4)
  const mine = await notes(officer)
  t.equal(mine.items.length, 4, "the one-stop officer sees the dossier's and the task's notices")
  t.ok(
    mine.items.some((n: any) => n.kind === 'deadline.overdue' && n.message.startsWith(`Hồ sơ ${s.dossier.code} đã quá hạn trả kết quả`)),
    'Vietnamese message',
  )
  t.ok(mine.items.some((n: any) => n.kind === 'deadline.due_soon' && n.message.includes('Bước «Thẩm định»')))
  t.same((await notes(outsider)).items, [], 'another agency sees nothing')
  t.equal((await ctx.app.inject({ url: '/api/notifications', headers: citizen })).statusCode, 403)
  const page = await ctx.app.inject({ url: '/api/notifications?limit=3', headers: officer })
  const rest = await ctx.app.inject({ url: `/api/notifications?limit=3&cursor=${page.json().nextCursor}`, headers: officer })
  t.equal(page.json().items.length + rest.json().items.length, 4, 'cursor pagination')

  t.equal(
    (await ctx.db('outbox').whereIn('topic', ['deadline.due-soon', 'deadline.overdue'])).length,
    0,
    'notifications are written with the firing, not queued',
  )

  // Redelivery of every alarm job is harmless.
  const completed = await timers.getJobs(['completed'])
  t.equal(completed.length, 4)
  for (const job of completed) await job.retry('completed')
  await settle(async () => (await timers.getJobs(['completed'])).length === 4)
  t.equal(Number((await ctx.db('notifications').count('* as n'))[0]!.n), 4, 'one notification per alarm')
  t.equal(
    (await ctx.db('history').where({ dossier_id: s.dossier.id }).whereIn('action', ['deadline.due_soon', 'deadline.overdue'])).length,
    4,
    'each alarm fired once',
  )
})

t.test('an alarm already due when its task is created fires in that step; far alarms stay out of Redis until they come near', async (t) => {
  const clock = manualClock(vn('2026-11-23T09:00'))
  const ctx = await testContext(t, { clock })
  await ctx.deploy(fixture('three-step-procedure.bpmn'))
  const officer = await auth(ctx, { roles: ['officer'], groups: ['one-stop', 'specialists', 'leaders'], agency: 'UBND-XA-DEMO' })
  const outboxTopics = async (dossierId: string) =>
    (await ctx.db('outbox').orderBy('id'))
      .filter((r) => r.payload.dossierId === dossierId || r.topic.startsWith('deadline.'))
      .map((r) => r.topic)
  const s = (await ctx.app.inject({ method: 'POST', url: '/api/dossiers', headers: officer, payload: S3 })).json()
  const receive = s.tasks[0]
  t.equal(
    local(receive.due),
    '2026-11-23 15:00',
    'Receive: PT4H, four working hours (a working-day procedure), shorter than the one-working-day due-soon window',
  )

  // Due soon from its creation: fired in the submission's own transaction.
  const alarm = await ctx.db('deadline_alarms').where({ task_id: receive.id, kind: 'due_soon' }).first()
  t.equal(alarm.status, 'fired')
  t.equal(alarm.fired_at.getTime(), vn('2026-11-23T09:00').getTime(), 'fired at the step')
  t.equal(
    (await ctx.app.inject({ url: `/api/tasks/${receive.id}`, headers: officer })).json().deadlineState,
    'due_soon',
    'the task shows due soon at once',
  )
  const lines = await ctx.db('history').where({ task_id: receive.id, action: 'deadline.due_soon' })
  t.same(
    lines.map((h) => [local(h.at), h.details.subject]),
    [['2026-11-23 09:00', 'task']],
    'one history line',
  )
  const mine = (await ctx.app.inject({ url: '/api/notifications', headers: officer })).json().items
  t.same(
    mine.map((n: any) => [n.kind, n.message]),
    [
      [
        'deadline.due_soon',
        `Bước «Tiếp nhận và kiểm tra hồ sơ» của hồ sơ ${s.dossier.code} sắp đến hạn xử lý (hạn 15:00 ngày 23/11/2026).`,
      ],
    ],
    'the officer is told, in the same transaction',
  )
  t.equal((await ctx.db('outbox').whereIn('topic', ['deadline.due-soon', 'deadline.overdue'])).length, 0, 'nothing queued for it')
  t.equal(await ctx.system.watch.fireDue(), 0, 'a sweep finds nothing more to fire')
  t.equal((await ctx.db('history').where({ task_id: receive.id, action: 'deadline.due_soon' })).length, 1, 'fired once')
  t.notOk(
    (await outboxTopics(s.dossier.id)).some((x) => x === 'deadline.scheduled' || x === 'deadline.cancelled'),
    'no alarm is within the hour: nothing for Redis',
  )

  // At 14:30 the Receive overdue alarm (15:00) comes within the horizon and gets its job; completing
  // the task then cancels it, and that job is removed.
  clock.set(vn('2026-11-23T14:30'))
  const connection = redisConnection(testUrls().redisUrl)
  const queues = createQueues(connection, ctx.config.queuePrefix)
  t.teardown(() => queues.close())
  const timers = queues.get(QUEUE.timers)
  t.equal(await ctx.system.watch.queueComing(timers), 1, 'the pass queues the overdue alarm of 15:00')
  t.equal(await timers.getDelayedCount(), 1)
  const done = await ctx.app.inject({
    method: 'POST',
    url: `/api/tasks/${receive.id}/complete`,
    headers: officer,
    payload: { variables: { valid: true } },
  })
  t.equal(done.statusCode, 200)
  t.equal(
    (await ctx.db('outbox').where({ topic: 'deadline.cancelled' })).length,
    1,
    'only the alarm that could have a job is cancelled in Redis',
  )
  t.equal((await ctx.db('outbox').where({ topic: 'deadline.scheduled' })).length, 0, 'Appraise alarms are hours away: no job yet')
  const relay = createOutboxRelay({ db: ctx.db, repo: ctx.system.repos.outbox, queues, clock, log: pino({ level: 'silent' }) })
  await relay.drain()
  t.equal(await timers.getDelayedCount(), 0, "the cancelled alarm's job is gone")
})
