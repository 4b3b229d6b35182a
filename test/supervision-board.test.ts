import t from 'tap'
import fs from 'node:fs'
import ExcelJS from 'exceljs'
import { testContext, type TestContext } from './helpers/context.ts'
import { caller } from './helpers/api.ts'
import { seedProvince } from '../scripts/seed-province.ts'
import { createBoardRepository } from '../src/supervision/board.repository.ts'
import { createSupervisionRepository } from '../src/supervision/supervision.repository.ts'
import { workingMinutesBetweenFast, workingMinutesLeft } from '../src/calendar/working-time.ts'
import { createWorkingCalendar } from '../src/calendar/working-calendar.ts'

const S3 = fs.readFileSync(new URL('../processes/s3-ho-kinh-doanh.bpmn', import.meta.url), 'utf8')
const AGENCY = 'UBND-XA-DEMO'
const NOW = '2026-12-01T03:00:00Z'

const DAILY_COUNTS = [
  'received',
  'online',
  'counter',
  'postal',
  'finished',
  'early',
  'on_time',
  'late',
  'returned',
  'electronic_results',
  'paid_online',
  'digitised',
  'evaluated',
  'satisfied',
  'resolved',
  'resolved_early',
  'resolved_on_time',
  'resolved_late',
]

/** Daily counts as the triggers left them, then as rebuilt from the dossiers: they must be the same. */
async function dailyCountsMatchDossiers(ctx: TestContext) {
  // A key's counts may sit in several shard rows (migration 020): compared as their sums.
  const rows = () =>
    ctx
      .db('supervision_daily')
      .groupBy('agency', 'day', 'procedure_code')
      .orderBy(['agency', 'day', 'procedure_code'])
      .select('agency', 'day', 'procedure_code', ...DAILY_COUNTS.map((c) => ctx.db.raw(`sum(${c})::int as ${c}`)))
  const kept = await rows()
  await ctx.db.raw('SELECT supervision_daily_rebuild()')
  return { kept, rebuilt: await rows() }
}

