import t from 'tap'
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHmac, timingSafeEqual } from 'node:crypto'
import { transaction } from '../src/db/unit-of-work.ts'
import { createCitizenNotices } from '../src/notifications/citizen-notices.ts'
import { renderCitizenMessage } from '../src/notifications/citizen-templates.ts'
import { testContext, type Teardown } from './helpers/context.ts'
import { caller } from './helpers/api.ts'
import { clockOf } from './helpers/clock.ts'
import { startSmtp } from './helpers/smtp.ts'
import { startNotifier } from './helpers/notifier.ts'
import { loadConfig } from '../src/config.ts'

const S3 = fs.readFileSync(new URL('../processes/s3-ho-kinh-doanh.bpmn', import.meta.url), 'utf8')
const AGENCY = 'UBND-XA-DEMO'
const EMAIL = 'nguyen.van.a@example.vn'

async function world(t: Teardown & { equal: (a: unknown, b: unknown) => void }, opts: { refuse?: (n: number) => boolean } = {}) {
  const smtp = await startSmtp(t, opts)
  const ctx = await testContext(t, {
    now: '2026-11-23T02:00:00Z', // Mon 23/11/2026 09:00 in Vietnam
    env: { SMTP_URL: smtp.url, MAIL_FROM: 'Một cửa UBND xã <motcua@ubnd-xa.example.vn>', PUBLIC_BASE_URL: 'https://dvc.example.vn' },
  })
  t.equal((await ctx.deploy(S3)).status, 201)
  const notifier = await startNotifier(t, ctx)
  const officer = await caller(ctx, { userId: 'mc-1', roles: ['officer'], groups: ['one-stop', 'specialists', 'leaders'], agency: AGENCY })
  const citizen = await caller(ctx, { userId: 'cd-1', roles: ['citizen'] })
  return { smtp, ctx, notifier, officer, citizen }
}

const submission = (applicant: Record<string, string>, channel = 2) => ({
  procedureCode: '2.000575',
  applicant: { name: 'Nguyễn Văn A', idNumber: '001099001234', ...applicant },
  channel,
  data: {},
})

