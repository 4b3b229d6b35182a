import t from 'tap'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { pino } from 'pino'
import { testContext, testUrls, type Teardown, type TestContext } from './helpers/context.ts'
import { testClock, type TestClock } from './helpers/clock.ts'
import { pollUntil } from './helpers/poll.ts'
import { caller } from './helpers/api.ts'
import { signBody } from '../src/handoffs/signature.ts'
import { createQueues, redisConnection } from '../src/outbox/queues.ts'
import { createOutboxRelay } from '../src/outbox/relay.ts'
import { startHandoffWorker } from '../src/workers/handoff.worker.ts'
import { startPeerCallbackWorker } from '../src/workers/peer-callback.worker.ts'
import { freePort } from '../src/infra/free-port.ts'
import { overHttp as http } from './helpers/peer.ts'

/**
 * S5's financial obligation between two deployments: the land registration office's system (the S5
 * sample) hands the determination to the tax authority's system (the tax sample) with the `peer`
 * adapter; the tax officer issues the notice there; the tax system calls back; the land dossier waits
 * for the citizen's payment in status 6 with its clock stopped, then goes on to the certificate.
 * Two real instances (own database, queue prefix, port), their own relays and workers, HTTP only.
 */
const PROCESSES = path.resolve(import.meta.dirname, '../processes')
const KEY = 'khoa-lien-thong-dat-dai-va-co-quan-thue-0123456789'
const LAND = 'UBND-XA-DEMO'
const TAX = 'CO-QUAN-THUE'
const MON_0900 = '2026-11-23T02:00:00Z' // Mon 23/11/2026 09:00 (UTC+7)
const PDF = Buffer.from('%PDF-1.4\n% don dang ky mau 04/DK\n%%EOF\n')
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 4, 0, 4])
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')
const PARCEL = { parcelNumber: '125', mapSheetNumber: '12', landArea: 250.5, landUsePurpose: 'ONT', landAddress: 'Thôn Đông, xã Demo' }

