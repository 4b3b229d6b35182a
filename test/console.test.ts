import t from 'tap'
import { manualClock } from '../src/clock.ts'
import { auth, fixture, testContext } from './helpers/context.ts'
import { launchBrowser, newPage, screenshot } from './helpers/browser.ts'

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
    await ctx.app.inject({ url: '/api/supervision/deadlines?state=overdue', headers: { authorization: `Bearer ${supervisorToken}` } })
  ).json().items as Array<{ id: string; code: string; status: string; statusLabel: string }>
  t.equal(fromApi.length, 3, 'three overdue dossiers')

  const base = await ctx.app.listen({ port: 0, host: '127.0.0.1' })
  const browser = await launchBrowser(t)
  const { page, errors } = await newPage(browser)

  await page.goto(`${base}/console`)
  await page.waitForURL(/#\/sign-in/)
  await page.fill('#token', supervisorToken)
  await page.click('#token-form button[type=submit]')
  await page.waitForSelector('#deadline-list')
  const codes = await page.$$eval('#deadline-list tbody tr td:first-child a', (as) => as.map((a) => a.textContent))
  t.same(
    codes,
    fromApi.map((d) => d.code),
    'the overdue list shows what the API answers, in its order',
  )
  t.equal(
    (await page.innerText('#deadline-list tbody tr td:nth-child(5)')).trim(),
    'quá 3 giờ',
    'how late, in working time (-180 working minutes)',
  )
  await screenshot(page, 'console-overdue')

  await page.click(`#deadline-list a[href="#/dossiers/${fromApi[1]!.id}"]`)
  await page.waitForSelector('#history')
  t.equal(await page.textContent('#dossier-code'), fromApi[1]!.code, 'the clicked dossier opens')
  t.equal(await page.textContent('#dossier-status'), fromApi[1]!.statusLabel)
  t.ok((await page.$$('#history li')).length >= 1, 'its process record is shown')
  t.ok((await page.$$('#open-tasks tbody tr')).length >= 1, 'with its open task')
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