t.test('an accepted dossier mails its applicant exactly one receipt: code, appointment in Vietnam time, lookup link', async (t) => {
  const { smtp, ctx, notifier, officer, citizen } = await world(t)
  const sub = await citizen.post('/api/dossiers', submission({ email: EMAIL }))
  const { id, code } = sub.body.dossier
  t.equal(smtp.mails.length, 0, 'nothing is sent for a dossier that is not accepted yet')
  t.equal((await officer.act(id, 'accept', {})).status, 200)
  await notifier.settled('the receipt mail', async () => (await notifier.rows(id))[0]?.state === 'sent')
  const mail = smtp.mails[0]!
  t.equal(mail.subject, `Tiếp nhận hồ sơ ${code}`)
  t.equal(mail.to, EMAIL)
  t.match(mail.text, 'Kính gửi ông/bà Nguyễn Văn A,')
  t.match(mail.text, `"Đăng ký thành lập hộ kinh doanh" của ông/bà đã được tiếp nhận với mã hồ sơ ${code}`)
  t.match(mail.text, 'Ngày hẹn trả kết quả: 09:00 ngày 26/11/2026 (giờ Việt Nam).', 'three working days later, in Vietnam time')
  t.match(mail.text, `https://dvc.example.vn/public/lookup?code=${encodeURIComponent(code)}`)
  t.match(mail.html, `<a href="https://dvc.example.vn/public/lookup?code=${encodeURIComponent(code)}">`)
  const [row] = await notifier.rows(id)
  t.equal(mail.messageId, `<cn-${row.id}@ubnd-xa.example.vn>`, 'the Message-ID names the row')
  t.match(row, { event: 'receipt', channel: 'email', state: 'sent', attempts: 1, message_id: mail.messageId })

  // The applicant sees what was sent, address masked; so does the agency's officer.
  const seen = await citizen.get(`/api/dossiers/${id}/notifications`)
  t.equal(seen.status, 200)
  t.match(seen.body.items, [
    { event: 'receipt', channel: 'email', address: 'ng***@example.vn', state: 'sent', attempts: 1, lastError: null },
  ])
  t.ok(seen.body.items[0].sentAt)
  t.equal((await officer.get(`/api/dossiers/${id}/notifications`)).body.items.length, 1)
  const stranger = await caller(ctx, { userId: 'cd-2', roles: ['citizen'] })
  t.equal((await stranger.get(`/api/dossiers/${id}/notifications`)).status, 404, 'another citizen does not see them')

  // Later steps never send the receipt again; the result and the payment request each mail once.
  await officer.act(id, 'propose', {})
  t.equal((await officer.act(id, 'approve', {})).body.dossierStatus, 'RESULT_READY')
  await notifier.settled('the result mail', async () => smtp.mails.length === 2)
  const result = smtp.mails[1]!
  t.equal(result.subject, `Hồ sơ ${code} đã có kết quả`)
  t.match(result.text, 'nhận kết quả điện tử trên Cổng Dịch vụ công', 'an online dossier: the electronic result')

  const pay = await citizen.post(`/api/dossiers/${id}/payments`)
  t.equal(pay.status, 201)
  await citizen.post(`/api/dossiers/${id}/payments`) // asked again: the same pending request, no new message
  await notifier.settled('the payment mail', async () => smtp.mails.length === 3)
  const payment = smtp.mails[2]!
  t.equal(payment.subject, `Yêu cầu thanh toán cho hồ sơ ${code}`)
  t.match(payment.text, 'phí, lệ phí cần thanh toán: 100.000 đồng')
  t.match(payment.text, `Mã thanh toán: ${pay.body.payment.reference}`)
  await notifier.settled('every row committed as sent', async () => (await notifier.rows(id)).every((r: any) => r.state === 'sent'))
  t.same(
    (await notifier.rows(id)).map((r: any) => [r.event, r.state]),
    [
      ['receipt', 'sent'],
      ['result_ready', 'sent'],
      ['payment_request', 'sent'],
    ],
  )
  t.equal(smtp.mails.length, 3, 'one mail per event')
})

t.test('a supplement request mails the items and the reason; the apology (Mẫu 04) mails the new date and its reason', async (t) => {
  const { smtp, notifier, officer } = await world(t)
  const sub = await officer.post('/api/dossiers', submission({ email: EMAIL }, 1))
  const { id, code } = sub.body.dossier
  const supp = await officer.act(id, 'request-supplement', { items: ['HDTN', 'GDN'], reason: 'Hợp đồng thuê nhà đã hết hạn <cũ>' })
  t.equal(supp.status, 200)
  await notifier.settled('the supplement mail', async () => smtp.mails.length === 1)
  const mail = smtp.mails[0]!
  t.equal(mail.subject, `Yêu cầu bổ sung hồ sơ ${code}`)
  t.match(mail.text, 'Lý do: Hợp đồng thuê nhà đã hết hạn <cũ>')
  t.match(mail.text, '- Bản sao hợp đồng thuê nhà hoặc giấy tờ về quyền sử dụng địa điểm\n- Giấy đề nghị đăng ký hộ kinh doanh')
  t.match(mail.html, 'Hợp đồng thuê nhà đã hết hạn &lt;cũ&gt;', 'values are HTML-escaped')
  t.notMatch(mail.html, '<cũ>')

  await officer.post(`/api/dossiers/${id}/supplement`, { note: 'Đã nộp bổ sung' })
  await officer.act(id, 'accept', {})
  await notifier.settled('the receipt mail', async () => smtp.mails.length === 2)
  const ext = await officer.post(`/api/dossiers/${id}/extension`, {
    newAppointmentAt: '2026-11-27T09:30:00Z',
    reason: 'Cần xác minh thêm địa điểm kinh doanh',
  })
  t.equal(ext.status, 200, JSON.stringify(ext.body))
  await notifier.settled('the apology mail', async () => smtp.mails.length === 3)
  const apology = smtp.mails[2]!
  t.equal(apology.subject, `Thư xin lỗi và hẹn lại ngày trả kết quả hồ sơ ${code}`)
  t.match(apology.text, 'Lý do: Cần xác minh thêm địa điểm kinh doanh')
  t.match(apology.text, 'Ngày hẹn trả kết quả mới: 16:30 ngày 27/11/2026 (giờ Việt Nam).')
  t.match(apology.text, '(ngày hẹn cũ 09:00 ngày 26/11/2026)')
})

