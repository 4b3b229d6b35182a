import t from 'tap'
import fs from 'node:fs'
import { createHash } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { pino } from 'pino'
import { createHttpPortal } from '../src/handoffs/national-portal.ts'
import { createPortalDelivery } from '../src/handoffs/portal-delivery.ts'
import { createOutboxRelay } from '../src/outbox/relay.ts'
import { createQueues, QUEUE, redisConnection } from '../src/outbox/queues.ts'
import { startPortalSyncWorker } from '../src/workers/portal-sync.worker.ts'
import { requeueUnacknowledgedEvents } from '../src/workers/portal-requeue.ts'
import { pollUntil } from './helpers/poll.ts'
import { signBody } from '../src/handoffs/signature.ts'
import { fixture, testContext, testUrls, type Teardown, type TestContext } from './helpers/context.ts'
import { caller } from './helpers/api.ts'
import { clockOf } from './helpers/clock.ts'
import { peerSystem } from './helpers/peer.ts'
import { startSmtp } from './helpers/smtp.ts'
import { startNotifier } from './helpers/notifier.ts'

/**
 * Everything the system sends out ends acknowledged or as an incident a person sees: a notification
 * to the applicant (SMTP refusing), a callback to the peer system that handed us a dossier (the peer
 * down), a status event to the national portal (the portal refusing). One incident per failed thing,
 * with a line in the dossier's history; retried from the incidents API (acknowledged → resolved) or
 * resolved with a note; only those the rule table names may.
 */
const S3 = fs.readFileSync(new URL('../processes/s3-ho-kinh-doanh.bpmn', import.meta.url), 'utf8')
const AGENCY = 'UBND-XA-DEMO'
const EMAIL = 'nguyen.van.a@example.vn'

const historyOf = async (ctx: TestContext, dossierId: string, action: string) =>
  ctx.db('history').where({ dossier_id: dossierId, action }).orderBy('id')

