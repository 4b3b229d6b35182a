import t from 'tap'
import fs from 'node:fs'
import { manualClock } from '../src/clock.ts'
import { auth, fixture, testContext } from './helpers/context.ts'
import { launchBrowser, newPage, PAGE_ROWS, screenshot } from './helpers/browser.ts'
import { slow } from './helpers/slow.ts'
import { seedProvince } from '../scripts/seed-province.ts'
import { benchPages } from '../bench/supervision.ts'
import { consolePagesBench } from '../bench/console-pages.ts'

const vn = (s: string) => new Date(`${s}+07:00`)
const S3 = (name: string) => ({ procedureCode: 'TEST.3STEP', applicant: { name, idNumber: '001099001234' }, channel: 1, data: {} })

t.test('the console: sign in, the overdue list equals the API, a dossier page, a procedure diagram', async (t) => {
  const clock = manualClock(vn('2026-11-20T16:00'))
  const ctx = await testContext(t, { clock })
  t.equal((await ctx.deploy(fixture('three-step-procedure.bpmn'))).status, 201)
  const officer = await auth(ctx, { roles: ['officer'], groups: ['one-stop', 'specialists', 'leaders'], agency: 'UBND-XA-DEMO' })
  for (const name of ['Hộ Nguyễn Văn A', 'Hộ Trần Thị B', 'Hộ Lê Văn C']) {
    t.equal((await ctx.app.inject({ method: 'POST', url: '/api/dossiers', headers: officer, payload: S3(name) })).statusCode, 201)
  }
  clock.set(vn('2026-11-26T09:00'))
  await ctx.system.watch.fireDue()
  const supervisorToken = await ctx.token({ roles: ['supervisor'], agency: 'UBND-XA-DEMO' })
  const fromApi = (
    await ctx.app.inject({ url: '/api/supervision/dossiers?figure=overdue', headers: { authorization: `Bearer ${supervisorToken}` } })
  ).json().items as Array<{ id: string; code: string; status: string; statusLabel: string }>
  t.equal(fromApi.length, 3, 'three overdue dossiers')

  const base = await ctx.app.listen({ port: 0, host: '127.0.0.1' })
  const browser = await launchBrowser(t)
  const { page, errors } = await newPage(browser)

  await page.goto(`${base}/console`)
  await page.waitForURL(/#\/sign-in/)
  await page.fill('#token', supervisorToken)
  await page.click('#token-form button[type=submit]')
  await page.waitForSelector('#today')
  await page.click('#nav a[data-nav=deadlines]')
  await page.waitForSelector('#dossier-list')
  const codes = await page.$$eval('#dossier-list tbody tr td:first-child a', (as) => as.map((a) => a.textContent))
  t.same(
    codes,
    fromApi.map((d) => d.code),
    'the overdue list shows what the API answers, in its order',
  )
  t.equal(
    (await page.innerText('#dossier-list tbody tr td:nth-child(5)')).trim(),
    'quá 3 giờ',
    'how late, in working time (-180 working minutes)',
  )
  await screenshot(page, 'console-overdue')

  await page.click(`#dossier-list a[href="#/dossiers/${fromApi[1]!.id}"]`)
  await page.waitForSelector('#history')
  t.equal(await page.textContent('#dossier-code'), fromApi[1]!.code, 'the clicked dossier opens')
  t.equal(await page.textContent('#dossier-status'), fromApi[1]!.statusLabel)
  t.ok((await page.$$('#history li')).length >= 1, 'its process record is shown')
  t.ok((await page.$$('#open-tasks tbody tr')).length >= 1, 'with its open task')
  await page.waitForSelector('#dossier-diagram .djs-element')
  t.same(
    await page.$$eval('#dossier-diagram .djs-element.current', (els) => els.map((e) => e.getAttribute('data-element-id'))),
    ['Receive'],
    "its diagram marks the step it waits at (the dossier's own procedure version)",
  )
  await screenshot(page, 'console-dossier')

  await page.click('a[href="#/procedures/TEST.3STEP"]')
  await page.waitForSelector('#diagram .djs-element')
  const shapes = await page.$$eval('#diagram [data-element-id]', (els) => els.map((e) => e.getAttribute('data-element-id')))
  t.ok(shapes.includes('Receive'), 'the procedure diagram is drawn by bpmn-js')
  await screenshot(page, 'console-procedure')
  t.same(errors(), [], 'no browser error on any page')
})

t.test('the demo sign-in exists outside production only, and hands out a working supervisor token', async (t) => {
  const ctx = await testContext(t)
  const res = await ctx.app.inject({ method: 'POST', url: '/console/dev-sign-in', payload: { role: 'supervisor', agency: 'UBND-XA-DEMO' } })
  t.equal(res.statusCode, 200)
  const list = await ctx.app.inject({ url: '/api/supervision/deadlines', headers: { authorization: `Bearer ${res.json().token}` } })
  t.equal(list.statusCode, 200, 'the token works on the API')
  const bad = await ctx.app.inject({ method: 'POST', url: '/console/dev-sign-in', payload: { role: 'citizen', agency: 'X' } })
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().error.code, 'VALIDATION_FAILED')

  const prod = await testContext(t, { env: { NODE_ENV: 'production', JWT_SECRET: 'p'.repeat(48), PAYMENT_SECRET: 'q'.repeat(48) } })
  const refused = await prod.app.inject({ method: 'POST', url: '/console/dev-sign-in', payload: { role: 'admin', agency: 'UBND-XA-DEMO' } })
  t.equal(refused.statusCode, 404, 'no demo sign-in in production')
  t.equal((await prod.app.inject({ url: '/console/' })).statusCode, 200, 'the console itself is served in production')
  t.same((await prod.app.inject({ url: '/console/settings.json' })).json(), { devSignIn: false })
  t.same((await ctx.app.inject({ url: '/console/settings.json' })).json(), { devSignIn: true })
})

