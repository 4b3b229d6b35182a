import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { FIXTURES, testContext, type Teardown } from './helpers/context.ts'
import { caller } from './helpers/api.ts'
import { testClock } from './helpers/clock.ts'
import { peerSystem } from './helpers/peer.ts'
import { signBody } from '../src/handoffs/signature.ts'
import { pino } from 'pino'
import { pollUntil } from './helpers/poll.ts'
import { createQueues, redisConnection } from '../src/outbox/queues.ts'
import { createOutboxRelay } from '../src/outbox/relay.ts'
import { startHandoffWorker } from '../src/workers/handoff.worker.ts'

/**
 * Handoffs (liên thông) to another agency's system through the http adapter: written in the step
 * that reaches the service task, answered once (even when the worker dies between the answer and
 * its commit), retried on the diagram's cycle, an incident when retries run out, signed callbacks.
 */
const diagram = fs.readFileSync(path.join(FIXTURES, 'bpmn', 'handoff-tax.bpmn'), 'utf8')
const KEY = 'khoa-ky-lien-thong-cuc-thue-0123456789'
const MON_0900 = '2026-11-23T02:00:00Z'

async function world(t: Teardown, opts: { faults?: { afterAdapterCall?: () => void } } = {}) {
  const peer = await peerSystem(t)
  const clock = testClock(MON_0900)
  const ctx = await testContext(t, {
    clock,
    env: { HANDOFF_PEERS: JSON.stringify({ 'CUC-THUE': { url: peer.url, key: KEY } }) },
    ...(opts.faults ? { handoffFaults: opts.faults } : {}),
  })
  const r = await ctx.deploy(diagram)
  if (r.status !== 201) throw new Error(JSON.stringify(r.body))
  const officer = await caller(ctx, { userId: 'can-bo', roles: ['officer'], groups: ['one-stop', 'specialists', 'leaders'] })
  const admin = await caller(ctx, { userId: 'quan-tri', roles: ['admin'] })
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
  const handoff = async (dossierId: string, activityId = 'TaxCheck') =>
    ctx.db('handoffs').where({ dossier_id: dossierId, activity_id: activityId }).first()
  const history = async (dossierId: string, action: string) => ctx.db('history').where({ dossier_id: dossierId, action })
  return { ctx, clock, peer, officer, admin, submit, handoff, history }
}

t.test('the step that reaches a handoff task writes the handoff and its first job in its own transaction', async (t) => {
  const w = await world(t)
  const d = await w.submit()
  const h = await w.handoff(d.id)
  t.equal(h.state, 'pending')
  t.equal(h.receiving_agency, 'CUC-THUE')
  t.equal(h.adapter, 'http')
  t.equal(h.topic, 'tax-obligation')
  t.equal(h.business_key, d.code)
  t.equal(h.retry_cycle, 'R2/PT10M')
  t.equal(h.variables.landArea, 120, 'the process variables go with it')
  const jobs = await w.ctx.db('outbox').where({ topic: 'handoff.dispatch' })
  t.equal(jobs.length, 1, 'one outbox entry: the job of its first attempt')
  t.equal(jobs[0].payload.handoffId, h.id)
  t.equal((await w.history(d.id, 'handoff.created')).length, 1)
  t.same((await w.officer.get(`/api/dossiers/${d.id}`)).body.tasks, [], 'no officer task: the dossier waits for the tax authority')
})

t.test('a handoff completes once when its worker dies after the adapter answered and before the commit', async (t) => {
  let killed = false
  const w = await world(t, {
    faults: {
      afterAdapterCall: () => {
        if (!killed) {
          killed = true
          throw new Error('worker killed')
        }
      },
    },
  })
  w.peer.answer(() => ({ status: 200, body: { variables: { taxAmount: 1_500_000 } } }))
  const d = await w.submit()
  const h = await w.handoff(d.id)
  await t.rejects(w.ctx.system.handoffs.dispatch(h.id), /worker killed/)
  t.equal((await w.handoff(d.id)).state, 'pending', 'nothing was committed: the handoff still waits')
  t.equal(await w.ctx.system.handoffs.dispatch(h.id), 'completed', 'the job runs again and commits')
  t.equal(await w.ctx.system.handoffs.dispatch(h.id), 'skipped', 'a third run finds it answered')
  t.equal(w.peer.requests.length, 2, 'the peer was called twice…')
  t.same(
    w.peer.requests.map((r) => r.headers['idempotency-key']),
    [h.id, h.id],
    '…with the same idempotency key, the handoff id',
  )
  t.equal((await w.history(d.id, 'handoff.completed')).length, 1, 'one completion in the dossier history')
  const police = await w.handoff(d.id, 'PoliceCheck')
  t.equal(police.state, 'pending', 'the instance went on to the next handoff, once')
  t.equal(police.variables.taxAmount, 1_500_000, 'the answer variables are process variables')
  t.equal((await w.ctx.db('handoffs').where({ dossier_id: d.id })).length, 2)
})