t.test(
  'a notification that finally fails opens one incident; a second final failure opens none; the incidents API retries it',
  async (t) => {
    let refusing = true
    const smtp = await startSmtp(t, { refuse: () => refusing })
    const ctx = await testContext(t, {
      now: '2026-11-23T02:00:00Z',
      env: { SMTP_URL: smtp.url, MAIL_FROM: 'Một cửa UBND xã <motcua@ubnd-xa.example.vn>', PUBLIC_BASE_URL: 'https://dvc.example.vn' },
    })
    t.equal((await ctx.deploy(S3)).status, 201)
    const notifier = await startNotifier(t, ctx)
    const officer = await caller(ctx, {
      userId: 'mc-1',
      roles: ['officer'],
      groups: ['one-stop', 'specialists', 'leaders'],
      agency: AGENCY,
    })
    const submitted = await officer.post('/api/dossiers', {
      procedureCode: '2.000575',
      applicant: { name: 'Nguyễn Văn A', idNumber: '001099001234', email: EMAIL },
      channel: 1,
      data: {},
    })
    const id = submitted.body.dossier.id as string
    await officer.act(id, 'accept', {})

    /** Lets every attempt of the notification fail: the first and three retries on the injected clock. */
    const failAll = async (from: number) => {
      for (const [n, wait] of [
        [1, 60_000],
        [2, 5 * 60_000],
        [3, 30 * 60_000],
      ] as const) {
        await notifier.settled(`attempt ${from + n}`, async () => (await notifier.rows(id))[0]?.attempts === from + n)
        clockOf(ctx).advance(wait)
        t.equal(await notifier.sweep(), 1)
      }
      await notifier.settled('the last attempt', async () => (await notifier.rows(id))[0]?.state === 'failed')
    }
    await failAll(0)
    const open = await officer.get('/api/incidents?state=open')
    t.equal(open.status, 200)
    t.equal(open.body.items.length, 1, 'one incident')
    const incident = open.body.items[0]
    const [row] = await notifier.rows(id)
    t.match(incident, {
      incidentType: 'failedNotification',
      source: 'citizenNotification',
      configuration: row.id,
      dossierId: id,
      agency: AGENCY,
      state: 'open',
      activityId: null,
      details: { channel: 'email', recipient: 'ng***@example.vn', event: 'receipt' },
    })
    t.match(incident.incidentMessage, /451/, 'with the last error')
    t.notOk(JSON.stringify(incident).includes(EMAIL), 'the recipient is masked')
    const opened = await historyOf(ctx, id, 'incident.opened')
    t.equal(opened.length, 1, 'a line in the dossier history')
    t.match(opened[0].details, { incidentId: incident.id, type: 'failedNotification' })
    t.match((await officer.get('/api/incidents?type=failedNotification')).body.items, [{ id: incident.id }], 'the type filter finds it')
    t.same((await officer.get('/api/incidents?type=failedJob')).body.items, [], 'and only its kind')

    // Put back on its way by the notification's own retry endpoint, it fails again: the open incident stays the only one.
    t.equal((await officer.post(`/api/citizen-notifications/${row.id}/retry`)).status, 200)
    await failAll(4)
    t.equal((await ctx.db('incidents').where({ source_id: row.id })).length, 1, 'a second final failure opens no second incident')
    t.equal((await historyOf(ctx, id, 'incident.opened')).length, 1, 'nor a second history line')

    // Officers of another agency may not touch it; the agency's officer retries it and the mail goes out.
    const foreign = await caller(ctx, { userId: 'mc-9', roles: ['officer'], groups: ['one-stop'], agency: 'UBND-XA-KHAC' })
    const refused = await foreign.post(`/api/incidents/${incident.id}/retry`)
    t.equal(refused.status, 403)
    t.equal(refused.body.error.code, 'FORBIDDEN')
    refusing = false
    const retried = await officer.post(`/api/incidents/${incident.id}/retry`)
    t.equal(retried.status, 200, JSON.stringify(retried.body))
    await notifier.settled('the retried mail', async () => (await notifier.rows(id))[0]?.state === 'sent')
    t.equal(smtp.mails.length, 1, 'delivered once')
    const after = (await officer.get(`/api/incidents?dossierId=${id}`)).body.items
    t.match(after, [{ id: incident.id, state: 'resolved', resolvedBy: 'system' }], 'the delivery resolved the incident')
    t.same(
      (await ctx.db('history').where({ dossier_id: id }).whereIn('action', ['incident.retried', 'incident.resolved']).orderBy('id')).map(
        (h) => [h.action, h.actor],
      ),
      [
        ['incident.retried', 'mc-1'],
        ['incident.resolved', 'system'],
      ],
    )
    const again = await officer.post(`/api/incidents/${incident.id}/retry`)
    t.equal(again.status, 409)
    t.equal(again.body.error.code, 'INCIDENT_ALREADY_RESOLVED')
  },
)

const KEY = 'khoa-lien-thong-ubnd-xa-va-cong-an-0123456789'
const PDF = Buffer.from('%PDF-1.4\n% to khai\n%%EOF\n')

/** The police system with a dossier the commune handed it (signed intake over HTTP), worked to its end: a callback is owed. */
async function policeWithEndedPeerDossier(t: Teardown & { equal: (a: unknown, b: unknown) => void }) {
  const commune = await peerSystem(t)
  const ctx = await testContext(t, {
    now: '2026-11-23T02:00:00Z',
    env: { DEFAULT_AGENCY: 'CA-TINH', HANDOFF_PEERS: JSON.stringify({ 'UBND-XA': { url: commune.url, key: KEY } }) },
  })
  const analyst = await caller(ctx, { roles: ['analyst'], agency: 'CA-TINH' })
  const deployed = await analyst.post('/api/procedures', fixture('bpmn/peer-police-residence.bpmn'), { 'content-type': 'application/xml' })
  if (deployed.status !== 201) throw new Error(JSON.stringify(deployed.body))
  const raw = JSON.stringify({
    handoffId: '0b5c1a52-5d0e-4a43-9a7f-0c2a3f8d1e01',
    agency: 'UBND-XA',
    procedureCode: 'ThuongTru',
    businessKey: 'H01.01-261123-0001',
    applicant: { name: 'Nguyễn Văn An', idNumber: '001090012345' },
    variables: {},
    documents: [
      {
        fileName: 'a.pdf',
        contentType: 'application/pdf',
        sha256: createHash('sha256').update(PDF).digest('hex'),
        content: PDF.toString('base64'),
      },
    ],
  })
  const ts = String(Math.floor(ctx.clock.now().getTime() / 1000))
  const intake = await ctx.app.inject({
    method: 'POST',
    url: '/api/peer/dossiers',
    headers: { 'content-type': 'application/json', 'x-tthc-timestamp': ts, 'x-tthc-signature': signBody(KEY, ts, raw) },
    payload: raw,
  })
  if (intake.statusCode !== 202) throw new Error(intake.body)
  const dossierId = intake.json().dossierId as string
  const officer = await caller(ctx, { userId: 'can-bo-ca', roles: ['officer'], groups: ['police-residence'], agency: 'CA-TINH' })
  const task = (await officer.get(`/api/dossiers/${dossierId}`)).body.tasks[0]
  t.equal((await officer.post(`/api/tasks/${task.id}/claim`)).status, 200)
  t.equal((await officer.post(`/api/tasks/${task.id}/complete`, { variables: { outcome: 'approved' } })).status, 200)
  return { ctx, commune, dossierId, officer }
}

