import t from 'tap'
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { pino } from 'pino'
import { FIXTURES, testContext, type Teardown } from './helpers/context.ts'
import { caller } from './helpers/api.ts'
import { testClock } from './helpers/clock.ts'
import { peerSystem } from './helpers/peer.ts'
import { pollUntil } from './helpers/poll.ts'
import { slow } from './helpers/slow.ts'
import { signBody } from '../src/handoffs/signature.ts'
import { createDb } from '../src/db/knex.ts'
import { createQueues, redisConnection } from '../src/outbox/queues.ts'
import { createOutboxRelay } from '../src/outbox/relay.ts'
import { startHandoffWorker } from '../src/workers/handoff.worker.ts'

/**
 * Handoffs under a saturated server: their attempts and answers never wait behind the API's requests
 * for a database connection (a pool of their own), and a worker runs many attempts at once, since an
 * attempt mostly waits on the other agency's system.
 */
const diagram = fs.readFileSync(path.join(FIXTURES, 'bpmn', 'handoff-tax.bpmn'), 'utf8')
const KEY = 'khoa-ky-lien-thong-cuc-thue-0123456789'
const MON_0900 = '2026-11-23T02:00:00Z'

async function world(t: Teardown, peerUrl?: string) {
  const peer = await peerSystem(t)
  const ctx = await testContext(t, {
    clock: testClock(MON_0900),
    // A peer that holds its calls open must not see them time out on a loaded machine.
    env: { HANDOFF_PEERS: JSON.stringify({ 'CUC-THUE': { url: peerUrl ?? peer.url, key: KEY } }), HANDOFF_TIMEOUT_MS: '120000' },
    jobsPool: 4,
  })
  const r = await ctx.deploy(diagram)
  if (r.status !== 201) throw new Error(JSON.stringify(r.body))
  const officer = await caller(ctx, { userId: 'can-bo', roles: ['officer'], groups: ['one-stop', 'specialists', 'leaders'] })
  const submit = async () => {
    const s = await officer.post('/api/dossiers', {
      procedureCode: 'HandoffDemo',
      applicant: { name: 'Lê Thị Hoa', idNumber: '001190054321' },
      channel: 1,
      data: { landArea: 120 },
    })
    if (s.status !== 201) throw new Error(JSON.stringify(s.body))
    return s.body.dossier as { id: string; code: string }
  }
  // Reads for the assertions, on connections of their own: the API's are all taken below.
  const reader = createDb(ctx.databaseUrl, 2)
  t.teardown(() => reader.destroy())
  const handoff = (dossierId: string, activityId = 'TaxCheck') =>
    reader('handoffs').where({ dossier_id: dossierId, activity_id: activityId }).first()
  /** Every connection of the API's pool taken by a request that waits (say, 30 slow submissions); released by the returned function. */
  const saturateApiPool = async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    let held = 0
    const txs = Array.from({ length: ctx.config.dbPoolMax > 30 ? ctx.config.dbPoolMax : 30 }, () =>
      ctx.db.transaction(async (tx) => {
        await tx.raw('SELECT 1')
        held++
        await gate
      }),
    )
    await pollUntil('every API connection taken', () => held === txs.length)
    let released = false
    const done = async () => {
      if (released) return
      released = true
      release()
      await Promise.all(txs)
    }
    t.teardown(done)
    return done
  }
  return { ctx, peer, submit, handoff, saturateApiPool, reader }
}

t.test("a handoff's attempt and its answer go through while every API connection is taken", async (t) => {
  const w = await world(t)
  w.peer.answer(() => ({ status: 200, body: { variables: { taxAmount: 900_000 } } }))
  const d = await w.submit()
  const h = await w.handoff(d.id)
  const release = await w.saturateApiPool()
  let outcome: string | undefined
  void w.ctx.system.handoffs.dispatch(h.id).then((o) => (outcome = o))
  await pollUntil('the attempt answered and committed while the API pool is full', () => outcome !== undefined, { timeoutMs: 5000 })
  t.equal(outcome, 'completed')
  t.equal(w.peer.requests.length, 1, 'the tax authority was called')
  t.equal((await w.handoff(d.id)).state, 'completed', 'its answer resumed the dossier')
  t.equal((await w.handoff(d.id, 'PoliceCheck')).state, 'pending', 'which went on to the next handoff')
  await release()
})