t.test('the console serves only its own files and the bpmn-js viewer', async (t) => {
  const ctx = await testContext(t)
  t.equal((await ctx.app.inject({ url: '/console' })).statusCode, 301)
  const index = await ctx.app.inject({ url: '/console/' })
  t.equal(index.statusCode, 200)
  t.match(index.headers['content-type'], /text\/html/)
  t.equal((await ctx.app.inject({ url: '/console/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js' })).statusCode, 200)
  t.equal(
    (await ctx.app.inject({ url: '/console/vendor/bpmn-js/bpmn-modeler.development.js' })).statusCode,
    404,
    'other bundles are not served',
  )
  t.equal((await ctx.app.inject({ url: '/console/../package.json' })).statusCode, 404)
  t.equal((await ctx.app.inject({ url: '/console/%2e%2e/%2e%2e/package.json' })).statusCode, 404)
})

/** Milliseconds from an action (navigation or click) to the selector showing the page's content. */
async function timed(action: () => Promise<unknown>, visible: () => Promise<unknown>): Promise<number> {
  const started = Date.now()
  await action()
  await visible()
  return Date.now() - started
}

t.test('the console pages: Today and its lists, the diagram with live counts, steps, indicators, handoffs', async (t) => {
  const clock = manualClock(vn('2026-11-20T16:00'))
  const ctx = await testContext(t, { clock })
  t.equal((await ctx.deploy(fixture('three-step-procedure.bpmn'))).status, 201)
  const officer = await auth(ctx, {
    userId: 'can-bo-1',
    roles: ['officer'],
    groups: ['one-stop', 'specialists', 'leaders'],
    agency: 'UBND-XA-DEMO',
  })
  const ids: string[] = []
  for (const name of ['Hộ Nguyễn Văn A', 'Hộ Trần Thị B', 'Hộ Lê Văn C', 'Hộ Phạm Thị D', 'Hộ Vũ Văn E']) {
    const r = await ctx.app.inject({ method: 'POST', url: '/api/dossiers', headers: officer, payload: S3(name) })
    t.equal(r.statusCode, 201)
    ids.push(r.json().dossier.id)
  }
  /** The officer completes the open task of `activityId` of a dossier. */
  const complete = async (dossierId: string, activityId: string, variables: Record<string, unknown>) => {
    const view = (await ctx.app.inject({ url: `/api/dossiers/${dossierId}`, headers: officer })).json()
    const task = view.tasks.find((x: { status: string; activityId: string }) => x.status === 'open' && x.activityId === activityId)
    const r = await ctx.app.inject({ method: 'POST', url: `/api/tasks/${task.id}/complete`, headers: officer, payload: { variables } })
    t.equal(r.statusCode, 200, `${activityId} completed`)
  }
  // Two dossiers go on to appraisal, one of them all the way to its result; three wait at the counter.
  await complete(ids[0]!, 'Receive', { valid: true })
  await complete(ids[1]!, 'Receive', { valid: true })
  await complete(ids[1]!, 'Appraise', { approved: true })
  await complete(ids[1]!, 'Approve', {})
  clock.set(vn('2026-11-26T09:00'))
  await ctx.system.watch.fireDue()

  const supervisorToken = await ctx.token({ roles: ['supervisor'], agency: 'UBND-XA-DEMO' })
  const get = async (url: string) => {
    const r = await ctx.app.inject({ url, headers: { authorization: `Bearer ${supervisorToken}` } })
    t.equal(r.statusCode, 200, url)
    return r.json()
  }
  const period = 'from=2026-11-01&to=2026-11-30'
  const today = await get(`/api/supervision/today?${period}`)
  t.equal(today.totals.received, 5, 'five dossiers received in November')
  t.ok(today.totals.overdue >= 1, 'some of them overdue')

  const base = await ctx.app.listen({ port: 0, host: '127.0.0.1' })
  const browser = await launchBrowser(t)
  const { page, errors } = await newPage(browser)
  await page.goto(`${base}/console/#/sign-in`)
  await page.fill('#token', supervisorToken)
  await page.click('#token-form button[type=submit]')
  await page.waitForSelector('#today')
  t.match(page.url(), /#\/today$/, 'Today is the home page')

  // Today: every figure of the totals and of each row equals the API's.
  const loads: Record<string, number> = {}
  loads.today = await timed(
    () => page.goto(`${base}/console/#/today?${period}`),
    () => page.waitForSelector('#today[data-period="2026-11-01..2026-11-30"]'),
  )
  const FIGURES = ['received', 'in_process', 'due_soon', 'overdue', 'resolved_early', 'resolved_on_time', 'resolved_late']
  const shownTotals = await page.$$eval('#today-totals [data-col]', (cells) =>
    Object.fromEntries(cells.map((c) => [c.getAttribute('data-col'), Number(c.textContent!.trim().replace(/\./g, ''))])),
  )
  t.same(shownTotals, Object.fromEntries(FIGURES.map((f) => [f, today.totals[f]])), 'the totals are the API’s')
  const shownRows = await page.$$eval('#today tbody tr[data-agency]', (rows) =>
    rows.map((r) => ({
      agency: r.getAttribute('data-agency'),
      procedure_code: r.getAttribute('data-procedure'),
      ...Object.fromEntries([...r.querySelectorAll('[data-col]')].map((c) => [c.getAttribute('data-col'), Number(c.textContent!.trim())])),
    })),
  )
  t.same(shownRows, today.rows, 'each agency and procedure row is the API’s')
  await screenshot(page, 'console-today')

  // A count → the dossiers behind it, exactly those the API lists for that figure.
  const overdue = await get(`/api/supervision/dossiers?figure=overdue&${period}`)
  t.ok(overdue.items.length >= 1)
  loads.list = await timed(
    () => page.click('#today-totals [data-col=overdue] a'),
    () => page.waitForSelector('#dossier-list'),
  )
  t.same(
    await page.$$eval('#dossier-list tbody tr', (rows) => rows.map((r) => r.getAttribute('data-dossier'))),
    overdue.items.map((d: { id: string }) => d.id),
    'the overdue count opens the overdue dossiers, in the API’s order',
  )
  t.match(await page.innerText('#dossier-list tbody tr td:nth-child(5)'), /^quá /, 'with how late they are')
  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('[data-export=csv]')])
  const lines = fs
    .readFileSync((await csv.path())!, 'utf8')
    .trim()
    .split(/\r?\n/)
  t.equal(lines.length, overdue.items.length + 1, 'the CSV export has a header and one line per overdue dossier')
  t.ok(
    overdue.items.every((d: { code: string }) => lines.some((l) => l.includes(d.code))),
    'every listed dossier is in the export',
  )

  // The procedure's diagram: a badge on each user task with the API's counts; the heat follows overdue tasks.
  const steps = await get('/api/supervision/steps?procedureCode=TEST.3STEP')
  loads.diagram = await timed(
    () => page.goto(`${base}/console/#/procedures/TEST.3STEP`),
    () => page.waitForSelector('#diagram .overlay-count[data-step]'),
  )
  const badges = await page.$$eval('#page .overlay-count[data-step]', (els) =>
    els.map((e) => ({
      activityId: e.getAttribute('data-step'),
      counts: [...e.querySelectorAll('span')].map((s) => Number(s.textContent)),
    })),
  )
  t.same(
    badges.sort((a, b) => a.activityId!.localeCompare(b.activityId!)),
    steps.steps
      .map((s: { activityId: string; open: number; dueSoon: number; overdue: number }) => ({
        activityId: s.activityId,
        counts: [s.open, s.dueSoon, s.overdue],
      }))
      .sort((a: { activityId: string }, b: { activityId: string }) => a.activityId.localeCompare(b.activityId)),
    'the overlays (and the steps the diagram does not draw) show the API’s open, due-soon and overdue counts',
  )
  const receive = steps.steps.find((s: { activityId: string }) => s.activityId === 'Receive')
  t.ok(receive.overdue > 0, 'the counter step has overdue tasks')
  t.ok(
    await page.$(
      '#diagram [data-element-id="Receive"].heat-3, #diagram [data-element-id="Receive"].heat-2, #diagram [data-element-id="Receive"].heat-1',
    ),
    'and is coloured',
  )
  await screenshot(page, 'console-diagram')

  // Clicking a step lists its tasks.
  const receiveTasks = await get('/api/supervision/tasks?procedureCode=TEST.3STEP&activityId=Receive&state=all')
  await page.click('#diagram .overlay-count[data-step="Receive"]')
  await page.waitForSelector('#step-tasks')
  t.same(
    await page.$$eval('#step-tasks tbody tr', (rows) => rows.map((r) => r.getAttribute('data-task'))),
    receiveTasks.items.map((x: { id: string }) => x.id),
    'the step’s tasks are the API’s',
  )

  // The steps view of the overdue list, by officer.
  const byStep = await get('/api/supervision/tasks?state=all&activityId=Appraise')
  loads.tasks = await timed(
    () => page.goto(`${base}/console/#/tasks?state=all&activityId=Appraise`),
    () => page.waitForSelector('#task-list, #task-list-empty'),
  )
  t.same(
    await page.$$eval('#task-list tbody tr', (rows) => rows.map((r) => r.getAttribute('data-task'))),
    byStep.items.map((x: { id: string }) => x.id),
    'the steps view lists the API’s tasks of that step',
  )

  // Indicators: each rate and its formula are the API's.
  const ind = await get(`/api/supervision/indicators?${period}`)
  loads.indicators = await timed(
    () => page.goto(`${base}/console/#/indicators?${period}`),
    () => page.waitForSelector('#indicators'),
  )
  const rates = await page.$$eval('#indicators tbody tr', (rows) =>
    Object.fromEntries(rows.map((r) => [r.getAttribute('data-indicator'), r.querySelector('[data-rate]')!.getAttribute('data-rate')])),
  )
  for (const [key, shown] of Object.entries(rates)) t.equal(shown, ind[key].rate === null ? '' : String(ind[key].rate), `${key} rate`)
  t.match(
    await page.innerText('#indicators tr[data-indicator=onTime] .formula'),
    `${ind.onTime.onTime} hồ sơ giải quyết trước hạn và đúng hạn ÷ ${ind.onTime.finished} hồ sơ đã giải quyết`,
    'the on-time formula with its numbers',
  )
  const report = await get(`/api/supervision/report?${period}`)
  t.equal(Number(await page.innerText('#report-total [data-col=received]')), report.total.received, 'the report total')

  // Handoffs: a supervisor sees the handoffs, and incidents are for officers and admins.
  loads.handoffs = await timed(
    () => page.goto(`${base}/console/#/handoffs`),
    () => page.waitForSelector('#handoffs-empty, #handoff-agencies'),
  )
  t.ok(await page.$('#incidents-hidden'), 'a supervisor does not manage incidents')
  const adminToken = await ctx.token({ roles: ['admin'], agency: 'SO-NOI-VU' })
  await page.evaluate((token) => sessionStorage.setItem('dvc.console.token', token), adminToken)
  await page.goto(`${base}/console/#/handoffs?agency=UBND-XA-DEMO`)
  await page.waitForSelector('#incidents-empty')
  t.ok(await page.$('#handoffs-empty, #handoff-agencies'), 'an admin sees the handoffs and the incidents')

  for (const [name, ms] of Object.entries(loads)) t.ok(ms < 1000, `${name} loads in under 1 s (${ms} ms)`)
  t.same(errors(), [], 'no browser error on any page')
})