t.test('a peer callback that finally fails opens one incident; retried when the peer is back, the same callback is taken', async (t) => {
  const { ctx, commune, dossierId, officer } = await policeWithEndedPeerDossier(t)
  let down = true
  commune.answer(() => (down ? { status: 503, body: { error: 'bảo trì' } } : { status: 200, body: {} }))
  const callbacks = ctx.system.peerCallbacks
  /** The first attempt and the six retries of the back-off, each when due on the injected clock. */
  const exhaust = async () => {
    for (const wait of [0, 60_000, 5 * 60_000, 30 * 60_000, 2 * 3600_000, 6 * 3600_000, 24 * 3600_000]) {
      clockOf(ctx).advance(wait)
      t.equal(await callbacks.deliverDue(), 1)
    }
    t.equal(await callbacks.deliverDue(), 0, 'nothing due after the last')
  }
  await exhaust()
  t.equal(commune.requests.length, 7)
  t.match(await ctx.db('peer_handoffs').first(), { state: 'failed', attempts: 7 })
  const admin = await caller(ctx, { userId: 'admin-1', roles: ['admin'] })
  const list = await officer.get('/api/incidents?type=failedPeerCallback&state=open')
  t.equal(list.status, 200)
  t.equal(list.body.items.length, 1)
  const incident = list.body.items[0]
  t.match(incident, {
    source: 'peerCallback',
    dossierId,
    agency: 'CA-TINH',
    receivingAgency: 'UBND-XA',
    details: { senderAgency: 'UBND-XA' },
  })
  t.match(incident.incidentMessage, /503/)
  t.equal((await historyOf(ctx, dossierId, 'incident.opened')).length, 1, 'with a history line')

  // Retried while the peer is still down: its retries run out again, still one incident.
  t.equal((await admin.post(`/api/incidents/${incident.id}/retry`)).status, 200)
  await exhaust()
  t.equal((await ctx.db('incidents').where({ source: 'peerCallback' })).length, 1, 'no second incident')
  t.equal((await historyOf(ctx, dossierId, 'incident.opened')).length, 1)

  // Back up: the retry sends the same callback, signed, once; the incident resolves.
  down = false
  const citizen = await caller(ctx, { roles: ['citizen'] })
  t.equal((await citizen.post(`/api/incidents/${incident.id}/retry`)).status, 403, 'a citizen may not retry it')
  t.equal((await officer.post(`/api/incidents/${incident.id}/retry`)).status, 200)
  const sent = await ctx.db('outbox').where({ topic: 'peer.callback' }).orderBy('id')
  t.equal(sent.length, 3, 'each retry queued the callback at once (its job, beside the first one)')
  t.equal(await callbacks.deliverForDossier(dossierId), 'sent')
  t.match(await ctx.db('peer_handoffs').first(), { state: 'called_back' })
  const last = commune.requests.at(-1)!
  t.equal(last.raw, commune.requests[0]!.raw, 'the same callback body as the first attempt')
  t.equal(last.headers['x-tthc-signature'], signBody(KEY, String(last.headers['x-tthc-timestamp']), last.raw), 'signed with the peer key')
  t.match((await officer.get(`/api/incidents?dossierId=${dossierId}`)).body.items, [{ state: 'resolved', resolvedBy: 'system' }])
})