t.test('a signed callback resumes the dossier while every API connection is taken', async (t) => {
  const w = await world(t)
  w.peer.answer(() => ({ status: 202 }))
  const d = await w.submit()
  const h = await w.handoff(d.id)
  t.equal(await w.ctx.system.handoffs.dispatch(h.id), 'accepted')
  const release = await w.saturateApiPool()
  const body = JSON.stringify({ outcome: 'complete', variables: { taxAmount: 700_000 } })
  const ts = String(Math.floor(w.ctx.clock.now().getTime() / 1000))
  let status: number | undefined
  void w.ctx.app
    .inject({
      method: 'POST',
      url: `/api/handoffs/${h.id}/callback`,
      headers: { 'content-type': 'application/json', 'x-tthc-timestamp': ts, 'x-tthc-signature': signBody(KEY, ts, body) },
      payload: body,
    })
    .then((r) => (status = r.statusCode))
  await pollUntil('the callback answered while the API pool is full', () => status !== undefined, { timeoutMs: 5000 })
  t.equal(status, 200)
  t.equal((await w.handoff(d.id)).state, 'completed')
  t.equal((await w.handoff(d.id, 'PoliceCheck')).state, 'pending', 'the dossier went on to the next handoff')
  await release()
})

t.test('the handoff worker calls many slow peers at once, far more than the cores', slow, async (t) => {
  // Another agency's system that holds every call open until N are open together, then answers them all.
  const N = 64
  const held: Array<() => void> = []
  let mostOpen = 0
  const slowPeer = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      held.push(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"variables":{}}'))
      mostOpen = Math.max(mostOpen, held.length)
      if (held.length >= N) for (const answer of held.splice(0)) answer()
    })
  })
  await new Promise<void>((r) => slowPeer.listen(0, '127.0.0.1', r))
  t.teardown(() => {
    for (const answer of held.splice(0)) answer()
    return new Promise<void>((r) => slowPeer.close(() => r()))
  })
  const w = await world(t, `http://127.0.0.1:${(slowPeer.address() as AddressInfo).port}/lien-thong`)
  const dossiers: Array<{ id: string }> = []
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (dossiers.length < N) dossiers.push(await w.submit())
    }),
  )
  const connection = redisConnection(w.ctx.config.redisUrl!)
  const queues = createQueues(connection, w.ctx.config.queuePrefix)
  const log = pino({ level: 'silent' })
  const relay = createOutboxRelay({ db: w.ctx.db, repo: w.ctx.system.repos.outbox, queues, clock: w.ctx.clock, log, pollMs: 50 })
  // As `npm start` starts it, with its default concurrency.
  const worker = startHandoffWorker({
    connection,
    prefix: w.ctx.config.queuePrefix,
    handoffs: w.ctx.system.handoffs,
    clock: w.ctx.clock,
    log,
  })
  t.teardown(async () => {
    await worker.close()
    await relay.stop()
    await queues.close()
  })
  await relay.start()
  await pollUntil(`${N} calls open at the peer at once`, () => mostOpen >= N, { timeoutMs: 8000 })
  const ids = dossiers.map((d) => d.id)
  const completed = async () =>
    Number(
      (await w.reader('handoffs').whereIn('dossier_id', ids).where({ activity_id: 'TaxCheck', state: 'completed' }).count('* as n'))[0]!.n,
    )
  await pollUntil('every handoff answered', async () => (await completed()) === N, { timeoutMs: 60_000, pauseMs: 50 })
  t.equal(mostOpen, N, `${N} handoffs were waiting on the other system together`)
})

t.test('two attempts of one handoff running at once (a job taken over from a slow worker) are both counted', async (t) => {
  const w = await world(t)
  w.peer.answer(() => ({ status: 202 }))
  const d = await w.submit()
  const h = await w.handoff(d.id)
  const outcomes = await Promise.all([w.ctx.system.handoffs.dispatch(h.id), w.ctx.system.handoffs.dispatch(h.id)])
  t.same(outcomes.sort(), ['accepted', 'duplicate'], 'one marks it sent, the other finds it sent')
  t.equal(w.peer.requests.length, 2, 'the peer was called twice, with the same idempotency key')
  t.equal((await w.handoff(d.id)).attempts, 2, 'and the dossier view shows two attempts')
})
