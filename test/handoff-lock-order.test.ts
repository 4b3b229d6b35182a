import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { FIXTURES, testContext, type Teardown } from './helpers/context.ts'
import { caller } from './helpers/api.ts'
import { testClock } from './helpers/clock.ts'
import { peerSystem } from './helpers/peer.ts'
import { pollUntil } from './helpers/poll.ts'

/**
 * A peer that answers 202 and calls back at once: the callback's answer locks the dossier (the step's
 * locks) and then the handoff, while the worker records "sent". Both must take their locks in the one
 * order, or Postgres kills one of them as a deadlock (a 500 for the callback, or a failed job).
 */
const diagram = fs.readFileSync(path.join(FIXTURES, 'bpmn', 'handoff-tax.bpmn'), 'utf8')
const KEY = 'khoa-ky-lien-thong-cuc-thue-0123456789'

/**
 * A dossier waiting at its handoff; then, while an answer holds the dossier's lock (the step's locks),
 * the worker dispatches with the peer answering `status`; the answer then takes the handoff row and
 * commits. Returns what the dispatch answered, and the handoff and dossier ids.
 */
async function dispatchDuringAnswer(t: Teardown & Pick<typeof import('tap').default, 'equal'>, status: number) {
  const peer = await peerSystem(t)
  const ctx = await testContext(t, {
    clock: testClock('2026-11-23T02:00:00Z'),
    env: { HANDOFF_PEERS: JSON.stringify({ 'CUC-THUE': { url: peer.url, key: KEY } }) },
  })
  t.equal((await ctx.deploy(diagram)).status, 201)
  const officer = await caller(ctx, { userId: 'can-bo', roles: ['officer'], groups: ['one-stop', 'specialists', 'leaders'] })
  const s = await officer.post('/api/dossiers', {
    procedureCode: 'HandoffDemo',
    applicant: { name: 'Lê Thị Hoa', idNumber: '001190054321' },
    channel: 1,
    data: {},
  })
  t.equal(s.status, 201)
  const dossierId = s.body.dossier.id as string
  const h = await ctx.db('handoffs').where({ dossier_id: dossierId, activity_id: 'TaxCheck' }).first()
  peer.answer(() => ({ status }))

  // The answer, as it runs: the dossier locked first (the step's locks)…
  const answer = await ctx.db.transaction()
  try {
    await answer.raw('SELECT id FROM dossiers WHERE id = ? FOR UPDATE', [dossierId])
    const sent = ctx.system.handoffs.dispatch(h.id)
    sent.catch(() => {})
    await pollUntil('the worker waiting for a lock', async () => {
      const r = await ctx.db.raw(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`,
      )
      return r.rows[0].n > 0
    })
    // …then the handoff row.
    await answer.raw('SELECT id FROM handoffs WHERE id = ? FOR UPDATE', [h.id])
    await answer.commit()
    return { ctx, dispatched: await sent, handoffId: h.id as string, dossierId }
  } finally {
    if (!answer.isCompleted()) await answer.rollback().catch(() => {})
  }
}

t.test('recording a 202 waits for the step locks a concurrent callback holds, then takes the handoff: no deadlock', async (t) => {
  const { ctx, dispatched, handoffId, dossierId } = await dispatchDuringAnswer(t, 202)
  t.equal(dispatched, 'accepted', 'the worker records the 202 once the callback has committed')
  t.equal((await ctx.db('handoffs').where({ id: handoffId }).first()).state, 'waiting', 'the handoff waits for the callback')
  t.equal((await ctx.db('history').where({ dossier_id: dossierId, action: 'handoff.sent' })).length, 1)
})

t.test('recording a failed attempt waits for the step locks an answer holds, then takes the handoff: no deadlock', async (t) => {
  const { ctx, dispatched, handoffId, dossierId } = await dispatchDuringAnswer(t, 503)
  t.equal(dispatched, 'failed', 'the worker records the failed attempt once the answer has committed')
  t.equal((await ctx.db('handoffs').where({ id: handoffId }).first()).state, 'pending', 'the handoff waits for its next attempt')
  t.equal((await ctx.db('history').where({ dossier_id: dossierId, action: 'handoff.failed' })).length, 1)
})