t.test('an incident resolved with a note stays closed; the note is in the dossier history', async (t) => {
  const { ctx, commune, dossierId, officer } = await policeWithEndedPeerDossier(t)
  commune.answer(() => ({ status: 500 }))
  for (const wait of [0, 60_000, 5 * 60_000, 30 * 60_000, 2 * 3600_000, 6 * 3600_000, 24 * 3600_000]) {
    clockOf(ctx).advance(wait)
    await ctx.system.peerCallbacks.deliverDue()
  }
  const [incident] = (await officer.get('/api/incidents?state=open')).body.items
  t.equal((await officer.post(`/api/incidents/${incident.id}/resolve`, {})).status, 400, 'a note is required')
  const resolved = await officer.post(`/api/incidents/${incident.id}/resolve`, { note: 'Đã gửi kết quả qua công văn giấy' })
  t.equal(resolved.status, 200)
  t.match(resolved.body, { state: 'resolved', resolvedBy: 'can-bo-ca', note: 'Đã gửi kết quả qua công văn giấy' })
  t.match((await historyOf(ctx, dossierId, 'incident.resolved'))[0].details, {
    note: 'Đã gửi kết quả qua công văn giấy',
    type: 'failedPeerCallback',
  })
  t.equal((await officer.post(`/api/incidents/${incident.id}/retry`)).status, 409)
  t.match(await ctx.db('peer_handoffs').first(), { state: 'failed' }, 'the callback is not sent again')
})