t.test('a peer request is signed with the peer key over the timestamp and body', async (t) => {
  const w = await world(t)
  const d = await w.submit()
  await w.ctx.system.handoffs.dispatch((await w.handoff(d.id)).id)
  const r = w.peer.requests[0]!
  t.equal(r.headers['x-tthc-signature'], signBody(KEY, String(r.headers['x-tthc-timestamp']), r.raw))
  t.equal(r.body.businessKey, d.code)
  t.equal(r.body.variables.landArea, 120)
})

t.test('a BPMN error from the adapter (422) takes the error boundary', async (t) => {
  const w = await world(t)
  w.peer.answer(() => ({ status: 422, body: { errorCode: 'TAX_REFUSED', errorMessage: 'Chưa nộp tờ khai' } }))
  const d = await w.submit()
  t.equal(await w.ctx.system.handoffs.dispatch((await w.handoff(d.id)).id), 'completed')
  const tasks = (await w.officer.get(`/api/dossiers/${d.id}`)).body.tasks
  t.same(
    tasks.map((x: any) => x.activityId),
    ['Explain'],
    'the boundary path runs',
  )
  t.notOk(await w.handoff(d.id, 'PoliceCheck'), 'the normal path was never taken')
  const line = (await w.history(d.id, 'handoff.bpmn-error'))[0]
  t.equal(line.details.errorCode, 'TAX_REFUSED')
})

t.test('a failing adapter retries on the configured cycle, opens one incident, and an admin retries it successfully', async (t) => {
  const w = await world(t)
  w.peer.answer(() => ({ status: 503, body: { message: 'bảo trì' } }))
  const d = await w.submit()
  const id = (await w.handoff(d.id)).id
  t.equal(await w.ctx.system.handoffs.dispatch(id), 'failed')
  let h = await w.handoff(d.id)
  t.equal(h.retries, 2, 'R2/PT10M: two retries left after the first failure')
  t.equal(new Date(h.next_attempt_at).toISOString(), '2026-11-23T02:10:00.000Z', 'the next attempt ten minutes later')
  const retryJob = await w.ctx.db('outbox').where({ topic: 'handoff.dispatch' }).orderBy('id', 'desc').first()
  t.equal(new Date(retryJob.available_at).toISOString(), '2026-11-23T02:10:00.000Z', 'its job is queued for then, durably')
  t.equal(await w.ctx.system.handoffs.dispatchDue(), 0, 'nothing runs before the retry time')
  t.equal(await w.ctx.system.handoffs.dispatch(id), 'not-due', 'an early job does nothing')
  w.clock.advance(10 * 60_000)
  t.equal(await w.ctx.system.handoffs.dispatchDue(), 1)
  t.equal((await w.handoff(d.id)).retries, 1)
  w.clock.advance(10 * 60_000)
  t.equal(await w.ctx.system.handoffs.dispatchDue(), 1)
  h = await w.handoff(d.id)
  t.equal(h.state, 'incident', 'retries ran out')
  t.equal(h.attempts, 3, 'one attempt and two retries')
  t.match(h.error_message, /503/)
  w.clock.advance(60 * 60_000)
  t.equal(await w.ctx.system.handoffs.dispatchDue(), 0, 'a handoff in an incident is not retried by itself')
  const incidents = await w.admin.get(`/api/incidents?dossierId=${d.id}`)
  t.equal(incidents.status, 200)
  t.equal(incidents.body.items.length, 1, 'exactly one incident')
  const incident = incidents.body.items[0]
  t.match(incident, { incidentType: 'failedJob', state: 'open', activityId: 'TaxCheck', configuration: id, receivingAgency: 'CUC-THUE' })
  t.equal((await w.history(d.id, 'incident.opened')).length, 1)

  w.peer.answer(() => ({ status: 200, body: { variables: { taxAmount: 0 } } }))
  const retry = await w.admin.post(`/api/incidents/${incident.id}/retry`, {})
  t.equal(retry.status, 200, JSON.stringify(retry.body))
  t.equal((await w.handoff(d.id)).state, 'pending')
  t.equal(await w.ctx.system.handoffs.dispatchDue(), 1)
  t.equal((await w.handoff(d.id)).state, 'completed', 'the retried handoff succeeds')
  const after = await w.admin.get(`/api/incidents?dossierId=${d.id}`)
  t.equal(after.body.items[0].state, 'resolved', 'and its incident resolves')
  t.ok(await w.handoff(d.id, 'PoliceCheck'), 'the instance went on')
  const again = await w.admin.post(`/api/incidents/${incident.id}/retry`, {})
  t.equal(again.status, 409)
  t.equal(again.body.error.code, 'INCIDENT_ALREADY_RESOLVED')
})

