import t from 'tap'
import { createHash } from 'node:crypto'
import { fixture, testContext, testUrls, type Teardown, type TestContext } from './helpers/context.ts'
import { testClock } from './helpers/clock.ts'
import { pino } from 'pino'
import { signBody } from '../src/handoffs/signature.ts'
import { createQueues, redisConnection } from '../src/outbox/queues.ts'
import { createOutboxRelay } from '../src/outbox/relay.ts'
import { startPeerCallbackWorker } from '../src/workers/peer-callback.worker.ts'
import { pollUntil } from './helpers/poll.ts'
import { freePort } from '../src/infra/free-port.ts'
import { overHttp as http } from './helpers/peer.ts'

/**
 * Liên thông between two deployments: two real instances of the system (each its own database,
 * queue prefix and port), configured as each other's peers, talking only HTTP. The commune's 3-in-1
 * birth registration hands the permanent residence step to the police's system; its officer works the
 * dossier there, and the police system calls back.
 */
const KEY = 'khoa-lien-thong-ubnd-xa-va-cong-an-0123456789'
const MON_0900 = '2026-11-23T02:00:00Z'
const PDF = Buffer.from('%PDF-1.4\n% to khai khai sinh\n%%EOF\n')
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3])
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

async function instance(
  t: Teardown,
  port: number,
  agency: string,
  peerAgencies: string[],
  peerPort: number,
  clock: ReturnType<typeof testClock>,
) {
  const ctx = await testContext(t, {
    clock,
    env: {
      DEFAULT_AGENCY: agency,
      HANDOFF_PEERS: JSON.stringify(Object.fromEntries(peerAgencies.map((a) => [a, { url: `http://127.0.0.1:${peerPort}`, key: KEY }]))),
    },
  })
  await ctx.app.listen({ port, host: '127.0.0.1' })
  return { ctx, base: `http://127.0.0.1:${port}` }
}

async function twoSystems(t: Teardown, opts: { communeDiagram?: string; otherAgencies?: string[]; otherDiagrams?: string[] } = {}) {
  const clock = testClock(MON_0900)
  const [communePort, policePort] = [await freePort(), await freePort()]
  const commune = await instance(t, communePort, 'UBND-XA', opts.otherAgencies ?? ['CA-TINH'], policePort, clock)
  const police = await instance(t, policePort, 'CA-TINH', ['UBND-XA'], communePort, clock)
  const deploy = async (s: { ctx: TestContext; base: string }, xml: string, agency: string) => {
    const r = await http(s.base, await s.ctx.token({ roles: ['analyst'], agency })).post('/api/procedures', xml, {
      'content-type': 'application/xml',
    })
    if (r.status !== 201) throw new Error(JSON.stringify(r.body))
  }
  await deploy(commune, fixture(opts.communeDiagram ?? 'bpmn/peer-birth-3in1.bpmn'), 'UBND-XA')
  for (const d of opts.otherDiagrams ?? ['bpmn/peer-police-residence.bpmn']) await deploy(police, fixture(d), 'CA-TINH')
  const communeOfficer = http(
    commune.base,
    await commune.ctx.token({ userId: 'can-bo-xa', roles: ['officer'], groups: ['one-stop'], agency: 'UBND-XA' }),
  )
  const policeOfficer = http(
    police.base,
    await police.ctx.token({
      userId: 'can-bo-ca',
      roles: ['officer'],
      groups: ['police-residence', 'social-insurance'],
      agency: 'CA-TINH',
    }),
  )
  return { clock, commune, police, communeOfficer, policeOfficer }
}

/** Submits the birth registration with two documents and completes its first step: the dossier reaches the peer handoff. */
async function toHandoff(
  t: Pick<typeof import('tap').default, 'equal'>,
  w: Awaited<ReturnType<typeof twoSystems>>,
  procedureCode = 'KhaiSinh3in1',
) {
  const s = await w.communeOfficer.post('/api/dossiers', {
    procedureCode,
    applicant: { name: 'Nguyễn Văn An', idNumber: '001090012345', address: 'Xã Tân Lập' },
    channel: 1,
    data: { childName: 'Nguyễn Minh Khôi', birthDate: '2026-11-20' },
  })
  t.equal(s.status, 201, JSON.stringify(s.body))
  const dossier = s.body.dossier as { id: string; code: string }
  for (const [name, type, content] of [
    ['To khai khai sinh.pdf', 'application/pdf', PDF],
    ['Giay chung sinh.png', 'image/png', PNG],
  ] as const) {
    const up = await w.communeOfficer.post(`/api/dossiers/${dossier.id}/documents?fileName=${encodeURIComponent(name)}`, content, {
      'content-type': type,
    })
    t.equal(up.status, 201, JSON.stringify(up.body))
  }
  const task = s.body.tasks.find((x: { activityId: string }) => x.activityId === 'RegisterBirth')
  t.equal((await w.communeOfficer.post(`/api/tasks/${task.id}/claim`)).status, 200)
  const done = await w.communeOfficer.post(`/api/tasks/${task.id}/complete`, { variables: {} })
  t.equal(done.status, 200, JSON.stringify(done.body))
  return dossier
}