t.test('an applicant without email or phone: nothing is queued, and the dossier shows it (state no_address)', async (t) => {
  const { smtp, notifier, officer } = await world(t)
  const { id } = (await officer.post('/api/dossiers', submission({}, 1))).body.dossier
  await officer.act(id, 'accept', {})
  t.match((await officer.get(`/api/dossiers/${id}/notifications`)).body.items, [
    { event: 'receipt', channel: 'none', address: null, state: 'no_address', attempts: 0 },
  ])
  t.equal(Number((await notifier.rows(id)).length), 1)
  t.equal(smtp.transactions(), 0)
})

t.test('an SMTP server that answers 451 once: retried after the back-off on the injected clock, delivered once', async (t) => {
  const { smtp, ctx, notifier, officer } = await world(t, { refuse: (n) => n === 1 })
  const { id } = (await officer.post('/api/dossiers', submission({ email: EMAIL }, 1))).body.dossier
  await officer.act(id, 'accept', {})
  await notifier.settled('the first attempt', async () => (await notifier.rows(id))[0]?.attempts === 1)
  const [row] = await notifier.rows(id)
  t.match(row, { state: 'pending', attempts: 1, retries_left: 2 })
  t.match(row.last_error, /451/)
  t.equal(new Date(row.next_attempt_at).toISOString(), '2026-11-23T02:01:00.000Z', 'next attempt one minute later')
  t.equal(await notifier.sweep(), 0, 'not due before its time')
  clockOf(ctx).advance(60_000)
  t.equal(await notifier.sweep(), 1)
  await notifier.settled('the retry', async () => (await notifier.rows(id))[0]?.state === 'sent')
  t.equal(smtp.mails.length, 1, 'delivered once')
  t.match((await notifier.rows(id))[0], { state: 'sent', attempts: 2 })
})

t.test('an SMTP server that always refuses: failed after the retries, shown to officers, sent when an officer retries', async (t) => {
  let refusing = true
  const { smtp, ctx, notifier, officer, citizen } = await world(t, { refuse: () => refusing })
  const { id } = (await citizen.post('/api/dossiers', submission({ email: EMAIL }))).body.dossier
  await officer.act(id, 'accept', {})
  for (const [attempts, wait] of [
    [1, 60_000],
    [2, 5 * 60_000],
    [3, 30 * 60_000],
  ] as const) {
    await notifier.settled(`attempt ${attempts}`, async () => (await notifier.rows(id))[0]?.attempts === attempts)
    clockOf(ctx).advance(wait)
    t.equal(await notifier.sweep(), 1, `retry ${attempts} due after ${wait / 60_000} min`)
  }
  await notifier.settled('the last attempt', async () => (await notifier.rows(id))[0]?.state === 'failed')
  const view = (await officer.get(`/api/dossiers/${id}/notifications`)).body.items[0]
  t.match(view, { state: 'failed', attempts: 4, retriesLeft: 0, nextAttemptAt: null, sentAt: null })
  t.match(view.lastError, /451/)
  const history = (await officer.get(`/api/dossiers/${id}`)).body.history
  t.ok(
    history.some((h: any) => h.action === 'citizen_notification.failed' && h.details.channel === 'email'),
    'the failure is in the dossier record',
  )
  t.equal(smtp.mails.length, 0)

  // Only officers of the agency (and admins) retry, only a failed row.
  t.equal((await citizen.post(`/api/citizen-notifications/${view.id}/retry`)).status, 403)
  const foreign = await caller(ctx, { userId: 'mc-9', roles: ['officer'], groups: ['one-stop'], agency: 'UBND-XA-KHAC' })
  t.equal((await foreign.post(`/api/citizen-notifications/${view.id}/retry`)).body.error.code, 'NOTIFICATION_NOT_FOUND')
  refusing = false
  const retried = await officer.post(`/api/citizen-notifications/${view.id}/retry`)
  t.equal(retried.status, 200)
  t.match(retried.body, { state: 'pending', retriesLeft: 3 })
  await notifier.settled('the retried mail', async () => (await notifier.rows(id))[0]?.state === 'sent')
  t.equal(smtp.mails.length, 1)
  t.match((await officer.get(`/api/dossiers/${id}/notifications`)).body.items[0], { state: 'sent', attempts: 5 })
  const again = await officer.post(`/api/citizen-notifications/${view.id}/retry`)
  t.equal(again.status, 409)
  t.equal(again.body.error.code, 'NOTIFICATION_NOT_RETRYABLE', 'a sent notification is not sent again')
  t.equal((await officer.post('/api/citizen-notifications/not-a-uuid/retry')).status, 400)
})

