import t from 'tap'
import { fixture, type Teardown } from './helpers/context.ts'
import { caller } from './helpers/api.ts'
import { activityIds, bpmnWorld, completeActivity, openTasks, submitDossier, type BpmnWorld } from './helpers/bpmn-world.ts'
import { MAX_CANDIDATES } from '../src/messages/message.repository.ts'
import { slow } from './helpers/slow.ts'

/**
 * Signals from outside (POST /api/signals, Camunda 7's POST /signal) over a real diagram: one signal
 * reaches every instance of the agency waiting at a signal catch event, a non-interrupting signal
 * boundary adds a task beside the one it is attached to; and a non-interrupting message boundary.
 */
const diagram = fixture('bpmn/signals.bpmn')

type World = BpmnWorld
const world = (t: Teardown) => bpmnWorld(t, diagram)
const submit = (w: World) => submitDossier(w, 'SignalDemo', { name: 'Trần Văn Bình', idNumber: '001190054322' })
const open = async (w: World, dossierId: string) => activityIds(await openTasks(w, dossierId))
const complete = (w: World, dossierId: string, activityId: string) => completeActivity(w, dossierId, activityId)

t.test('a signal reaches every waiting instance of the agency; instances not waiting for it are passed by', async (t) => {
  const w = await world(t)
  const a = await submit(w)
  const b = await submit(w)
  const c = await submit(w)
  await complete(w, a.id, 'Review')
  await complete(w, b.id, 'Review')
  t.same(await open(w, a.id), [], 'a waits at the signal catch event')
  const r = await w.officer.post('/api/signals', { name: 'OfficeReopened', variables: { reopenedOn: '2026-11-24' } })
  t.equal(r.status, 200)
  t.same(r.body, { delivered: 2 }, 'both waiting instances received it')
  t.same(await open(w, a.id), ['Sign'])
  t.same(await open(w, b.id), ['Sign'])
  t.same(await open(w, c.id), ['Review'], 'the third, still at its review, is not moved')
  t.equal((await w.ctx.db('history').where({ action: 'signal.received' })).length, 2, 'one history line per instance')
  t.same((await w.officer.post('/api/signals', { name: 'OfficeReopened' })).body, { delivered: 0 }, 'nobody waits any more')
})

t.test('a non-interrupting signal boundary adds a task beside the one it is attached to', async (t) => {
  const w = await world(t)
  const d = await submit(w)
  const r = await w.officer.post('/api/signals', { name: 'RegulationChanged' })
  t.same(r.body, { delivered: 1 })
  t.same(await open(w, d.id), ['CheckRegulation', 'Review'], 'the review stays open')
  await complete(w, d.id, 'Review')
  t.same(await open(w, d.id), ['CheckRegulation'], 'the review completed normally: its boundary no longer listens')
  t.same((await w.officer.post('/api/signals', { name: 'RegulationChanged' })).body, { delivered: 0 })
})

t.test('a non-interrupting message boundary adds a task; the task it is attached to stays open', async (t) => {
  const w = await world(t)
  const d = await submit(w)
  const r = await w.officer.post('/api/messages', { messageName: 'AdditionalInfo', businessKey: d.code })
  t.equal(r.status, 200)
  t.same(await open(w, d.id), ['ReadInfo', 'Review'])
})

t.test('signals stay inside the agency: another agency is refused, its officers do not reach these instances', async (t) => {
  const w = await world(t)
  const d = await submit(w)
  const other = await caller(w.ctx, { userId: 'khac', roles: ['officer'], groups: ['specialists'], agency: 'SO-KHAC' })
  t.same((await other.post('/api/signals', { name: 'RegulationChanged' })).body, { delivered: 0 }, 'its own agency has no instance waiting')
  const own = (await w.officer.get(`/api/dossiers/${d.id}`)).body.dossier.agency
  const refused = await other.post('/api/signals', { name: 'RegulationChanged', tenantId: own })
  t.equal(refused.status, 403)
  t.equal((await w.officer.post('/api/signals', { name: 'RegulationChanged', extra: 1 })).status, 400, 'unknown fields are refused')
  t.same(await open(w, d.id), ['Review'], 'nothing changed')
})

t.test('a signal reaches every waiting instance, more than one page of candidates (500) included', slow, async (t) => {
  const w = await world(t)
  const count = MAX_CANDIDATES + 1
  for (let i = 0; i < count; i++) await submit(w)
  const r = await w.officer.post('/api/signals', { name: 'RegulationChanged' })
  t.same(r.body, { delivered: count }, 'every instance waiting at its review received the signal')
  t.equal((await w.ctx.db('tasks').where({ activity_id: 'CheckRegulation', status: 'open' })).length, count)
})