t.test('two deployments: the commune hands the residence step to the police system, which works it and calls back', async (t) => {
  const w = await twoSystems(t)
  const dossier = await toHandoff(t, w)

  // The commune's handoff worker sends it: the police system answers 202 and opens its own dossier.
  t.equal(await w.commune.ctx.system.handoffs.dispatchDue(), 1)
  const handoffs = await w.communeOfficer.get(`/api/dossiers/${dossier.id}/handoffs`)
  t.equal(handoffs.status, 200)
  t.match(handoffs.body.items ?? handoffs.body, [{ receivingAgency: 'CA-TINH', state: 'waiting' }], 'the commune waits for the police')

  const queue = await w.policeOfficer.get('/api/tasks?procedureCode=ThuongTru')
  t.equal(queue.status, 200, JSON.stringify(queue.body))
  const policeTasks = (queue.body.items as Array<{ id: string; dossierId: string; activityId: string }>).filter(
    (x) => x.activityId === 'RegisterResidence',
  )
  t.equal(policeTasks.length, 1, 'one dossier at the police, with its task for the police officers')
  const policeDossierId = policeTasks[0]!.dossierId
  const view = await w.policeOfficer.get(`/api/dossiers/${policeDossierId}`)
  t.equal(view.body.dossier.procedureCode, 'ThuongTru')
  t.match(view.body.dossier.applicant, { name: 'Nguyễn Văn An', idNumber: '001090012345' })
  t.match(view.body.dossier.data, { childName: 'Nguyễn Minh Khôi', peerAgency: 'UBND-XA', peerBusinessKey: dossier.code })
  const docs = await w.policeOfficer.get(`/api/dossiers/${policeDossierId}/documents`)
  t.same(
    docs.body.items.map((d: { fileName: string; sha256: string }) => [d.fileName, d.sha256]).sort(),
    [
      ['Giay chung sinh.png', sha(PNG)],
      ['To khai khai sinh.pdf', sha(PDF)],
    ],
    'the same documents, checksums verified',
  )

  // A retried request (the commune's worker died before recording the 202): the same dossier, no second one.
  await w.commune.ctx.db('handoffs').where({ dossier_id: dossier.id }).update({ state: 'pending' })
  t.equal(await w.commune.ctx.system.handoffs.dispatchDue(), 1)
  const again = await w.policeOfficer.get('/api/tasks?procedureCode=ThuongTru')
  t.equal(again.body.items.filter((x: { activityId: string }) => x.activityId === 'RegisterResidence').length, 1, 'still one dossier')

  // The police officer claims and completes the task on the police system: its dossier ends, the callback is owed.
  t.equal((await w.policeOfficer.post(`/api/tasks/${policeTasks[0]!.id}/claim`)).status, 200)
  const done = await w.policeOfficer.post(`/api/tasks/${policeTasks[0]!.id}/complete`, { variables: { outcome: 'approved' } })
  t.equal(done.status, 200, JSON.stringify(done.body))
  // The police system's own relay and callback worker (BullMQ on its queue prefix) call the commune back.
  const log = pino({ level: 'silent' })
  const queues = createQueues(redisConnection(testUrls().redisUrl), w.police.ctx.config.queuePrefix)
  const relay = createOutboxRelay({ db: w.police.ctx.db, repo: w.police.ctx.system.repos.outbox, queues, clock: w.clock, log, pollMs: 50 })
  const worker = startPeerCallbackWorker({
    connection: redisConnection(testUrls().redisUrl),
    prefix: w.police.ctx.config.queuePrefix,
    callbacks: w.police.ctx.system.peerCallbacks,
    log,
    lockMs: 30_000,
  })
  t.teardown(async () => {
    await worker.close()
    await relay.stop()
    await queues.close()
  })
  await relay.start()
  const answered = async () => (await w.commune.ctx.db('handoffs').where({ dossier_id: dossier.id }).first()).state === 'completed'
  const delivered = async () => (await w.police.ctx.db('peer_handoffs').first()).state === 'called_back'
  await pollUntil('the police system to call the commune back', async () => (await delivered()) && (await answered()))
  const row = await w.police.ctx.db('peer_handoffs').first()
  t.match(row, { state: 'called_back', attempts: 1 }, 'called back once')
  t.equal(await w.police.ctx.system.peerCallbacks.deliverDue(), 0, 'nothing left to send')

  // The commune's dossier goes on the approved path with the result variables.
  const after = await w.communeOfficer.get(`/api/dossiers/${dossier.id}`)
  t.same(
    after.body.tasks.filter((x: { status: string }) => x.status === 'open').map((x: { activityId: string }) => x.activityId),
    ['IssueResult'],
  )
  const vars = await w.commune.ctx.db('handoffs').where({ dossier_id: dossier.id }).first()
  t.equal(vars.state, 'completed')
  t.match(vars.answer.variables, { peerOutcome: 'approved', peerRefused: false, peerDossierCode: view.body.dossier.code })
})