/** A real HTTP receiver: keeps each request's headers and raw body; answers `status(n)` to the n-th request. */
async function httpReceiver(t: Teardown, status: (n: number) => number = () => 200) {
  const got: Array<{ path: string; headers: http.IncomingHttpHeaders; body: string }> = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      got.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
      res.writeHead(status(got.length), { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise((r) => server.close(r)))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got }
}

t.test('SMS through the gateway with an idempotency key; the webhook is signed and its signature verifies', async (t) => {
  const secret = 'webhook-secret-for-the-test-0123456789'
  const receiver = await httpReceiver(t, (n) => (n === 1 ? 503 : 200))
  const ctx = await testContext(t, {
    now: '2026-11-23T02:00:00Z',
    env: { SMS_GATEWAY_URL: `${receiver.url}/sms`, NOTIFY_WEBHOOK_URL: `${receiver.url}/hook`, WEBHOOK_SECRET: secret },
  })
  await ctx.deploy(S3)
  const notifier = await startNotifier(t, ctx)
  const officer = await caller(ctx, { userId: 'mc-1', roles: ['officer'], groups: ['one-stop'], agency: AGENCY })
  const { id, code } = (await officer.post('/api/dossiers', submission({ phone: '0912345678' }, 1))).body.dossier
  await officer.act(id, 'accept', {})
  await notifier.settled('both first attempts', async () => (await notifier.rows(id)).every((r: any) => r.attempts === 1))
  t.equal(receiver.got.length, 2)
  const failed = (await notifier.rows(id)).find((r: any) => r.state === 'pending')
  t.match(failed?.last_error, /503/, 'the gateway that answered 503 is retried')
  clockOf(ctx).advance(60_000)
  t.equal(await notifier.sweep(), 1)
  await notifier.settled('every row sent', async () => (await notifier.rows(id)).every((r: any) => r.state === 'sent'))

  const sms = receiver.got.filter((r) => r.path === '/sms').at(-1)
  const smsRow = (await notifier.rows(id)).find((r: any) => r.channel === 'sms')
  t.ok(sms, 'the SMS gateway got the message')
  t.equal(sms!.headers['idempotency-key'], smsRow.id)
  t.match(JSON.parse(sms!.body), {
    to: '0912345678',
    reference: smsRow.id,
    text: `Ho so ${code} da duoc tiep nhan. Hen tra ket qua 09:00 26/11/2026.`,
  })

  const hooks = receiver.got.filter((r) => r.path === '/hook')
  const hook = hooks.at(-1)!
  const expected = `sha256=${createHmac('sha256', secret).update(hook.body).digest('hex')}`
  const given = String(hook.headers['x-signature'])
  t.ok(given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected)), 'the signature verifies')
  t.notOk(
    timingSafeEqual(Buffer.from(given), Buffer.from(`sha256=${createHmac('sha256', 'another-secret').update(hook.body).digest('hex')}`)),
    'and not with another key',
  )
  const body = JSON.parse(hook.body)
  t.match(body, { dossierId: id, event: 'receipt', subject: `Tiếp nhận hồ sơ ${code}`, data: { code } })
  t.equal(hook.headers['idempotency-key'], body.id)
  t.match((await officer.get(`/api/dossiers/${id}/notifications`)).body.items, [
    { channel: 'sms', address: '*******678', state: 'sent' },
    { channel: 'webhook', address: receiver.url, state: 'sent' },
  ])
})