t.test('the 766 indicators equal values worked out by hand on a fixed set of dossiers', async (t) => {
  const ctx = await testContext(t, { now: NOW })
  t.equal((await ctx.deploy(S3)).status, 201)
  const v = await ctx.db('procedure_versions').where({ procedure_code: '2.000575' }).first('id')
  const vn = (local: string) => new Date(`${local}+07:00`)
  let n = 0
  /** A dossier as the API writes it: received open, then finished by an update (the triggers see both). */
  const dossier = async (o: {
    channel: 1 | 2 | 3
    received: string
    appointment?: string
    finished?: string
    status?: string
    supplements?: number
    returnMethod?: string
    agency?: string
    paid?: boolean
    document?: boolean
    satisfied?: boolean
  }) => {
    const id = `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`
    await ctx.db('dossiers').insert({
      id,
      code: `T-${n}`,
      unit_id: 'U',
      procedure_code: '2.000575',
      procedure_version_id: v.id,
      agency: o.agency ?? AGENCY,
      status: 'IN_PROCESS',
      national_status: 4,
      channel: o.channel,
      applicant: {},
      data: {},
      submitted_by: 'x',
      submitted_at: vn(o.received),
      received_at: vn(o.received),
      appointment_at: o.appointment ? vn(o.appointment) : null,
    })
    if (o.document)
      await ctx.db('documents').insert({
        id: id.replace(/^0/, 'd'),
        dossier_id: id,
        kind: 'submission',
        file_name: 'a.pdf',
        content_type: 'application/pdf',
        size: 1,
        sha256: 'x',
        storage_key: 'k',
        uploaded_by: 'x',
        uploaded_at: vn(o.received),
      })
    if (o.paid) {
      await ctx.db('payments').insert({
        reference: `P-${n}`,
        dossier_id: id,
        purpose: 'fee',
        amount: 1,
        status: 'pending',
        created_by: 'x',
        created_at: vn(o.received),
      })
      await ctx
        .db('payments')
        .where({ reference: `P-${n}` })
        .update({ status: 'paid' })
    }
    if (o.finished)
      await ctx
        .db('dossiers')
        .where({ id })
        .update({
          status: o.status ?? 'RETURNED',
          finished_at: vn(o.finished),
          supplement_count: o.supplements ?? 0,
          return_method: o.returnMethod ?? null,
        })
    if (o.satisfied !== undefined)
      await ctx
        .db('evaluations')
        .insert({ dossier_id: id, evaluated_by: 'x', ratings: '{}', satisfied: o.satisfied, created_at: vn(o.received) })
  }
  // November 2026 (Vietnam days), agency UBND-XA-DEMO:
  await dossier({
    channel: 2,
    received: '2026-11-02T08:00',
    appointment: '2026-11-10T17:00',
    finished: '2026-11-05T09:00',
    returnMethod: 'online',
    paid: true,
    document: true,
    satisfied: true,
  }) // early
  await dossier({
    channel: 2,
    received: '2026-11-03T08:00',
    appointment: '2026-11-10T17:00',
    finished: '2026-11-10T10:00',
    returnMethod: 'counter',
    paid: true,
    document: true,
    satisfied: false,
  }) // on time (same day)
  await dossier({
    channel: 1,
    received: '2026-11-03T09:00',
    appointment: '2026-11-10T17:00',
    finished: '2026-11-12T09:00',
    returnMethod: 'post',
    document: true,
  }) // late
  await dossier({
    channel: 1,
    received: '2026-11-04T09:00',
    appointment: '2026-11-10T17:00',
    finished: '2026-11-08T09:00',
    status: 'STOPPED',
    supplements: 2,
  }) // late: two supplement requests
  await dossier({
    channel: 3,
    received: '2026-11-04T10:00',
    appointment: '2026-11-10T17:00',
    finished: '2026-11-09T09:00',
    status: 'RESULT_READY',
    supplements: 1,
    document: true,
  }) // early
  await dossier({ channel: 3, received: '2026-11-20T10:00', appointment: '2026-11-30T17:00' }) // unfinished
  await dossier({ channel: 2, received: '2026-11-21T10:00' }) // unfinished, no appointment yet
  await dossier({ channel: 2, received: '2026-11-30T23:30' }) // the last evening of November in Vietnam (already 16:30 UTC)
  await dossier({ channel: 1, received: '2026-11-01T00:10' }) // the first minutes of November in Vietnam (still 31 October in UTC)
  // Outside: 31 October in Vietnam, and another agency.
  await dossier({ channel: 1, received: '2026-10-31T23:30', appointment: '2026-11-05T17:00', finished: '2026-11-03T09:00', document: true })
  await dossier({ channel: 2, received: '2026-11-10T10:00', agency: 'UBND-XA-KHAC', paid: true, document: true })

  const supervisor = await caller(ctx, { userId: 'gs-1', roles: ['supervisor'], agency: AGENCY })
  const r = await supervisor.get('/api/supervision/indicators?from=2026-11-01&to=2026-11-30')
  t.equal(r.status, 200)
  // By hand: 9 received (4 online, 3 counter, 2 post); 5 finished with an appointment: early #1 #5,
  // on time #2, late #3 (after the day) and #4 (two supplement requests); 3 returned (#1 online);
  // 2 paid online; 4 with submitted documents; 2 evaluations, 1 satisfied.
  t.match(r.body, {
    received: 9,
    onTime: { rate: 0.6, onTime: 3, finished: 5 },
    early: { rate: 0.4, early: 2, finished: 5 },
    onlineDossiers: { rate: 0.4444, online: 4, received: 9 },
    postalDossiers: { rate: 0.2222, postal: 2, received: 9 },
    paidOnline: { rate: 0.2222, paidOnline: 2, received: 9 },
    electronicResults: { rate: 0.3333, electronic: 1, returned: 3 },
    digitised: { rate: 0.4444, digitised: 4, received: 9 },
    satisfaction: { rate: 0.5, satisfied: 1, evaluated: 2 },
  })

  const report = await supervisor.get('/api/supervision/report?from=2026-11-01&to=2026-11-30')
  t.same(report.body.rows, [
    {
      key: AGENCY,
      carried_over: 1, // received 31 October, finished 3 November
      received: 9,
      online: 4,
      counter: 3,
      postal: 2,
      resolved: 6,
      resolved_early: 3,
      resolved_on_time: 1,
      resolved_late: 2,
      in_progress: 4,
    },
  ])

  const { kept, rebuilt } = await dailyCountsMatchDossiers(ctx)
  t.same(kept, rebuilt, 'the counts the triggers kept equal the counts rebuilt from the dossiers')
})