t.test('an asynchronous answer comes by signed callback; a forged or replayed one changes nothing (401/409)', async (t) => {
  const w = await world(t)
  w.peer.answer(() => ({ status: 202 }))
  const d = await w.submit()
  const id = (await w.handoff(d.id)).id
  t.equal(await w.ctx.system.handoffs.dispatch(id), 'accepted')
  t.equal((await w.handoff(d.id)).state, 'waiting', 'sent: the answer comes later')
  t.equal((await w.history(d.id, 'handoff.sent')).length, 1)
  const send = (body: unknown, opts: { key?: string; at?: Date; tamper?: boolean } = {}) => {
    const raw = JSON.stringify(body)
    const ts = String(Math.floor((opts.at ?? w.clock.now()).getTime() / 1000))
    return w.ctx.app.inject({
      method: 'POST',
      url: `/api/handoffs/${id}/callback`,
      headers: {
        'content-type': 'application/json',
        'x-tthc-timestamp': ts,
        'x-tthc-signature': signBody(opts.key ?? KEY, ts, opts.tamper ? raw.replace('1500', '9999') : raw),
      },
      payload: raw,
    })
  }
  const answer = { outcome: 'complete', variables: { taxAmount: 1500 } }
  const forged = await send(answer, { key: 'khoa-gia-mao-khong-phai-cua-cuc-thue-000' })
  t.equal(forged.statusCode, 401)
  t.equal(forged.json().error.code, 'HANDOFF_SIGNATURE_INVALID')
  const tampered = await send(answer, { tamper: true })
  t.equal(tampered.statusCode, 401, 'a body changed after signing')
  const old = await send(answer, { at: new Date(w.clock.now().getTime() - 3600_000) })
  t.equal(old.statusCode, 401)
  t.equal(old.json().error.code, 'HANDOFF_TIMESTAMP_EXPIRED')
  t.equal((await w.handoff(d.id)).state, 'waiting', 'none of them changed anything')
  t.notOk(await w.handoff(d.id, 'PoliceCheck'))

  const ok = await send(answer)
  t.equal(ok.statusCode, 200, ok.body)
  t.equal((await w.handoff(d.id)).state, 'completed')
  const replay = await send(answer)
  t.equal(replay.statusCode, 409)
  t.equal(replay.json().error.code, 'HANDOFF_ALREADY_ANSWERED')
  t.equal((await w.history(d.id, 'handoff.completed')).length, 1, 'one completion')
  t.equal((await w.ctx.db('handoffs').where({ dossier_id: d.id, activity_id: 'PoliceCheck' })).length, 1, 'the instance resumed once')
})

t.test('stopping the dossier cancels its waiting handoff in the same transaction', async (t) => {
  const w = await world(t)
  const d = await w.submit()
  const stop = await w.admin.post(`/api/dossiers/${d.id}/stop`, { reason: 'Cơ quan đề nghị dừng' })
  t.equal(stop.status, 200, JSON.stringify(stop.body))
  const h = await w.handoff(d.id)
  t.equal(h.state, 'cancelled')
  t.equal((await w.history(d.id, 'handoff.cancelled')).length, 1)
  t.equal(await w.ctx.system.handoffs.dispatch(h.id), 'skipped', 'its job does nothing')
  t.equal(w.peer.requests.length, 0)
})