t.test('the handoffs page: an officer sees an open incident with its error and closes it with a note', async (t) => {
  const ctx = await testContext(t, { clock: manualClock(vn('2026-11-23T09:00')) })
  t.equal((await ctx.deploy(fixture('bpmn/external-police.bpmn'))).status, 201)
  const officerToken = await ctx.token({ userId: 'can-bo', roles: ['officer'], groups: ['one-stop', 'specialists', 'leaders'] })
  const officer = { authorization: `Bearer ${officerToken}` }
  const submitted = await ctx.app.inject({
    method: 'POST',
    url: '/api/dossiers',
    headers: officer,
    payload: { procedureCode: 'PoliceCheckDemo', applicant: { name: 'Lê Thị Hoa', idNumber: '001190054321' }, channel: 1, data: {} },
  })
  t.equal(submitted.statusCode, 201)
  // The receiving agency's worker fails the handoff with no retry left: an incident opens.
  const worker = {
    authorization: `Bearer ${await ctx.token({ userId: 'ca-xa', roles: ['worker'], agency: 'CA-XA', topics: ['police-residence'] })}`,
  }
  const fetched = await ctx.app.inject({
    method: 'POST',
    url: '/api/external-tasks/fetch-and-lock',
    headers: worker,
    payload: { workerId: 'ca-xa-1', maxTasks: 1, topics: [{ topicName: 'police-residence', lockDuration: 60_000 }] },
  })
  t.equal(fetched.json().length, 1)
  const failed = await ctx.app.inject({
    method: 'POST',
    url: `/api/external-tasks/${fetched.json()[0].id}/failure`,
    headers: worker,
    payload: { workerId: 'ca-xa-1', errorMessage: 'Không kết nối được CSDL dân cư', retries: 0 },
  })
  t.equal(failed.statusCode, 200)
  const open = (await ctx.app.inject({ url: '/api/incidents?state=open', headers: officer })).json().items
  t.equal(open.length, 1, 'one open incident')

  const base = await ctx.app.listen({ port: 0, host: '127.0.0.1' })
  const browser = await launchBrowser(t)
  const { page, errors } = await newPage(browser)
  await page.goto(`${base}/console/#/sign-in`)
  await page.fill('#token', officerToken)
  await page.click('#token-form button[type=submit]')
  await page.waitForSelector('#my-tasks, #my-tasks-empty')
  await page.goto(`${base}/console/#/handoffs`)
  await page.waitForSelector('#incidents')
  t.ok(await page.$('#handoffs-hidden'), 'an officer does not see the supervisors’ handoff table')
  t.match(
    await page.innerText(`#incidents tr[data-incident="${open[0].id}"]`),
    'Không kết nối được CSDL dân cư',
    'the incident with its error',
  )
  await page.click(`[data-resolve="${open[0].id}"]`)
  t.equal(await page.innerText('#incident-error'), 'Hãy ghi chú lý do đóng sự cố', 'closing needs a note')
  await page.fill(`[data-note="${open[0].id}"]`, 'Đã xác minh trực tiếp với công an xã')
  await page.click(`[data-resolve="${open[0].id}"]`)
  await page.waitForSelector('#incidents-empty')
  const after = (await ctx.app.inject({ url: `/api/incidents?state=resolved`, headers: officer })).json().items
  t.match(
    after,
    [{ id: open[0].id, state: 'resolved', note: 'Đã xác minh trực tiếp với công an xã', resolvedBy: 'can-bo' }],
    'resolved with the note',
  )
  t.same(
    errors().filter((e) => !/status of 403/.test(e)),
    [],
    'no browser error',
  )
})