/** One deployment: its app listening, the other as its peer, its relay and the workers it needs, the sample procedures given. */
async function deployment(
  t: Teardown,
  port: number,
  agency: string,
  peer: { agency: string; port: number },
  clock: TestClock,
  files: string[],
) {
  const ctx = await testContext(t, {
    clock,
    env: { DEFAULT_AGENCY: agency, HANDOFF_PEERS: JSON.stringify({ [peer.agency]: { url: `http://127.0.0.1:${peer.port}`, key: KEY } }) },
  })
  await ctx.app.listen({ port, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${port}`
  const analyst = http(base, await ctx.token({ roles: ['analyst'], agency }))
  for (const f of files) {
    const r = await analyst.post('/api/procedures', fs.readFileSync(path.join(PROCESSES, f), 'utf8'), { 'content-type': 'application/xml' })
    if (r.status !== 201) throw new Error(`${f}: ${JSON.stringify(r.body)}`)
  }
  const log = pino({ level: 'silent' })
  const connection = () => redisConnection(testUrls().redisUrl)
  const queues = createQueues(connection(), ctx.config.queuePrefix)
  const relay = createOutboxRelay({ db: ctx.db, repo: ctx.system.repos.outbox, queues, clock, log, pollMs: 50 })
  const workers = [
    startHandoffWorker({ connection: connection(), prefix: ctx.config.queuePrefix, handoffs: ctx.system.handoffs, clock, log }),
    startPeerCallbackWorker({
      connection: connection(),
      prefix: ctx.config.queuePrefix,
      callbacks: ctx.system.peerCallbacks,
      log,
      lockMs: 30_000,
    }),
  ]
  t.teardown(async () => {
    for (const w of workers) await w.close()
    await relay.stop()
    await queues.close()
  })
  await relay.start()
  return { ctx, base }
}

async function landAndTax(t: Teardown) {
  const clock = testClock(MON_0900)
  const [landPort, taxPort] = [await freePort(), await freePort()]
  const land = await deployment(t, landPort, LAND, { agency: TAX, port: taxPort }, clock, ['s5-cap-giay-chung-nhan-dat.bpmn'])
  const tax = await deployment(t, taxPort, TAX, { agency: LAND, port: landPort }, clock, ['thue-xac-dinh-nghia-vu-tai-chinh.bpmn'])
  const landOfficer = http(
    land.base,
    await land.ctx.token({
      userId: 'can-bo-vpdk',
      roles: ['officer'],
      groups: ['one-stop', 'van-phong-dang-ky', 'ubnd-xa', 'leaders'],
      agency: LAND,
    }),
  )
  const taxOfficer = http(
    tax.base,
    await tax.ctx.token({ userId: 'can-bo-thue', roles: ['officer'], groups: ['co-quan-thue'], agency: TAX }),
  )
  return { clock, land, tax, landOfficer, taxOfficer }
}

t.test(
  'S5 between two deployments: the tax authority issues the notice on its own system, the land dossier waits for payment with its clock stopped',
  async (t) => {
    const w = await landAndTax(t)
    const act = async (id: string, action: string, body: unknown = {}) => {
      const r = await w.landOfficer.post(`/api/dossiers/${id}/actions/${action}`, body)
      t.equal(r.status, 200, `${action}: ${JSON.stringify(r.body)}`)
      return r.body
    }
    const view = async (id: string) => (await w.landOfficer.get(`/api/dossiers/${id}`)).body
    const open = async (id: string) =>
      ((await view(id)).tasks as Array<{ status: string; activityId: string }>).filter((x) => x.status === 'open').map((x) => x.activityId)

    // The land side: the application (Mẫu 04/ĐK declares the parcel), its documents, the steps up to the appraisal.
    const s = await w.landOfficer.post('/api/dossiers', {
      procedureCode: '1.004227',
      applicant: { name: 'Trần Văn Bình', idNumber: '001085054321', address: 'Thôn Đông, xã Demo' },
      channel: 1,
      data: PARCEL,
    })
    t.equal(s.status, 201, JSON.stringify(s.body))
    const dossier = s.body.dossier as { id: string; code: string }
    for (const [name, type, content] of [
      ['Don dang ky 04-DK.pdf', 'application/pdf', PDF],
      ['Giay to nguon goc dat.png', 'image/png', PNG],
    ] as const) {
      const up = await w.landOfficer.post(`/api/dossiers/${dossier.id}/documents?fileName=${encodeURIComponent(name)}`, content, {
        'content-type': type,
      })
      t.equal(up.status, 201, JSON.stringify(up.body))
    }
    for (const a of ['accept', 'transfer', 'propose']) await act(dossier.id, a)
    await act(dossier.id, 'answer', { opinion: 'Đã niêm yết công khai, không có tranh chấp' })
    const appointment = (await view(dossier.id)).dossier.appointmentAt
    t.equal(appointment, '2026-12-21T02:00:00.000Z', '20 working days from Mon 23/11 09:00')
    t.equal((await act(dossier.id, 'propose')).dossierStatus, 'IN_PROCESS', 'appraised: sent to the tax authority, the clock runs')

    // The land system's relay and handoff worker send it; the tax system opens its own dossier.
    const taxTask = async () => {
      const q = await w.taxOfficer.get('/api/tasks?procedureCode=THUE-NVTC-DAT')
      return (q.body.items as Array<{ id: string; dossierId: string; activityId: string; status: string }>).filter(
        (x) => x.activityId === 'XacDinhNghiaVu',
      )
    }
    await pollUntil('the tax system to receive the dossier', async () => (await taxTask()).length === 1)
    const handoffs = async () => (await w.landOfficer.get(`/api/dossiers/${dossier.id}/handoffs`)).body.items
    await pollUntil('the land system to record the handoff as sent', async () => (await handoffs())[0]?.state === 'waiting')
    t.match(
      await handoffs(),
      [
        {
          receivingAgency: TAX,
          adapter: 'peer',
          topic: 'THUE-NVTC-DAT',
          state: 'waiting',
          dueAt: '2026-11-30T02:00:00.000Z',
          overdue: false,
        },
      ],
      "the tax authority's 5 working days",
    )
    t.same(await open(dossier.id), [], 'no open task on the land side while the tax authority works')

    const [task] = await taxTask()
    const taxDossier = (await w.taxOfficer.get(`/api/dossiers/${task!.dossierId}`)).body.dossier
    t.equal(taxDossier.procedureCode, 'THUE-NVTC-DAT')
    t.match(taxDossier.applicant, { name: 'Trần Văn Bình', idNumber: '001085054321' })
    t.match(
      taxDossier.data,
      {
        landParcel: { parcelNumber: '125', mapSheetNumber: '12', area: 250.5, landUsePurpose: 'ONT', address: 'Thôn Đông, xã Demo' },
        peerAgency: LAND,
        peerBusinessKey: dossier.code,
      },
      'the land data the tax side needs',
    )
    const docs = await w.taxOfficer.get(`/api/dossiers/${task!.dossierId}/documents`)
    t.same(
      docs.body.items.map((d: { fileName: string; sha256: string }) => [d.fileName, d.sha256]).sort(),
      [
        ['Don dang ky 04-DK.pdf', sha(PDF)],
        ['Giay to nguon goc dat.png', sha(PNG)],
      ],
      'the documents, checksums verified',
    )

    // The tax authority is late: a day past its allotment the land side raises the overdue alarm naming it.
    w.clock.set('2026-12-01T02:00:00Z') // Tue 01/12 09:00
    t.equal(await w.land.ctx.system.handoffDeadlines.run(), 1)
    t.match(await handoffs(), [{ state: 'waiting', overdue: true }])
    const overdue = (await view(dossier.id)).history.filter((h: { action: string }) => h.action === 'handoff.overdue')
    t.equal(overdue.length, 1)
    t.match(overdue[0].details, { receivingAgency: TAX })

    // A notice that does not fill the form is refused on the tax system and changes nothing.
    t.equal((await w.taxOfficer.post(`/api/tasks/${task!.id}/claim`)).status, 200)
    const incomplete = await w.taxOfficer.post(`/api/tasks/${task!.id}/complete`, { variables: { obligationAmount: 5_250_000 } })
    t.equal(incomplete.status, 400, JSON.stringify(incomplete.body))
    t.equal(incomplete.body.error.code, 'FORM_FIELD_INVALID')
    // The tax officer issues the notice; the tax system's relay and callback worker call the land system back.
    const done = await w.taxOfficer.post(`/api/tasks/${task!.id}/complete`, {
      variables: { obligationAmount: 5_250_000, taxNoticeNumber: 'TB-2026/00123', taxNoticeNote: 'Tiền sử dụng đất và lệ phí trước bạ' },
    })
    t.equal(done.status, 200, JSON.stringify(done.body))
    // Both sides: the land system took the answer, and the tax system recorded its callback as delivered
    // (it does so once the land system's 200 is back, so a moment after the land side's commit).
    await pollUntil(
      'the tax system to call the land system back',
      async () => (await handoffs())[0]?.state === 'completed' && (await w.tax.ctx.db('peer_handoffs').first())?.state === 'called_back',
    )
    t.match(await w.tax.ctx.db('peer_handoffs').first(), { state: 'called_back', attempts: 1 })

    // The land dossier: the notice in its history, status 6, nothing to do for the officers.
    const waiting = await view(dossier.id)
    t.equal(waiting.dossier.status, 'FINANCIAL_OBLIGATION')
    t.equal(waiting.dossier.nationalStatus, 6)
    t.same(await open(dossier.id), [])
    const answered = waiting.history.filter((h: { action: string }) => h.action === 'handoff.completed')
    t.equal(answered.length, 1)
    t.match(
      answered[0],
      {
        actor: `peer:${TAX}`,
        details: {
          receivingAgency: TAX,
          variables: {
            obligationAmount: 5_250_000,
            taxNoticeNumber: 'TB-2026/00123',
            peerOutcome: null,
            peerRefused: false,
            peerDossierCode: taxDossier.code,
          },
        },
      },
      'the tax notice',
    )
    const [late] = await handoffs()
    t.ok(new Date(late.answeredAt) > new Date(late.dueAt), 'answered after its due date: the lateness stays on record')

    // A replayed callback — the tax system sending it again, or a copy of a signed request — changes nothing.
    await w.tax.ctx.db('peer_handoffs').update({ state: 'callback_due', next_attempt_at: w.clock.now() })
    t.equal(await w.tax.ctx.system.peerCallbacks.deliverDue(), 1)
    t.match(await w.tax.ctx.db('peer_handoffs').first(), { state: 'called_back' }, 'the land system answered 409: delivered')
    const body = JSON.stringify({ outcome: 'complete', variables: { obligationAmount: 1, taxNoticeNumber: 'TB-GIA' } })
    const ts = String(Math.floor(w.clock.now().getTime() / 1000))
    const replay = await fetch(`${w.land.base}/api/handoffs/${late.id}/callback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tthc-timestamp': ts, 'x-tthc-signature': signBody(KEY, ts, body) },
      body,
    })
    t.equal(replay.status, 409)
    t.equal(((await replay.json()) as { error: { code: string } }).error.code, 'HANDOFF_ALREADY_ANSWERED')
    const still = await view(dossier.id)
    t.equal(still.dossier.status, 'FINANCIAL_OBLIGATION')
    t.equal(still.history.filter((h: { action: string }) => h.action === 'handoff.completed').length, 1, 'answered once')

    // The citizen pays the notice's amount two working days later: the appointment moves by the time stopped.
    w.clock.set('2026-12-03T02:00:00Z') // Thu 03/12 09:00
    const request = await w.landOfficer.post(`/api/dossiers/${dossier.id}/payments`)
    t.equal(request.status, 201, JSON.stringify(request.body))
    t.match(request.body.payment, { purpose: 'obligation', amount: 5_250_000 }, "the tax notice's amount")
    const paid = await w.landOfficer.post(`/api/payment-simulator/${encodeURIComponent(request.body.payment.reference)}/pay`, {})
    t.equal(paid.body?.result?.result, 'paid', JSON.stringify(paid.body))
    const after = await view(dossier.id)
    t.equal(after.dossier.status, 'IN_PROCESS')
    t.equal(after.dossier.appointmentAt, '2026-12-23T02:00:00.000Z', 'the clock stood still while the applicant paid')
    t.same(await open(dossier.id), ['InGCN'], 'on to the certificate')
    for (const a of ['propose', 'approve']) await act(dossier.id, a)
    t.equal((await act(dossier.id, 'return', { method: 'counter' })).dossierStatus, 'RETURNED')
  },
)