/** The national portal over real HTTP: records each delivery's event id in order; answers 503 while `down`. */
async function portalReceiver(t: Teardown) {
  const state = { down: true, got: [] as Array<{ eventId: string; nationalStatus: number }> }
  const server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      const e = JSON.parse(body) as { eventId: string; nationalStatus: number }
      state.got.push({ eventId: e.eventId, nationalStatus: e.nationalStatus })
      if (state.down) res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"bảo trì"}')
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ receipt: `R-${e.eventId}` }))
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise((r) => server.close(r)))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/status`, state }
}

/** A context whose portal is `receiver`, retried twice five minutes apart, with the relay and the portal worker running. */
async function portalWorld(t: Teardown & { equal: (a: unknown, b: unknown) => void }) {
  const portal = await portalReceiver(t)
  // The clock starts at the real time: a step's portal event is due when the database says it was written.
  const ctx = await testContext(t, { now: new Date().toISOString(), env: { PORTAL_URL: portal.url, PORTAL_RETRY_CYCLE: 'R2/PT5M' } })
  t.equal((await ctx.deploy(S3)).status, 201)
  const log = pino({ level: 'silent' })
  const connection = redisConnection(testUrls().redisUrl)
  const queues = createQueues(connection, ctx.config.queuePrefix)
  const relay = createOutboxRelay({ db: ctx.db, repo: ctx.system.repos.outbox, queues, clock: ctx.clock, log, pollMs: 50 })
  const delivery = createPortalDelivery({
    db: ctx.db,
    clock: ctx.clock,
    log,
    portal: createHttpPortal({ url: portal.url, timeoutMs: 5000 }),
    events: ctx.system.repos.portalEvents,
    outbox: ctx.system.repos.outbox,
    incidents: ctx.system.repos.incidents,
    retryCycle: ctx.config.portalRetryCycle,
  })
  const worker = startPortalSyncWorker({ connection, prefix: ctx.config.queuePrefix, delivery, log })
  await relay.start()
  t.teardown(async () => {
    await worker.close()
    await relay.stop()
    await queues.get(QUEUE.dossierEvents).obliterate({ force: true })
    await queues.close()
  })
  const officer = await caller(ctx, { userId: 'mc-1', roles: ['officer'], groups: ['one-stop', 'specialists'], agency: AGENCY })
  const admin = await caller(ctx, { userId: 'qtv-1', roles: ['admin'] })
  const events = (dossierId: string) =>
    ctx.db('outbox').where({ topic: 'dossier.status-changed' }).whereRaw(`payload->>'dossierId' = ?`, [dossierId]).orderBy('id')
  /** Waits for the relay to hand every committed outbox row (a retry's job among them) to BullMQ. */
  const published = () =>
    pollUntil('the relay to publish', async () => Number((await ctx.db('outbox').whereNull('published_at').count('* as n'))[0]!.n) === 0)
  return {
    ctx,
    portal,
    published,
    officer,
    admin,
    delivery,
    events,
    /** The per-minute pass, on the injected clock. */
    sweep: () =>
      requeueUnacknowledgedEvents({
        db: ctx.db,
        queue: queues.get(QUEUE.dossierEvents),
        events: ctx.system.repos.portalEvents,
        now: ctx.clock.now(),
      }),
    /** A dossier submitted at the counter and accepted: its status events for the portal. */
    async dossier() {
      const s = await officer.post('/api/dossiers', {
        procedureCode: '2.000575',
        applicant: { name: 'Nguyễn Văn A', idNumber: '001099001234' },
        channel: 1,
        data: {},
      })
      const id = s.body.dossier.id as string
      t.equal((await officer.act(id, 'accept', {})).status, 200)
      return { id, code: s.body.dossier.code as string }
    },
    /** The appraisal asks for a supplement: a later status of the same dossier. */
    async later(id: string) {
      t.equal((await officer.act(id, 'request-supplement', { items: ['GDN'], reason: 'Thiếu giấy đề nghị' })).status, 200)
    },
  }
}

t.test(
  'a status event the portal refuses: retried on the configured cycle, then one incident; an admin retries it and the events go in order',
  async (t) => {
    const w = await portalWorld(t)
    const { ctx, portal, officer, admin } = w
    const d = await w.dossier()
    const [first] = await w.events(d.id)
    t.ok(first, 'the accepted dossier has a status event for the portal')
    const eventId = `outbox-${first.id}`
    const attempts = () => portal.state.got.filter((g) => g.eventId === eventId).length
    await pollUntil('the first attempt', async () => (await w.events(d.id))[0].retries_left === 2)
    t.equal(
      new Date((await w.events(d.id))[0].next_attempt_at).getTime(),
      ctx.clock.now().getTime() + 5 * 60_000,
      'next attempt after PT5M',
    )
    // A later status of the same dossier waits behind the unacknowledged one.
    const before = (await w.events(d.id)).length
    await w.later(d.id)
    t.ok((await w.events(d.id)).length > before, 'a later status event')
    for (const n of [2, 3]) {
      await w.published()
      clockOf(ctx).advance(5 * 60_000)
      t.same(await w.sweep(), { queued: 0, revived: 1 }, `retry ${n - 1} due: its delayed job promoted`)
      await pollUntil(`attempt ${n} recorded`, async () => (await w.events(d.id))[0].retries_left === 3 - n)
      t.equal(attempts(), n)
    }
    await pollUntil('the incident', async () => (await w.events(d.id))[0].delivery_state === 'incident')
    t.same(
      portal.state.got.map((g) => g.eventId),
      [eventId, eventId, eventId],
      'three attempts (the first and two retries), the later event never sent before it',
    )
    const list = await admin.get(`/api/incidents?type=failedPortalSync&state=open`)
    t.equal(list.status, 200)
    t.equal(list.body.items.length, 1, 'one incident')
    const incident = list.body.items[0]
    t.match(incident, {
      incidentType: 'failedPortalSync',
      source: 'portalEvent',
      configuration: String(first.id),
      dossierId: d.id,
      agency: AGENCY,
      details: { eventId, code: d.code, nationalStatus: first.payload.nationalStatus, attempts: 3 },
    })
    t.match(incident.incidentMessage, /503/)
    t.match(
      (await historyOf(ctx, d.id, 'incident.opened'))[0]?.details,
      { incidentId: incident.id, type: 'failedPortalSync' },
      'in the history',
    )

    // A duplicate final failure (another copy of the last job, the sweep again) opens nothing more.
    t.equal(await w.delivery.deliver(first.id), 'skipped')
    clockOf(ctx).advance(60 * 60_000)
    t.same(await w.sweep(), { queued: 0, revived: 0 }, 'an event in an incident, and the one behind it, wait for a person')
    t.equal((await ctx.db('incidents').where({ source: 'portalEvent' })).length, 1)
    t.equal((await historyOf(ctx, d.id, 'incident.opened')).length, 1)

    // Supervisors count it beside the handoffs.
    const supervisor = await caller(ctx, { userId: 'gs-1', roles: ['supervisor'], agency: AGENCY })
    const board = await supervisor.get('/api/supervision/handoffs')
    t.equal(board.status, 200)
    t.same(board.body.openIncidents, [{ type: 'failedPortalSync', open: 1 }], 'the supervisors’ view counts the open incident')

    // Only admins handle portal incidents; officers do not even see them.
    const refused = await officer.post(`/api/incidents/${incident.id}/retry`)
    t.equal(refused.status, 403)
    t.equal(refused.body.error.code, 'FORBIDDEN')
    t.equal((await officer.get('/api/incidents?type=failedPortalSync')).status, 403)
    t.same((await officer.get('/api/incidents')).body.items, [], 'not in the officer’s list')

    portal.state.down = false
    const retried = await admin.post(`/api/incidents/${incident.id}/retry`, {})
    t.equal(retried.status, 200, JSON.stringify(retried.body))
    await pollUntil('every event acknowledged', async () => (await w.events(d.id)).every((e) => e.acknowledged_at !== null))
    t.same(
      portal.state.got.slice(3).map((g) => g.eventId),
      (await w.events(d.id)).map((e) => `outbox-${e.id}`),
      'the retried event, then those behind it, in their order, each once',
    )
    t.match((await admin.get(`/api/incidents?dossierId=${d.id}`)).body.items, [
      { id: incident.id, state: 'resolved', resolvedBy: 'system' },
    ])
    t.equal(
      Number((await ctx.db('portal_sync_log').where({ dossier_id: d.id }).count('* as n'))[0]!.n),
      (await w.events(d.id)).length,
      'every receipt recorded',
    )
    t.equal((await admin.post(`/api/incidents/${incident.id}/retry`, {})).status, 409)
  },
)

t.test('a portal incident resolved by hand: the event is never sent, the dossier’s later events go on', async (t) => {
  const w = await portalWorld(t)
  const { ctx, portal, admin } = w
  const d = await w.dossier()
  await w.later(d.id)
  const [first, ...rest] = await w.events(d.id)
  await pollUntil('the first attempt', async () => (await w.events(d.id))[0].retries_left === 2)
  for (let n = 0; n < 2; n++) {
    const before = portal.state.got.length
    await w.published()
    clockOf(ctx).advance(5 * 60_000)
    await w.sweep()
    await pollUntil('the retry recorded', async () => (await w.events(d.id))[0].retries_left === 1 - n)
    t.equal(portal.state.got.length, before + 1)
  }
  await pollUntil('the incident', async () => (await w.events(d.id))[0].delivery_state === 'incident')
  const [incident] = (await admin.get('/api/incidents?type=failedPortalSync')).body.items
  portal.state.down = false
  const resolved = await admin.post(`/api/incidents/${incident.id}/resolve`, { note: 'Đã cập nhật trực tiếp trên Cổng DVCQG' })
  t.equal(resolved.status, 200)
  await pollUntil('the later events acknowledged', async () => (await w.events(d.id)).slice(1).every((e) => e.acknowledged_at !== null))
  t.same(
    portal.state.got.map((g) => g.eventId),
    [first, first, first, ...rest].map((e) => `outbox-${e.id}`),
    'the closed event is not sent again',
  )
  t.match(await ctx.db('outbox').where({ id: first.id }).first(), { acknowledged_at: null, delivery_state: 'closed' })
  t.match((await historyOf(ctx, d.id, 'incident.resolved'))[0]?.details, { note: 'Đã cập nhật trực tiếp trên Cổng DVCQG' })
})