t.test('an event decided twice (a replayed step) makes one row and one job per channel', async (t) => {
  const { ctx, officer } = await world(t)
  const { id } = (await officer.post('/api/dossiers', submission({ email: EMAIL }, 1))).body.dossier
  const d = (await ctx.db('dossiers').where({ id }).first()) as any
  const notices = createCitizenNotices({ repo: ctx.system.repos.citizenNotifications, webhookUrl: undefined })
  for (let i = 0; i < 2; i++)
    await transaction(ctx.db, async (uow) => {
      notices.queue(uow, d, 'result_ready', { sequence: 1, data: { procedureName: 'X', channel: 1 }, now: ctx.clock.now() })
      return uow.commit(undefined)
    })
  t.equal((await ctx.db('citizen_notifications').where({ dossier_id: id, event: 'result_ready' })).length, 1)
  const jobs = await ctx.db('outbox').where({ topic: 'citizen-notification.send' })
  t.equal(jobs.filter((j: any) => j.payload.attempt === 0).length, 1, 'one delivery job')
})

t.test('a template never renders with a missing field', async (t) => {
  t.throws(
    () =>
      renderCitizenMessage(
        'supplement_request',
        { code: 'X', procedureName: 'P', applicantName: 'A', reason: 'r', items: [] },
        { publicBaseUrl: 'https://x' },
      ),
    { message: 'mẫu thông báo "supplement_request" thiếu dữ liệu: items' },
  )
  const m = renderCitizenMessage(
    'payment_request',
    { code: 'X', procedureName: 'P', applicantName: 'A', amount: 1234567, reference: 'R1' },
    { publicBaseUrl: 'https://x' },
  )
  t.match(m.text, '1.234.567 đồng')
  t.notMatch(m.text, /undefined|null|\$\{/)
})

t.test('notification endpoints are checked at start: URL schemes, and a webhook needs its signing key', async (t) => {
  t.throws(() => loadConfig({ SMTP_URL: 'http://mail.example.vn' }), { code: 'CONFIG_INVALID', message: /SMTP_URL/ })
  t.throws(() => loadConfig({ SMS_GATEWAY_URL: 'not a url' }), { code: 'CONFIG_INVALID', message: /SMS_GATEWAY_URL/ })
  t.throws(() => loadConfig({ NOTIFY_WEBHOOK_URL: 'https://hook.example.vn' }), { code: 'CONFIG_INVALID', message: /WEBHOOK_SECRET/ })
  const c = loadConfig({ SMTP_URL: 'smtps://u:p@mail.example.vn:465', PUBLIC_BASE_URL: 'https://dvc.example.vn/' })
  t.equal(c.smtpUrl, 'smtps://u:p@mail.example.vn:465')
  t.equal(c.publicBaseUrl, 'https://dvc.example.vn', 'no trailing slash in the lookup link')
})

t.test('without SMTP_URL an email notification stays pending: attempted by no one, never marked sent', async (t) => {
  const ctx = await testContext(t, { now: '2026-11-23T02:00:00Z' })
  await ctx.deploy(S3)
  const notifier = await startNotifier(t, ctx)
  const officer = await caller(ctx, { userId: 'mc-1', roles: ['officer'], groups: ['one-stop'], agency: AGENCY })
  const { id } = (await officer.post('/api/dossiers', submission({ email: EMAIL }, 1))).body.dossier
  await officer.act(id, 'accept', {})
  await notifier.settled('the job taken by the worker', async () => (await notifier.jobCounts()).completed === 1)
  t.match(await notifier.rows(id), [{ channel: 'email', state: 'pending', attempts: 0, sent_at: null, last_error: null }])
  t.equal(await notifier.sweep(), 0, 'the due pass leaves a channel without adapter alone')
})