t.test(
  'S5 in one deployment without a tax system: a tax procedure not deployed here either fails the handoff into an incident, never passes it',
  async (t) => {
    const clock = testClock(MON_0900)
    const ctx: TestContext = await testContext(t, { clock })
    const deployed = await ctx.deploy(fs.readFileSync(path.join(PROCESSES, 's5-cap-giay-chung-nhan-dat.bpmn'), 'utf8'))
    t.equal(deployed.status, 201, JSON.stringify(deployed.body))
    const officer = await caller(ctx, {
      userId: 'can-bo-vpdk',
      roles: ['officer'],
      groups: ['one-stop', 'van-phong-dang-ky', 'ubnd-xa'],
      agency: LAND,
    })
    const s = await officer.post('/api/dossiers', {
      procedureCode: '1.004227',
      applicant: { name: 'Trần Văn Bình', idNumber: '001085054321' },
      channel: 1,
      data: PARCEL,
    })
    t.equal(s.status, 201, JSON.stringify(s.body))
    const id = s.body.dossier.id as string
    for (const a of ['accept', 'transfer', 'propose', 'answer', 'propose'])
      t.equal((await officer.act(id, a, a === 'answer' ? { opinion: 'Đã niêm yết' } : {})).status, 200, a)
    // The retry cycle (R3/PT10M): the first attempt and three retries, then the incident.
    for (let i = 0; i < 4; i++) {
      await ctx.system.handoffs.dispatchDue()
      clock.advance(10 * 60_000)
    }
    const h = await ctx.db('handoffs').where({ dossier_id: id }).first()
    t.equal(h.state, 'incident')
    t.match(h.error_message, /Chưa cấu hình hệ thống của cơ quan CO-QUAN-THUE.*THUE-NVTC-DAT/)
    const d = (await officer.get(`/api/dossiers/${id}`)).body.dossier
    t.equal(d.status, 'IN_PROCESS', 'the dossier waits for the tax authority: no obligation invented, no step skipped')
  },
)
