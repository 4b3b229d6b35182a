import t from 'tap'
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { testContext, type Teardown } from './helpers/context.ts'
import { caller } from './helpers/api.ts'
import { testClock } from './helpers/clock.ts'
import { signBody } from '../src/handoffs/signature.ts'
import { loadConfig } from '../src/config.ts'

/**
 * Public postal service (bưu chính công ích) through the `postal` adapter, on the sample S3 and the
 * shared skeleton: a pickup of a dossier submitted by post, the delivery of a result the applicant
 * chose to receive by post, and the operator's signed tracking callbacks. The operator is a real
 * HTTP server on a private port; time is the injected clock.
 */
const S3 = fs.readFileSync(new URL('../processes/s3-ho-kinh-doanh.bpmn', import.meta.url), 'utf8')
const AGENCY = 'UBND-XA-DEMO'
const KEY = 'khoa-ky-buu-chinh-cong-ich-0123456789abcdef'
const ADDRESS = 'Số 12 ngõ 34 phố Kim Mã, phường Ngọc Hà, Hà Nội'
const PDF = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n')

/** The postal operator's order API: records each order, answers 202 with a tracking number per order id. */
async function postalOperator(t: Teardown) {
  const orders: Array<{ headers: http.IncomingHttpHeaders; raw: string; body: any }> = []
  const numbers = new Map<string, string>()
  const state: { refuse?: (order: any) => { errorCode: string; errorMessage?: string } | null } = {}
  const server = http.createServer((req, res) => {
    let raw = ''
    req.setEncoding('utf8')
    req.on('data', (c: string) => (raw += c))
    req.on('end', () => {
      const body = JSON.parse(raw)
      orders.push({ headers: req.headers, raw, body })
      const refusal = state.refuse?.(body)
      if (refusal) {
        res.writeHead(422, { 'content-type': 'application/json' })
        return res.end(JSON.stringify(refusal))
      }
      // The same order id (idempotency key) gets the same tracking number.
      if (!numbers.has(body.orderId)) numbers.set(body.orderId, `EP${String(100000000 + numbers.size + 1)}VN`)
      res.writeHead(202, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ trackingNumber: numbers.get(body.orderId) }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/orders`,
    orders,
    /** Orders it refuses (422) from now on. */
    refuse(fn: (order: any) => { errorCode: string; errorMessage?: string } | null) {
      state.refuse = fn
    },
  }
}

async function world(t: Teardown) {
  const operator = await postalOperator(t)
  const clock = testClock('2026-11-23T02:00:00Z') // Mon 23/11/2026 09:00 (UTC+7)
  const ctx = await testContext(t, { clock, env: { POSTAL_URL: operator.url, POSTAL_KEY: KEY } })
  const r = await ctx.deploy(S3)
  if (r.status !== 201) throw new Error(JSON.stringify(r.body))
  const citizen = await caller(ctx, { userId: 'cd-1', roles: ['citizen'] })
  const oneStop = await caller(ctx, { userId: 'mc-1', roles: ['officer'], groups: ['one-stop'], agency: AGENCY })
  const specialist = await caller(ctx, { userId: 'cv-1', roles: ['officer'], groups: ['specialists'], agency: AGENCY })
  const leader = await caller(ctx, { userId: 'ld-1', roles: ['officer'], groups: ['leaders'], agency: AGENCY })
  const admin = await caller(ctx, { userId: 'qt-1', roles: ['admin'] })
  const handoff = async (dossierId: string, topic: string) => ctx.db('handoffs').where({ dossier_id: dossierId, topic }).first()
  const lines = async (dossierId: string) =>
    (await ctx.db('history').where({ dossier_id: dossierId }).orderBy('id')).filter((h) => h.action.startsWith('postal.'))
  /** One tracking callback as the operator sends it, signed with its key (or as told). */
  const track = (body: unknown, opts: { key?: string; at?: Date; raw?: string; tamper?: (raw: string) => string } = {}) => {
    const raw = opts.raw ?? JSON.stringify(body)
    const ts = String(Math.floor((opts.at ?? clock.now()).getTime() / 1000))
    const signature = signBody(opts.key ?? KEY, ts, raw)
    return ctx.app.inject({
      method: 'POST',
      url: '/api/postal/tracking',
      headers: { 'content-type': 'application/json', 'x-tthc-timestamp': ts, 'x-tthc-signature': signature },
      payload: opts.tamper ? opts.tamper(raw) : raw,
    })
  }
  const dispatch = async (dossierId: string, topic: string) => ctx.system.handoffs.dispatch((await handoff(dossierId, topic)).id)
  const openTasks = async (id: string) => (await oneStop.get(`/api/dossiers/${id}`)).body.tasks.map((x: any) => x.activityId)
  /** S3 from acceptance to approval: the result is ready. */
  const resolve = async (id: string) => {
    for (const [as, action] of [
      [oneStop, 'accept'],
      [specialist, 'propose'],
      [leader, 'approve'],
    ] as const) {
      const r = await as.act(id, action, {})
      if (r.status !== 200) throw new Error(`${action}: ${JSON.stringify(r.body)}`)
    }
  }
  return { ctx, clock, operator, citizen, oneStop, admin, handoff, lines, track, dispatch, openTasks, resolve }
}

t.test('a dossier submitted by post: pickup order with the address, tracking lines, the counter step after the hand-over', async (t) => {
  const w = await world(t)
  const sub = await w.citizen.post('/api/dossiers', {
    procedureCode: '2.000575',
    applicant: { name: 'Trần Thị Bình', idNumber: '001099001234', phone: '0912345678', address: ADDRESS },
    channel: 3,
    postal: { pickup: true },
    data: { businessName: 'Hộ kinh doanh Bình An' },
  })
  t.equal(sub.status, 201, JSON.stringify(sub.body))
  const d = sub.body.dossier
  t.same(await w.openTasks(d.id), [], 'no counter task yet: the paper dossier is still at the applicant’s')
  const h = await w.handoff(d.id, 'pickup')
  t.match(h, { adapter: 'postal', state: 'pending', activity_id: 'ThuGomHoSo' })

  t.equal(await w.dispatch(d.id, 'pickup'), 'accepted')
  const order = w.operator.orders[0]!
  t.equal(order.headers['idempotency-key'], h.id, 'the handoff id is the idempotency key')
  t.equal(
    order.headers['x-tthc-signature'],
    signBody(KEY, String(order.headers['x-tthc-timestamp']), order.raw),
    'signed with the postal key',
  )
  t.match(order.body, {
    orderId: h.id,
    service: 'pickup',
    dossierCode: d.code,
    sender: { name: 'Trần Thị Bình', phone: '0912345678', address: ADDRESS },
    recipient: { agency: AGENCY, unitId: '000.10.20.H12' },
    collectFeeAmount: 100000,
    trackingCallbackPath: '/api/postal/tracking',
  })
  const waiting = await w.handoff(d.id, 'pickup')
  t.match(waiting, { state: 'waiting', tracking_number: 'EP100000001VN' }, 'the tracking number is stored on the handoff')

  const tn = 'EP100000001VN'
  w.clock.set('2026-11-23T03:00:00Z')
  t.match((await w.track({ trackingNumber: tn, event: 'accepted', at: '2026-11-23T02:30:00Z' })).json(), {
    recorded: true,
    state: 'waiting',
  })
  w.clock.set('2026-11-23T06:00:00Z')
  t.equal((await w.track({ trackingNumber: tn, event: 'picked_up', at: '2026-11-23T05:45:00Z', place: ADDRESS })).statusCode, 200)
  t.equal(
    (await w.track({ trackingNumber: tn, event: 'in_transit', at: '2026-11-23T05:55:00Z', place: 'Bưu cục Ba Đình' })).statusCode,
    200,
  )
  const late = await w.track({ trackingNumber: tn, event: 'accepted', at: '2026-11-23T02:31:00Z' })
  t.match(late.json(), { recorded: false }, 'an event the parcel already went past changes nothing')
  t.same(await w.openTasks(d.id), [], 'still on its way')

  w.clock.set('2026-11-23T08:00:00Z')
  const delivered = await w.track({
    trackingNumber: tn,
    event: 'delivered',
    at: '2026-11-23T07:40:00Z',
    place: 'Bộ phận Một cửa UBND phường Ngọc Hà',
  })
  t.equal(delivered.statusCode, 200, delivered.body)
  t.match(delivered.json(), { recorded: true, state: 'completed' })
  t.same(await w.openTasks(d.id), ['KiemTraHoSo'], 'handed over: the counter checks the dossier')
  const view = (await w.oneStop.get(`/api/dossiers/${d.id}`)).body
  t.equal(view.dossier.submittedAt, '2026-11-23T07:40:00.000Z', 'submitted when the hand-over record was signed')
  const history = await w.lines(d.id)
  t.same(
    history.map((l) => l.action),
    ['postal.accepted', 'postal.picked_up', 'postal.in_transit', 'postal.delivered'],
  )
  t.equal(history[0].details.text, 'Bưu chính đã nhận đơn thu gom hồ sơ, mã vận đơn EP100000001VN lúc 09:30 23/11/2026.')
  t.equal(history[1].details.text, `Nhân viên bưu chính đã thu gom hồ sơ tại ${ADDRESS} lúc 12:45 23/11/2026.`)
  t.match(
    history[3].details.text,
    /^Bưu chính đã bàn giao hồ sơ cho Bộ phận Một cửa tại Bộ phận Một cửa UBND phường Ngọc Hà \(ký biên bản giao nhận\) lúc 14:40 23\/11\/2026\.$/,
  )

  const again = await w.track({ trackingNumber: tn, event: 'delivered', at: '2026-11-23T07:40:00Z' })
  t.match(again.json(), { recorded: false }, 'the same event again changes nothing')
  const after = await w.track({ trackingNumber: tn, event: 'in_transit', at: '2026-11-23T07:00:00Z' })
  t.match(after.json(), { recorded: false }, 'an event after the hand-over changes nothing')
  t.equal((await w.lines(d.id)).length, 4)
  t.same(await w.openTasks(d.id), ['KiemTraHoSo'])

  t.equal((await w.oneStop.act(d.id, 'accept', {})).status, 200)
  t.equal(
    (await w.oneStop.get(`/api/dossiers/${d.id}`)).body.dossier.appointmentAt,
    '2026-11-26T07:40:00.000Z',
    '3 working days from the hand-over, not from the pickup request',
  )
})

t.test('a result returned by post: delivery order with the address and result documents, returned on the delivery date', async (t) => {
  const w = await world(t)
  const sub = await w.oneStop.post('/api/dossiers', {
    procedureCode: '2.000575',
    applicant: { name: 'Lê Văn Cường', idNumber: '001099005678', phone: '0987654321', address: ADDRESS },
    channel: 1,
    data: { businessName: 'Hộ kinh doanh Cường Thịnh', returnMethod: 'post' },
  })
  t.equal(sub.status, 201, JSON.stringify(sub.body))
  const id = sub.body.dossier.id
  t.notOk(await w.handoff(id, 'pickup'), 'a counter dossier needs no pickup')
  await w.resolve(id)
  t.same(await w.openTasks(id), [], 'no counter return step: the result goes by post')
  t.equal((await w.oneStop.get(`/api/dossiers/${id}`)).body.dossier.status, 'RESULT_READY')
  const up = await w.ctx.app.inject({
    method: 'POST',
    url: `/api/dossiers/${id}/documents?fileName=giay-chung-nhan.pdf&kind=result`,
    headers: { ...w.oneStop.headers, 'content-type': 'application/pdf' },
    payload: PDF,
  })
  t.equal(up.statusCode, 201, up.body)

  t.equal(await w.dispatch(id, 'delivery'), 'accepted')
  const order = w.operator.orders.at(-1)!
  t.match(order.body, {
    service: 'delivery',
    dossierCode: sub.body.dossier.code,
    recipient: { name: 'Lê Văn Cường', phone: '0987654321', address: ADDRESS },
    sender: { agency: AGENCY },
    documents: [{ documentId: up.json().id, fileName: 'giay-chung-nhan.pdf' }],
  })
  t.match(order.body.documents[0].sha256, /^[0-9a-f]{64}$/)
  const tn = (await w.handoff(id, 'delivery')).tracking_number
  t.ok(tn)

  w.clock.set('2026-11-24T02:00:00Z')
  for (const [event, at] of [
    ['accepted', '2026-11-23T09:00:00Z'],
    ['picked_up', '2026-11-23T09:30:00Z'],
    ['in_transit', '2026-11-24T01:00:00Z'],
  ])
    t.match((await w.track({ trackingNumber: tn, event, at })).json(), { recorded: true })
  t.equal((await w.oneStop.get(`/api/dossiers/${id}`)).body.dossier.status, 'RESULT_READY', 'on its way: not returned yet')
  const delivered = await w.track({ trackingNumber: tn, event: 'delivered', at: '2026-11-24T01:50:00Z', place: ADDRESS })
  t.equal(delivered.statusCode, 200, delivered.body)
  const view = (await w.oneStop.get(`/api/dossiers/${id}`)).body
  t.match(view.dossier, { status: 'RETURNED', nationalStatus: 10, returnMethod: 'post', returnedAt: '2026-11-24T01:50:00.000Z' })
  t.same(view.tasks, [])
  const line = view.history.find((h: any) => h.action === 'postal.delivered')
  t.equal(line.details.text, `Bưu chính đã phát kết quả cho người nhận tại ${ADDRESS} lúc 08:50 24/11/2026.`)
})

t.test('forged, replayed, unknown and malformed tracking callbacks change nothing', async (t) => {
  const w = await world(t)
  const sub = await w.citizen.post('/api/dossiers', {
    procedureCode: '2.000575',
    applicant: { name: 'Trần Thị Bình', idNumber: '001099001234', address: ADDRESS },
    channel: 3,
    postal: { pickup: true },
    data: {},
  })
  const id = sub.body.dossier.id
  await w.dispatch(id, 'pickup')
  const tn = (await w.handoff(id, 'pickup')).tracking_number
  const count = async () => ({
    events: Number((await w.ctx.db('postal_events').count('* as n').first())!.n),
    history: Number((await w.ctx.db('history').where({ dossier_id: id }).count('* as n').first())!.n),
    handoff: (await w.handoff(id, 'pickup')).state,
    tasks: await w.openTasks(id),
  })
  const before = await count()
  const delivered = { trackingNumber: tn, event: 'delivered', at: '2026-11-23T01:55:00Z' }

  const forged = await w.track(delivered, { key: 'khoa-gia-mao-khong-phai-cua-buu-chinh-00000' })
  t.equal(forged.statusCode, 401)
  t.equal(forged.json().error.code, 'HANDOFF_SIGNATURE_INVALID')
  const tampered = await w.track(delivered, { tamper: (raw) => raw.replace('01:55', '01:56') })
  t.equal(tampered.statusCode, 401, 'a body changed after signing')
  const unsigned = await w.ctx.app.inject({
    method: 'POST',
    url: '/api/postal/tracking',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify(delivered),
  })
  t.equal(unsigned.statusCode, 401)
  const stale = await w.track(delivered, { at: new Date(w.clock.now().getTime() - 3600_000) })
  t.equal(stale.statusCode, 401, 'a request signed an hour ago is a replay')
  t.equal(stale.json().error.code, 'HANDOFF_TIMESTAMP_EXPIRED')
  const unknown = await w.track({ ...delivered, trackingNumber: 'EP999999999VN' })
  t.equal(unknown.statusCode, 404)
  t.equal(unknown.json().error.code, 'POSTAL_TRACKING_UNKNOWN')
  for (const bad of [
    { ...delivered, event: 'lost' },
    { trackingNumber: tn, event: 'delivered' },
    { ...delivered, at: 'hôm qua' },
    { ...delivered, trackingNumber: 'x' },
    { ...delivered, extra: 1 },
  ]) {
    const r = await w.track(bad)
    t.equal(r.statusCode, 400, JSON.stringify(bad))
    t.equal(r.json().error.code, 'VALIDATION_FAILED')
  }
  const future = await w.track({ ...delivered, at: '2026-11-24T02:00:00Z' })
  t.equal(future.statusCode, 400, 'an event in the future')
  const notJson = await w.track(null, { raw: '{"trackingNumber": ' })
  t.equal(notJson.statusCode, 400)
  t.same(await count(), before, 'nothing was recorded')

  // A genuine event, then the very same signed request replayed within its time window.
  const raw = JSON.stringify({ trackingNumber: tn, event: 'accepted', at: '2026-11-23T01:50:00Z' })
  t.match((await w.track(null, { raw })).json(), { recorded: true })
  const replay = await w.track(null, { raw })
  t.equal(replay.statusCode, 200)
  t.match(replay.json(), { recorded: false }, 'replayed: idempotent')
  t.equal((await w.lines(id)).length, 1, 'one history line')
})

t.test('a failed delivery takes the error path back to the counter; a failed pickup opens an incident', async (t) => {
  const w = await world(t)
  const sub = await w.oneStop.post('/api/dossiers', {
    procedureCode: '2.000575',
    applicant: { name: 'Lê Văn Cường', idNumber: '001099005678', address: ADDRESS },
    channel: 1,
    data: { returnMethod: 'post' },
  })
  const id = sub.body.dossier.id
  await w.resolve(id)
  await w.dispatch(id, 'delivery')
  const tn = (await w.handoff(id, 'delivery')).tracking_number
  const failed = await w.track({ trackingNumber: tn, event: 'failed', at: '2026-11-23T01:59:00Z', note: 'Không có người nhận' })
  t.equal(failed.statusCode, 200, failed.body)
  t.same(await w.openTasks(id), ['TraKetQua'], 'POSTAL_FAILED caught: the one-stop unit returns the result itself')
  const view = (await w.oneStop.get(`/api/dossiers/${id}`)).body
  t.equal(view.dossier.status, 'RESULT_READY')
  t.equal(view.dossier.returnedAt, null)
  const err = view.history.find((h: any) => h.action === 'handoff.bpmn-error')
  t.equal(err.details.errorCode, 'POSTAL_FAILED')
  t.equal(
    view.history.find((h: any) => h.action === 'postal.failed').details.text,
    'Bưu chính không phát được kết quả lúc 08:59 23/11/2026 (Không có người nhận).',
  )
  const ret = await w.oneStop.act(id, 'return', { method: 'counter' })
  t.equal(ret.status, 200, JSON.stringify(ret.body))
  t.match((await w.oneStop.get(`/api/dossiers/${id}`)).body.dossier, { status: 'RETURNED', returnMethod: 'counter' })

  // A pickup the post could not make: nothing in the skeleton catches it, an incident for the officers.
  const p = await w.citizen.post('/api/dossiers', {
    procedureCode: '2.000575',
    applicant: { name: 'Trần Thị Bình', idNumber: '001099001234', address: ADDRESS },
    channel: 3,
    postal: { pickup: true },
    data: {},
  })
  const pid = p.body.dossier.id
  await w.dispatch(pid, 'pickup')
  const ptn = (await w.handoff(pid, 'pickup')).tracking_number
  const r = await w.track({ trackingNumber: ptn, event: 'returned_to_sender', at: '2026-11-23T01:58:00Z' })
  t.match(r.json(), { recorded: true, state: 'incident' })
  t.equal((await w.handoff(pid, 'pickup')).state, 'incident')
  const incidents = (await w.admin.get(`/api/incidents?dossierId=${pid}`)).body.items
  t.match(incidents, [{ state: 'open', activityId: 'ThuGomHoSo', incidentMessage: /chuyển hoàn/ }])
  t.same(
    (await w.lines(pid)).map((l) => l.action),
    ['postal.returned_to_sender'],
    'the event is in the history with the incident',
  )
})

t.test('submission by post: a pickup needs an address; a citizen may ask for a pickup but not hand over a postal dossier', async (t) => {
  const w = await world(t)
  const base = { procedureCode: '2.000575', applicant: { name: 'Trần Thị Bình', idNumber: '001099001234' }, data: {} }
  const noAddress = await w.citizen.post('/api/dossiers', { ...base, channel: 3, postal: { pickup: true } })
  t.equal(noAddress.status, 400)
  t.equal(noAddress.body.error.code, 'VALIDATION_FAILED')
  const handover = await w.citizen.post('/api/dossiers', { ...base, channel: 3, postal: { handoverSignedAt: '2026-11-23T01:00:00Z' } })
  t.equal(handover.status, 422, 'the hand-over record is the officer’s')
  t.equal(handover.body.error.code, 'CHANNEL_NOT_ALLOWED')
  const postNoAddress = await w.oneStop.post('/api/dossiers', { ...base, channel: 1, data: { returnMethod: 'post' } })
  t.equal(postNoAddress.status, 400, 'a result by post needs an address')
  t.equal(Number((await w.ctx.db('dossiers').count('* as n').first())!.n), 0, 'nothing was created')
})

t.test('an order the operator refuses (422) takes the error path; a postal topic it does not have is refused at deploy', async (t) => {
  const w = await world(t)
  w.operator.refuse((o) => (o.service === 'delivery' ? { errorCode: 'POSTAL_FAILED', errorMessage: 'Địa chỉ ngoài vùng phục vụ' } : null))
  const sub = await w.oneStop.post('/api/dossiers', {
    procedureCode: '2.000575',
    applicant: { name: 'Lê Văn Cường', idNumber: '001099005678', address: 'Bản Nậm Cắn, xã Mường Lống, Nghệ An' },
    channel: 1,
    data: { returnMethod: 'post' },
  })
  const id = sub.body.dossier.id
  await w.resolve(id)
  t.equal(await w.dispatch(id, 'delivery'), 'completed')
  t.same(await w.openTasks(id), ['TraKetQua'], 'back to the counter’s return step')
  t.match(await w.handoff(id, 'delivery'), { state: 'completed', tracking_number: null })

  const xml = S3.replace(
    '<bpmn:userTask id="PheDuyet"',
    '<bpmn:serviceTask id="GuiBuuPham"><bpmn:extensionElements><tthc:handoff adapter="postal" topic="parcel" /></bpmn:extensionElements></bpmn:serviceTask><bpmn:userTask id="PheDuyet"',
  )
  const r = await w.ctx.deploy(xml)
  t.equal(r.status, 422)
  t.match(r.body.error.details.findings, [{ elementId: 'GuiBuuPham', code: 'HANDOFF_INVALID', message: /pickup hoặc delivery/ }])

  t.throws(() => loadConfig({ POSTAL_URL: 'https://buuchinh.example.vn/don-hang' }), /POSTAL_KEY/, 'a URL without its key')
  t.throws(() => loadConfig({ POSTAL_URL: 'ftp://x', POSTAL_KEY: KEY }), /POSTAL_URL/)
  t.same(loadConfig({ POSTAL_URL: 'https://buuchinh.example.vn/don-hang', POSTAL_KEY: KEY }).postal, {
    url: 'https://buuchinh.example.vn/don-hang',
    key: KEY,
  })
})