t.test('a forged, unknown or replayed peer request is refused with 401 and creates nothing; a bad checksum 422', async (t) => {
  const w = await twoSystems(t)
  const body = {
    handoffId: '0b5c1a52-5d0e-4a43-9a7f-0c2a3f8d1e01',
    agency: 'UBND-XA',
    procedureCode: 'ThuongTru',
    businessKey: 'H01.01-261123-0001',
    applicant: { name: 'Nguyễn Văn An', idNumber: '001090012345' },
    variables: {},
    documents: [{ fileName: 'a.pdf', contentType: 'application/pdf', sha256: sha(PDF), content: PDF.toString('base64') }],
  }
  const send = async (b: unknown, key: string, at = w.clock.now()) => {
    const raw = JSON.stringify(b)
    const ts = String(Math.floor(at.getTime() / 1000))
    const res = await fetch(`${w.police.base}/api/peer/dossiers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tthc-timestamp': ts, 'x-tthc-signature': signBody(key, ts, raw) },
      body: raw,
    })
    return { status: res.status, body: (await res.json()) as { error?: { code?: string } } }
  }
  const forged = await send(body, 'khoa-gia-mao-khong-phai-cua-ubnd-xa-000000')
  t.equal(forged.status, 401)
  t.equal(forged.body.error?.code, 'HANDOFF_SIGNATURE_INVALID')
  const unknown = await send({ ...body, agency: 'UBND-LA' }, KEY)
  t.equal(unknown.status, 401)
  t.equal(unknown.body.error?.code, 'HANDOFF_SIGNATURE_INVALID')
  const old = await send(body, KEY, new Date(w.clock.now().getTime() - 3600_000))
  t.equal(old.status, 401)
  t.equal(old.body.error?.code, 'HANDOFF_TIMESTAMP_EXPIRED')
  const tampered = await send({ ...body, documents: [{ ...body.documents[0], content: PNG.toString('base64') }] }, KEY)
  t.equal(tampered.status, 422)
  t.equal(tampered.body.error?.code, 'PEER_DOCUMENT_CHECKSUM_MISMATCH')
  t.equal(Number((await w.police.ctx.db('dossiers').count('* as n'))[0]!.n), 0, 'no dossier created')

  const first = await send(body, KEY)
  t.equal(first.status, 202)
  const retried = await send(body, KEY)
  t.equal(retried.status, 200)
  t.same(retried.body, first.body, 'a retried request answers the same dossier')
  t.equal(Number((await w.police.ctx.db('dossiers').count('* as n'))[0]!.n), 1)
})

t.test(
  'S1 3-in-1: police and social insurance steps both handed to the provincial system; the result waits for both callbacks',
  async (t) => {
    const w = await twoSystems(t, {
      communeDiagram: 'bpmn/peer-birth-3in1-two-peers.bpmn',
      otherAgencies: ['CA-TINH', 'BHXH-TINH'],
      otherDiagrams: ['bpmn/peer-police-residence.bpmn', 'bpmn/peer-health-card.bpmn'],
    })
    const dossier = await toHandoff(t, w, 'KhaiSinh3in1Day')
    t.equal(await w.commune.ctx.system.handoffs.dispatchDue(), 2, 'both handoffs sent')

    const work = async (procedureCode: string, activityId: string) => {
      const q = await w.policeOfficer.get(`/api/tasks?procedureCode=${procedureCode}`)
      const tasks = (q.body.items as Array<{ id: string; activityId: string }>).filter((x) => x.activityId === activityId)
      t.equal(tasks.length, 1, `one ${procedureCode} dossier with its task`)
      t.equal((await w.policeOfficer.post(`/api/tasks/${tasks[0]!.id}/claim`)).status, 200)
      t.equal((await w.policeOfficer.post(`/api/tasks/${tasks[0]!.id}/complete`, { variables: { outcome: 'approved' } })).status, 200)
    }
    const open = async () =>
      ((await w.communeOfficer.get(`/api/dossiers/${dossier.id}`)).body.tasks as Array<{ status: string; activityId: string }>)
        .filter((x) => x.status === 'open')
        .map((x) => x.activityId)

    await work('ThuongTru', 'RegisterResidence')
    t.equal(await w.police.ctx.system.peerCallbacks.deliverDue(), 1)
    t.same(await open(), [], 'the police answered; the commune still waits for social insurance')
    await work('TheBHYT', 'IssueCard')
    t.equal(await w.police.ctx.system.peerCallbacks.deliverDue(), 1)
    t.same(await open(), ['IssueResult'], 'both answered: the result is issued')
    const states = await w.commune.ctx.db('handoffs').where({ dossier_id: dossier.id }).pluck('state')
    t.same(states, ['completed', 'completed'])
  },
)