t.test(
  'through the outbox relay and the BullMQ worker: a worker that dies after the answer leaves the job to run again, and the dossier resumes once',
  async (t) => {
    let killed = false
    const w = await world(t, {
      faults: {
        afterAdapterCall: () => {
          if (!killed) {
            killed = true
            throw new Error('worker killed')
          }
        },
      },
    })
    w.peer.answer(() => ({ status: 200, body: { variables: { taxAmount: 42 } } }))
    const connection = redisConnection(w.ctx.config.redisUrl!)
    const queues = createQueues(connection, w.ctx.config.queuePrefix)
    const log = pino({ level: 'silent' })
    const relay = createOutboxRelay({ db: w.ctx.db, repo: w.ctx.system.repos.outbox, queues, clock: w.clock, log, pollMs: 50 })
    const worker = startHandoffWorker({
      connection,
      prefix: w.ctx.config.queuePrefix,
      handoffs: w.ctx.system.handoffs,
      clock: w.clock,
      log,
    })
    t.teardown(async () => {
      await worker.close()
      await relay.stop()
      await queues.close()
    })
    await relay.start()
    const d = await w.submit()
    await pollUntil('the handoff to complete', async () => (await w.handoff(d.id))?.state === 'completed')
    t.ok(killed, 'the first run died between the answer and the commit')
    t.equal(w.peer.requests.length, 2)
    t.equal(w.peer.requests[0]!.headers['idempotency-key'], w.peer.requests[1]!.headers['idempotency-key'], 'the same idempotency key')
    t.equal((await w.history(d.id, 'handoff.completed')).length, 1, 'one completion')
    t.equal((await w.ctx.db('handoffs').where({ dossier_id: d.id, activity_id: 'PoliceCheck' })).length, 1, 'the instance resumed once')
  },
)

t.test(
  'a handoff is due in working days: due-soon and overdue alarms name the late agency once each; the dossier and supervisors see it',
  async (t) => {
    const w = await world(t)
    w.peer.answer(() => ({ status: 202 }))
    const d = await w.submit()
    const h = await w.handoff(d.id)
    t.equal(new Date(h.due_at).toISOString(), '2026-11-25T02:00:00.000Z', 'two working days: Wednesday 09:00')
    await w.ctx.system.handoffs.dispatch(h.id)
    const watch = w.ctx.system.handoffDeadlines
    t.equal(await watch.run(), 0, 'on track on Monday')
    w.clock.set('2026-11-24T03:00:00Z')
    t.equal(await watch.run(), 1, 'due soon on Tuesday 10:00 (less than a working day left)')
    t.equal(await watch.run(), 0, 'raised once')
    w.clock.set('2026-11-25T03:00:00Z')
    t.equal(await watch.run(), 1, 'overdue on Wednesday 10:00')
    t.equal(await watch.run(), 0)
    const soon = await w.history(d.id, 'handoff.due_soon')
    const late = await w.history(d.id, 'handoff.overdue')
    t.equal(soon.length, 1)
    t.equal(late.length, 1)
    t.equal(late[0].details.receivingAgency, 'CUC-THUE', 'the late agency is named')
    const notes = await w.ctx.db('notifications').where({ dossier_id: d.id, kind: 'handoff_overdue' })
    t.equal(notes.length, 1)
    t.match(notes[0].message, /CUC-THUE.*quá hạn/)

    const view = await w.officer.get(`/api/dossiers/${d.id}/handoffs`)
    t.equal(view.status, 200, JSON.stringify(view.body))
    t.match(view.body.items[0], { activityId: 'TaxCheck', receivingAgency: 'CUC-THUE', state: 'waiting', overdue: true, attempts: 1 })
    t.ok(view.body.items[0].sentAt, 'sent')
    const stranger = await caller(w.ctx, { userId: 'cd-khac', roles: ['citizen'] })
    t.equal((await stranger.get(`/api/dossiers/${d.id}/handoffs`)).status, 404)

    const supervisor = await caller(w.ctx, { userId: 'giam-sat', roles: ['supervisor'] })
    const board = await supervisor.get('/api/supervision/handoffs')
    t.equal(board.status, 200, JSON.stringify(board.body))
    t.same(board.body.byReceivingAgency, [{ receivingAgency: 'CUC-THUE', waiting: 1, overdue: 1, stuck: 1, incidents: 0 }])
    t.equal(board.body.items.length, 1)
    const other = await caller(w.ctx, { userId: 'gs-khac', roles: ['supervisor'], agency: 'SO-KHAC' })
    t.equal((await other.get('/api/supervision/handoffs?agency=UBND-TINH')).status, 403, 'another agency’s supervisor')
  },
)