t.test('a province seed: Today, the lists behind its figures, step counts, exports — and the plans at 20,000 dossiers', async (t) => {
  const ctx = await testContext(t, { now: NOW })
  const seeded = await seedProvince(ctx.db, { dossiers: 20_000, now: new Date(NOW) })
  t.equal(seeded.dossiers, 20_000)
  t.ok(seeded.history >= 4 * 20_000, `about 5 history rows a dossier (${seeded.history})`)
  const supervisor = await caller(ctx, { userId: 'gs-1', roles: ['supervisor'], agency: AGENCY })
  const admin = await caller(ctx, { userId: 'ad-1', roles: ['admin'] })
  const officer = await caller(ctx, { userId: 'cb-1', roles: ['officer'], groups: ['one-stop'], agency: AGENCY })
  const from = '2026-11-01',
    to = '2026-11-30'

  // Today: each figure equals a direct count over the dossiers, and the list behind it holds exactly those dossiers.
  const today = (await supervisor.get(`/api/supervision/today?from=${from}&to=${to}`)).body
  t.ok(today.rows.length > 1 && today.rows.every((r: any) => r.agency === AGENCY), 'one row per procedure of the agency')
  const start = new Date(`${from}T00:00:00+07:00`),
    end = new Date(`${to}T23:59:59.999+07:00`)
  const direct = await ctx
    .db('dossiers')
    .where({ agency: AGENCY })
    .first(
      ctx.db.raw('count(*) filter (where submitted_at between ? and ?)::int as received', [start, end]),
      ctx.db.raw('count(*) filter (where finished_at is null)::int as in_process'),
      ctx.db.raw(`count(*) filter (where finished_at is null and deadline_state = 'due_soon')::int as due_soon`),
      ctx.db.raw(`count(*) filter (where finished_at is null and deadline_state = 'overdue')::int as overdue`),
      ...['early', 'on_time', 'late'].map((o) =>
        ctx.db.raw(`count(*) filter (where finished_at between ? and ? and outcome = ?)::int as resolved_${o}`, [start, end, o]),
      ),
    )
  t.same(today.totals, direct, 'Today equals direct counts')
  // Province-wide by agency: one row per agency, each the sum of that agency's procedure rows.
  const all = (await admin.get(`/api/supervision/today?from=${from}&to=${to}`)).body
  const byAgency = (await admin.get(`/api/supervision/today?from=${from}&to=${to}&groupBy=agency`)).body
  t.same(byAgency.totals, all.totals, 'grouping by agency keeps the totals')
  t.same(
    byAgency.rows.map((r: any) => r.agency),
    [...new Set(all.rows.map((r: any) => r.agency))],
    'one row per agency',
  )
  const mine = byAgency.rows.find((r: any) => r.agency === AGENCY)
  t.same(
    { ...mine, agency: undefined, procedure_code: undefined },
    { ...today.totals, agency: undefined, procedure_code: undefined },
    'an agency’s row sums its procedures',
  )
  t.equal(mine.procedure_code, null, 'no procedure on an agency row')
  t.equal((await admin.get(`/api/supervision/today?from=${from}&to=${to}&groupBy=officer`)).status, 400, 'an unknown grouping is refused')
  for (const figure of ['overdue', 'resolved_late'] as const) {
    const seen: any[] = []
    let cursor: string | null = null
    do {
      const page: any = await supervisor.get(
        `/api/supervision/dossiers?figure=${figure}&from=${from}&to=${to}&limit=200${cursor ? `&cursor=${cursor}` : ''}`,
      )
      t.equal(page.status, 200)
      seen.push(...page.body.items)
      cursor = page.body.nextCursor
    } while (cursor)
    t.equal(seen.length, today.totals[figure], `the ${figure} list, page by page, holds the ${today.totals[figure]} dossiers counted`)
    t.equal(new Set(seen.map((d) => d.id)).size, seen.length, 'no dossier twice across pages')
    if (figure === 'overdue') {
      t.ok(
        seen.every((d) => d.deadlineState === 'overdue' && d.workingMinutesLeft < 0),
        'overdue by some working time',
      )
      const appts = seen.map((d) => d.appointmentAt)
      t.same(appts, [...appts].sort(), 'earliest appointment first')
    } else t.ok(seen.every((d) => d.deadlineState === 'late'))
  }
  t.equal(
    (await supervisor.get(`/api/supervision/dossiers?figure=received`)).body.error.code,
    'VALIDATION_FAILED',
    'received needs a period',
  )
  t.equal((await supervisor.get(`/api/supervision/dossiers?figure=overdue&cursor=xyz`)).body.error.code, 'CURSOR_INVALID')
  t.equal((await officer.get(`/api/supervision/today?from=${from}&to=${to}`)).status, 403)

  // Late steps by officer and by step.
  const lateTasks = (await supervisor.get('/api/supervision/tasks?state=overdue&limit=200')).body.items
  t.ok(
    lateTasks.length > 0 && lateTasks.every((x: any) => x.agency === AGENCY && x.deadlineState === 'overdue' && x.workingMinutesLeft <= 0),
  )
  const someone = lateTasks.find((x: any) => x.assignee)!.assignee
  const his = (await supervisor.get(`/api/supervision/tasks?state=all&assignee=${someone}&limit=200`)).body.items
  t.ok(his.length > 0 && his.every((x: any) => x.assignee === someone), "an officer's late steps")

  // Step counts of the latest version of each procedure add up to the open tasks.
  let open = 0
  for (const code of await ctx.db('procedures').pluck('code')) {
    const s = await admin.get(`/api/supervision/steps?procedureCode=${code}`)
    t.equal(s.status, 200)
    open += s.body.steps.reduce((n: number, x: any) => n + x.open, 0)
  }
  t.equal(open, seeded.openTasks, 'every open task on some step')
  t.equal((await admin.get('/api/supervision/steps?procedureCode=2.000575&version=99')).body.error.code, 'PROCEDURE_VERSION_NOT_FOUND')

  // Exports: the CSV holds the list with Vietnamese headers; the XLSX opens in a spreadsheet library.
  const csv = await supervisor.get(`/api/supervision/export/dossiers?figure=in_process`)
  t.equal(csv.status, 200)
  t.match(csv.headers['content-type'], /text\/csv/)
  t.same([...csv.raw.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'a BOM: spreadsheets read the file as UTF-8')
  const lines = csv.raw.subarray(3).toString('utf8').trimEnd().split('\r\n')
  t.match(lines[0], /^Mã hồ sơ,Mã thủ tục,Cơ quan,Trạng thái/)
  t.equal(lines.length - 1, today.totals.in_process, 'one line per unfinished dossier (more than one batch of 1,000)')
  const xlsx = await supervisor.get(`/api/supervision/export/report?from=${from}&to=${to}&groupBy=procedure&format=xlsx`)
  t.equal(xlsx.status, 200)
  const book = new ExcelJS.Workbook()
  await book.xlsx.load(xlsx.raw as any)
  const sheet = book.worksheets[0]!
  t.equal(sheet.getRow(1).getCell(3).value, 'Tiếp nhận trong kỳ')
  t.equal(sheet.getRow(sheet.rowCount).getCell(1).value, 'Tổng cộng')
  const listXlsx = await supervisor.get(`/api/supervision/export/dossiers?figure=overdue&format=xlsx`)
  const listBook = new ExcelJS.Workbook()
  await listBook.xlsx.load(listXlsx.raw as any)
  t.equal(listBook.worksheets[0]!.rowCount - 1, today.totals.overdue, 'the XLSX list: a header row and one row per overdue dossier')
  t.equal((await officer.get(`/api/supervision/export/dossiers?figure=overdue`)).status, 403)
  t.equal((await supervisor.get(`/api/supervision/export/dossiers?figure=overdue&agency=UBND-XA-01`)).status, 403)

  // The plans: the first page of every list and every count reads an index, never a whole big table.
  const board = createBoardRepository()
  const period = { start, end }
  const version = (await ctx.db('procedure_versions').where({ procedure_code: '2.000575' }).first('id')).id
  const queries: Array<[string, { statement: any }]> = [
    ['Today: unfinished counts', board.openByProcedure(ctx.db, { agency: AGENCY })],
    ['Today: unfinished counts, all agencies', board.openByProcedure(ctx.db, { agency: null })],
    ['Today: received and resolved', board.dailyByProcedure(ctx.db, { agency: AGENCY }, { from, to })],
    ['step counts', board.stepCounts(ctx.db, { agency: null, procedureCode: '2.000575' }, version)],
    ['late steps, agency', board.lateTasks(ctx.db, { agency: AGENCY, states: ['overdue'] }, { limit: 51 })],
    ['late steps, all', board.lateTasks(ctx.db, { agency: null, states: ['overdue', 'due_soon'] }, { limit: 51 })],
    ['indicators', { statement: ctx.db('supervision_daily').where({ agency: AGENCY }).whereBetween('day', [from, to]).sum('received') }],
  ]
  for (const figure of ['received', 'in_process', 'due_soon', 'overdue', 'resolved_early', 'resolved_late'] as const)
    for (const agency of [AGENCY, null])
      queries.push([`list ${figure} ${agency ?? 'all'}`, board.dossiers(ctx.db, figure, { agency }, period, { limit: 51 }).rows])
  for (const [name, q] of queries) {
    const { sql, bindings } = q.statement.toSQL()
    const [plan] = (await ctx.db.raw(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sql}`, bindings)).rows[0]['QUERY PLAN']
    const scans: string[] = []
    const walk = (node: any) => {
      if (/Seq Scan/.test(node['Node Type'])) scans.push(node['Relation Name'])
      for (const c of node.Plans ?? []) walk(c)
    }
    walk(plan.Plan)
    t.same(
      scans.filter((r) => ['dossiers', 'tasks', 'history', 'process_instances'].includes(r)),
      [],
      `${name}: no sequential scan of a big table (${plan['Execution Time']} ms)`,
    )
  }
  // The indicator counts read the daily counts: the year before `now` holds every seeded dossier.
  const indicators = await createSupervisionRepository().indicatorCounts(ctx.db, { agency: null, from: '2025-12-01', to: '2026-12-01' })
  t.equal(indicators.dossiers.received, 20_000)
})

t.test("working time left on the supervisors' lists equals the calendar's count, however long overdue", async (t) => {
  const cal = createWorkingCalendar(new Map())
  let seed = 7
  const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646
  for (let i = 0; i < 3000; i++) {
    const from = new Date(Date.UTC(2025, 0, 1) + random() * 900 * 86_400_000)
    const to = new Date(from.getTime() + random() * (i % 3 === 0 ? 2 : 400) * 86_400_000)
    const fast = workingMinutesBetweenFast(cal, from, to),
      walked = cal.workingMinutesBetween(from, to)
    if (Math.abs(fast - walked) > 0.01) {
      t.fail(`${from.toISOString()} → ${to.toISOString()}: ${fast} ≠ ${walked}`)
      return
    }
  }
  t.pass('3,000 intervals across Tết and the other holidays agree')
  const now = new Date('2026-12-01T03:00:00Z')
  t.equal(workingMinutesLeft(cal, now, new Date('2026-11-30T03:00:00Z')), -cal.workingMinutesBetween(new Date('2026-11-30T03:00:00Z'), now))
})

t.test('two submissions to the same agency and procedure on the same day do not wait for each other on the daily counts', async (t) => {
  const ctx = await testContext(t, { now: NOW })
  t.equal((await ctx.deploy(S3)).status, 201)
  const officer = { authorization: `Bearer ${await ctx.token({ roles: ['officer'], groups: ['one-stop'], agency: AGENCY })}` }
  const first = await ctx.app.inject({
    method: 'POST',
    url: '/api/dossiers',
    headers: officer,
    payload: { procedureCode: '2.000575', applicant: { name: 'Lê Văn A', idNumber: '001099001234' }, channel: 1, data: {} },
  })
  t.equal(first.statusCode, 201)
  const like = first.json().dossier.id as string
  /** A dossier like the first one (same agency, procedure and day), written in `trx`. */
  const another = (trx: typeof ctx.db, suffix: string) =>
    trx.raw(
      `INSERT INTO dossiers (id, code, unit_id, procedure_code, procedure_version_id, agency, status, national_status, channel, applicant,
              data, submitted_by, submitted_at, appointment_at)
       SELECT gen_random_uuid(), code || ?, unit_id, procedure_code, procedure_version_id, agency, status, national_status, channel,
              applicant, data, submitted_by, submitted_at, appointment_at FROM dossiers WHERE id = ?`,
      [suffix, like],
    )
  // The first transaction adds its dossier and has not committed yet; the second must not queue behind it.
  const one = await ctx.db.transaction()
  const two = await ctx.db.transaction()
  try {
    await another(one, '-A')
    await two.raw("SET LOCAL lock_timeout = '1s'")
    const second = await another(two, '-B').then(
      () => 'written',
      (err: { code?: string }) => err.code,
    )
    t.equal(second, 'written', 'the second submission was written while the first was still open (no lock wait on the day’s row)')
    await one.commit()
    if (second === 'written') await two.commit()
    else await two.rollback()
  } catch (err) {
    await one.rollback().catch(() => {})
    await two.rollback().catch(() => {})
    throw err
  }
  const { kept, rebuilt } = await dailyCountsMatchDossiers(ctx)
  t.same(kept, rebuilt, 'the counts of every shard sum to the dossiers’ own')
  t.equal(kept.find((r: { agency: string }) => r.agency === AGENCY)?.received, 3, 'three received that day')
})