t.test('an officer signs in and lands on their own queue: the steps they hold or may claim, with the working time left', async (t) => {
  const clock = manualClock(vn('2026-11-23T08:00'))
  const ctx = await testContext(t, { clock })
  t.equal((await ctx.deploy(fixture('three-step-procedure.bpmn'))).status, 201)
  const counterToken = await ctx.token({ userId: 'can-bo-mot-cua', roles: ['officer'], groups: ['one-stop'], agency: 'UBND-XA-DEMO' })
  const counter = { authorization: `Bearer ${counterToken}` }
  const specialist = await auth(ctx, { userId: 'chuyen-vien', roles: ['officer'], groups: ['specialists'], agency: 'UBND-XA-DEMO' })
  const colleague = await auth(ctx, { userId: 'dong-nghiep', roles: ['officer'], groups: ['one-stop'], agency: 'UBND-XA-DEMO' })
  const ids: string[] = []
  for (const name of ['Hộ Nguyễn Văn A', 'Hộ Trần Thị B', 'Hộ Lê Văn C', 'Hộ Phạm Thị D']) {
    const r = await ctx.app.inject({ method: 'POST', url: '/api/dossiers', headers: counter, payload: S3(name) })
    t.equal(r.statusCode, 201)
    ids.push(r.json().dossier.id)
  }
  const receiveOf = async (id: string) =>
    (await ctx.app.inject({ url: `/api/dossiers/${id}`, headers: counter }))
      .json()
      .tasks.find((x: { status: string }) => x.status === 'open')
  // The counter officer holds one, a colleague holds another; one goes on to the specialists.
  const mine = await receiveOf(ids[0]!)
  t.equal((await ctx.app.inject({ method: 'POST', url: `/api/tasks/${mine.id}/claim`, headers: counter })).statusCode, 200)
  const theirs = await receiveOf(ids[1]!)
  t.equal((await ctx.app.inject({ method: 'POST', url: `/api/tasks/${theirs.id}/claim`, headers: colleague })).statusCode, 200)
  const third = await receiveOf(ids[2]!)
  const r = await ctx.app.inject({
    method: 'POST',
    url: `/api/tasks/${third.id}/complete`,
    headers: counter,
    payload: { variables: { valid: true } },
  })
  t.equal(r.statusCode, 200)
  // Past the counter step's 4 working hours (08:00 + 4 h = 14:00: 11:30–13:30 is no working time): late by an hour.
  clock.set(vn('2026-11-23T15:00'))

  const queue = (await ctx.app.inject({ url: '/api/tasks/queue', headers: counter })).json()
  const expected = [mine.id, (await receiveOf(ids[3]!)).id]
  t.same(
    queue.items.map((x: { id: string }) => x.id).sort(),
    [...expected].sort(),
    'the queue: the task they hold and the unclaimed one of their group; not the colleague’s, not the specialists’',
  )
  t.ok(
    queue.items.every((x: { workingMinutesLeft: number }) => x.workingMinutesLeft === -60),
    'overdue by one working hour',
  )
  const specialistQueue = (await ctx.app.inject({ url: '/api/tasks/queue', headers: specialist })).json()
  t.same(
    specialistQueue.items.map((x: { dossierId: string }) => x.dossierId),
    [ids[2]],
    'the specialist sees the appraisal',
  )

  const base = await ctx.app.listen({ port: 0, host: '127.0.0.1' })
  const browser = await launchBrowser(t)
  const { page, errors } = await newPage(browser)
  await page.goto(`${base}/console/`)
  await page.waitForURL(/#\/sign-in/)
  await page.fill('#token', counterToken)
  await page.click('#token-form button[type=submit]')
  await page.waitForSelector('#my-tasks')
  t.match(page.url(), /#\/my-tasks$/, 'an officer lands on their queue')
  t.same(
    await page.$$eval('#my-tasks tbody tr', (rows) => rows.map((row) => row.getAttribute('data-task'))),
    queue.items.map((x: { id: string }) => x.id),
    'the page shows the API’s queue, in its order',
  )
  const first = await page.$$eval('#my-tasks tbody tr', (rows) =>
    rows.map((row) => [...row.querySelectorAll('td')].map((c) => c.textContent!.trim())),
  )
  t.ok(
    first.every((cells) => cells[5] === 'quá 1 giờ'),
    'with how late each step is, in working time',
  )
  t.ok(
    first.some((cells) => cells[3] === 'Bạn'),
    'the task they hold says so',
  )
  t.same(
    await page.$$eval('#nav a:not([hidden])', (as) => as.map((a) => a.getAttribute('data-nav'))),
    ['my-tasks', 'procedures', 'handoffs'],
    'the menu offers what an officer may open',
  )
  await screenshot(page, 'console-my-tasks')
  await page.click(`#my-tasks a[href="#/dossiers/${ids[0]}"]`)
  await page.waitForSelector('#history')
  t.equal(
    await page.textContent('#dossier-code'),
    queue.items.find((x: { id: string }) => x.id === mine.id).dossierCode,
    'a row opens its dossier',
  )

  // A supervisor's page is not theirs: a Vietnamese note and the way back to their queue.
  await page.goto(`${base}/console/#/today`)
  await page.waitForSelector('#forbidden-home')
  t.equal(await page.getAttribute('#forbidden-home a', 'href'), '#/my-tasks')
  t.same(
    errors().filter((e) => !/status of 403/.test(e)),
    [],
    'no browser error (Today refused by the API is shown as a message)',
  )
})

t.test('GET /api/tasks/queue: officers and admins only, validated, one page at a time', async (t) => {
  const ctx = await testContext(t, { clock: manualClock(vn('2026-11-23T08:00')) })
  t.equal((await ctx.deploy(fixture('three-step-procedure.bpmn'))).status, 201)
  const officer = await auth(ctx, { userId: 'mot-cua', roles: ['officer'], groups: ['one-stop'], agency: 'UBND-XA-DEMO' })
  for (let i = 0; i < 3; i++)
    t.equal((await ctx.app.inject({ method: 'POST', url: '/api/dossiers', headers: officer, payload: S3(`Hộ ${i}`) })).statusCode, 201)
  const p1 = (await ctx.app.inject({ url: '/api/tasks/queue?limit=2', headers: officer })).json()
  t.equal(p1.items.length, 2)
  const p2 = (await ctx.app.inject({ url: `/api/tasks/queue?limit=2&cursor=${p1.nextCursor}`, headers: officer })).json()
  t.equal(p2.items.length, 1)
  t.equal(p2.nextCursor, null)
  t.equal(new Set([...p1.items, ...p2.items].map((x: { id: string }) => x.id)).size, 3, 'three tasks over two pages')
  const supervisor = await auth(ctx, { roles: ['supervisor'], agency: 'UBND-XA-DEMO' })
  const refused = await ctx.app.inject({ url: '/api/tasks/queue', headers: supervisor })
  t.equal(refused.statusCode, 403)
  t.equal(refused.json().error.code, 'FORBIDDEN')
  const other = await ctx.app.inject({ url: '/api/tasks/queue?agency=SO-TU-PHAP-DEMO', headers: officer })
  t.equal(other.statusCode, 403, 'not another agency’s queue')
  for (const q of ['limit=51', 'limit=0', 'cursor=nope', 'foo=1']) {
    const bad = await ctx.app.inject({ url: `/api/tasks/queue?${q}`, headers: officer })
    t.equal(bad.statusCode, 400, q)
    t.match(bad.json().error.code, /VALIDATION_FAILED|CURSOR_INVALID/, q)
  }
  const admin = await auth(ctx, { roles: ['admin'], agency: 'SO-NOI-VU' })
  t.equal((await ctx.app.inject({ url: '/api/tasks/queue', headers: admin })).json().items.length, 3, 'an admin: every agency')
})

t.test('on a seeded province, every console page shows and fetches at most one page of rows per call', slow, async (t) => {
  // The benchmark's pages (bench/supervision.ts) on a smaller seed: 10,000 dossiers, so that the lists
  // of all agencies hold more rows than a page.
  const now = new Date('2026-12-01T03:00:00Z')
  const ctx = await testContext(t, { clock: manualClock(now) })
  await seedProvince(ctx.db, { dossiers: 10_000, now })
  const admin = await ctx.token({ userId: 'qtv', roles: ['admin'], agency: 'SO-NOI-VU' })
  const pages = await benchPages(ctx.db, (p) => ctx.token(p), admin)
  // The supervisors' pages once more as an admin: every agency, the longest lists.
  const all = [
    ...pages,
    ...pages
      .filter((p) => p.token !== admin && p.name !== "an officer's queue")
      .map((p) => ({ ...p, name: `${p.name} (admin)`, token: admin })),
  ]
  const base = await ctx.app.listen({ port: 0, host: '127.0.0.1' })
  const shown = await consolePagesBench(base, all, 1)
  t.equal(shown.length, all.length, 'every page showed its content')
  for (const p of shown) {
    t.ok(p.responses >= 1, `${p.name}: fetched from the API`)
    t.ok(p.maxRows <= PAGE_ROWS, `${p.name}: at most one page of rows in a response (${p.maxRows})`)
    for (const c of p.calls)
      if (/[?&]limit=/.test(c.url)) t.ok(c.rows <= Number(/[?&]limit=(\d+)/.exec(c.url)![1]), `${c.url}: no more rows than it asked for`)
  }
  const overdue = shown.find((p) => p.name === 'overdue list (admin)')!
  t.equal(overdue.maxRows, 50, 'the overdue list of every agency has more than a page: it shows the first 50')
  const next = await ctx.app.inject({
    url: '/api/supervision/dossiers?figure=overdue&limit=50',
    headers: { authorization: `Bearer ${admin}` },
  })
  t.ok(next.json().nextCursor, 'and the rest is one "Trang sau" away')
})
