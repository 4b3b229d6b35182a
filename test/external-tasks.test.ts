import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import type { AddressInfo } from 'node:net'
import { Client, Variables, type Task, type TaskService } from 'camunda-external-task-client-js'
import { FIXTURES, testContext, type Teardown } from './helpers/context.ts'
import { caller } from './helpers/api.ts'
import { testClock } from './helpers/clock.ts'
import { pollUntil } from './helpers/poll.ts'

/**
 * The Camunda 7 external-task API over handoffs without an adapter: the real
 * camunda-external-task-client-js against /engine-rest (complete, failure with retries, BPMN error),
 * and the /api routes for locks (expiry, concurrency, the worker holding the lock, topics of the token).
 */
const diagram = fs.readFileSync(path.join(FIXTURES, 'bpmn', 'external-police.bpmn'), 'utf8')
const TOPIC = 'police-residence'

async function world(t: Teardown) {
  const clock = testClock('2026-11-23T02:00:00Z')
  const ctx = await testContext(t, { clock })
  const r = await ctx.deploy(diagram)
  if (r.status !== 201) throw new Error(JSON.stringify(r.body))
  const officer = await caller(ctx, { userId: 'can-bo', roles: ['officer'], groups: ['one-stop', 'specialists', 'leaders'] })
  const admin = await caller(ctx, { userId: 'quan-tri', roles: ['admin'] })
  const workerToken = (topics = [TOPIC]) => ctx.token({ userId: 'ca-xa-worker', roles: ['worker'], agency: 'CA-XA', topics })
  const worker = await caller(ctx, { userId: 'ca-xa-worker', roles: ['worker'], agency: 'CA-XA', topics: [TOPIC] })
  const submit = async () => {
    const s = await officer.post('/api/dossiers', {
      procedureCode: 'PoliceCheckDemo',
      applicant: { name: 'Lê Thị Hoa', idNumber: '001190054321' },
      channel: 1,
      data: { address: 'Thôn 3' },
    })
    if (s.status !== 201) throw new Error(JSON.stringify(s.body))
    return s.body.dossier as { id: string; code: string }
  }
  const openTasks = async (id: string) =>
    ((await officer.get(`/api/dossiers/${id}`)).body.tasks as Array<{ activityId: string; status: string }>)
      .filter((x) => x.status === 'open')
      .map((x) => x.activityId)
  const handoff = (dossierId: string) => ctx.db('handoffs').where({ dossier_id: dossierId }).first()
  const fetch = (as: typeof worker, workerId: string, maxTasks = 10, lockDuration = 60_000) =>
    as.post('/api/external-tasks/fetch-and-lock', { workerId, maxTasks, topics: [{ topicName: TOPIC, lockDuration }] })
  return { ctx, clock, officer, admin, worker, workerToken, submit, openTasks, handoff, fetch }
}

/** The real Camunda client on our /engine-rest, with the worker's bearer token. */
async function camundaClient(t: Teardown, w: Awaited<ReturnType<typeof world>>) {
  await w.ctx.app.listen({ port: 0, host: '127.0.0.1' })
  const port = (w.ctx.app.server.address() as AddressInfo).port
  const token = await w.workerToken()
  const client = new Client({
    baseUrl: `http://127.0.0.1:${port}/engine-rest`,
    workerId: 'ca-xa-1',
    autoPoll: false,
    interval: 50,
    asyncResponseTimeout: 300,
    lockDuration: 60_000,
    interceptors: [(config) => ({ ...config, headers: { ...config.headers, Authorization: `Bearer ${token}` } })],
  })
  const errors: unknown[] = []
  for (const e of ['poll:error', 'complete:error', 'handleFailure:error', 'handleBpmnError:error']) client.on(e, (err) => errors.push(err))
  t.teardown(() => client.stop())
  return { client, errors }
}

t.test('the Camunda client completes an external task with variables: the dossier takes the path they choose', async (t) => {
  const w = await world(t)
  const { client, errors } = await camundaClient(t, w)
  const small = await w.submit()
  const large = await w.submit()
  const seen: Task[] = []
  client.subscribe(TOPIC, async ({ task, taskService }: { task: Task; taskService: TaskService }) => {
    seen.push(task)
    const members = task.businessKey === large.code ? 5 : 2
    await taskService.complete(task, new Variables().set('household', { members, head: 'Lê Văn Nam' }).set('resident', true))
  })
  client.start()
  await pollUntil(
    'both external tasks completed',
    async () => (await w.handoff(large.id)).state === 'completed' && (await w.handoff(small.id)).state === 'completed',
  )
  client.stop()
  t.same(errors, [], 'the client met no error')
  t.equal(seen[0]!.variables.get('address'), 'Thôn 3', 'the worker read the process variables')
  t.same(await w.openTasks(small.id), ['Sign'], 'two members: the default path')
  t.same(await w.openTasks(large.id), ['Survey'], 'five members: the condition on the JSON variable')
  const lines = await w.ctx.db('history').where({ dossier_id: large.id, action: 'handoff.completed' })
  t.equal(lines.length, 1)
  t.equal(lines[0].actor, 'worker:ca-xa-1')
})

t.test('the Camunda client reports failures with retries: fetched again, then one incident when none is left', async (t) => {
  const w = await world(t)
  const { client, errors } = await camundaClient(t, w)
  const d = await w.submit()
  let calls = 0
  client.subscribe(TOPIC, async ({ task, taskService }: { task: Task; taskService: TaskService }) => {
    calls++
    await taskService.handleFailure(task, {
      errorMessage: 'Không kết nối được CSDL dân cư',
      errorDetails: 'ECONNREFUSED',
      retries: task.retries === null ? 2 : task.retries - 1,
      retryTimeout: 0,
    })
  })
  client.start()
  await pollUntil('the incident', async () => (await w.handoff(d.id)).state === 'incident')
  client.stop()
  t.same(errors, [])
  t.equal(calls, 3, 'the first attempt and two retries')
  const incidents = await w.admin.get(`/api/incidents?dossierId=${d.id}`)
  t.equal(incidents.body.items.length, 1, 'one incident')
  t.match(incidents.body.items[0], {
    incidentType: 'failedExternalTask',
    incidentMessage: 'Không kết nối được CSDL dân cư',
    activityId: 'PoliceCheck',
  })
  t.equal((await w.fetch(w.worker, 'ca-xa-2')).body.length, 0, 'a task in an incident is not fetched')
  const retry = await w.admin.post(`/api/incidents/${incidents.body.items[0].id}/retry`, { retries: 1 })
  t.equal(retry.status, 200)
  const again = await w.fetch(w.worker, 'ca-xa-2')
  t.equal(again.body.length, 1, 'retried: fetchable again')
  t.equal(again.body[0].retries, 1)
})

t.test('the Camunda client raises a BPMN error: the error boundary path is taken', async (t) => {
  const w = await world(t)
  const { client, errors } = await camundaClient(t, w)
  const d = await w.submit()
  client.subscribe(TOPIC, async ({ task, taskService }: { task: Task; taskService: TaskService }) => {
    await taskService.handleBpmnError(task, 'NOT_RESIDENT', 'Không có tên trong sổ hộ khẩu', new Variables().set('checkedBy', 'CA-XA'))
  })
  client.start()
  await pollUntil('the BPMN error', async () => (await w.handoff(d.id)).state === 'completed')
  client.stop()
  t.same(errors, [])
  t.same(await w.openTasks(d.id), ['Verify'], 'the boundary path')
  const instance = await w.ctx.db('process_instances').where({ dossier_id: d.id }).first()
  t.match(JSON.stringify(instance.state), /"checkedBy":"CA-XA"/, 'the error variables are set')
})

t.test('an external task locked by a dead worker is fetched again after its lock expires', async (t) => {
  const w = await world(t)
  const d = await w.submit()
  const first = await w.fetch(w.worker, 'dead-worker', 1, 60_000)
  t.equal(first.status, 200)
  t.equal(first.body.length, 1)
  t.match(first.body[0], { topicName: TOPIC, workerId: 'dead-worker', businessKey: d.code, activityId: 'PoliceCheck', priority: 5 })
  t.equal(first.body[0].lockExpirationTime, '2026-11-23T02:01:00.000Z')
  t.equal((await w.fetch(w.worker, 'live-worker')).body.length, 0, 'locked: nobody else gets it')
  w.clock.advance(60_001)
  const second = await w.fetch(w.worker, 'live-worker')
  t.equal(second.body.length, 1, 'the lock lapsed: fetched again')
  t.equal(second.body[0].id, first.body[0].id)
  const late = await w.worker.post(`/api/external-tasks/${first.body[0].id}/complete`, { workerId: 'dead-worker', variables: {} })
  t.equal(late.status, 409, 'the dead worker can no longer answer')
  t.equal(late.body.error.code, 'EXTERNAL_TASK_LOCK_NOT_HELD')
  const ok = await w.worker.post(`/api/external-tasks/${first.body[0].id}/complete`, {
    workerId: 'live-worker',
    variables: { resident: { value: true, type: 'Boolean' } },
  })
  t.equal(ok.status, 200, JSON.stringify(ok.body))
  const twice = await w.worker.post(`/api/external-tasks/${first.body[0].id}/complete`, { workerId: 'live-worker', variables: {} })
  t.equal(twice.status, 409)
  t.equal(twice.body.error.code, 'HANDOFF_ALREADY_ANSWERED', 'a second answer changes nothing')
  t.same(await w.openTasks(d.id), ['Sign'])
})

t.test('two concurrent fetch-and-lock calls never get the same task', async (t) => {
  const w = await world(t)
  for (let i = 0; i < 12; i++) await w.submit()
  const [a, b] = await Promise.all([w.fetch(w.worker, 'worker-a', 12), w.fetch(w.worker, 'worker-b', 12)])
  const ids = [...a.body, ...b.body].map((x: { id: string }) => x.id)
  t.equal(ids.length, 12, 'every task went to one of them')
  t.equal(new Set(ids).size, 12, 'none to both')
})

t.test('a worker reaches only its topics and its lock: extend, unlock, failure by another worker', async (t) => {
  const w = await world(t)
  const d = await w.submit()
  const other = await caller(w.ctx, { userId: 'thue', roles: ['worker'], agency: 'CA-XA', topics: ['tax'] })
  const refused = await w.fetch(other, 'tax-1')
  t.equal(refused.status, 403)
  t.equal(refused.body.error.code, 'EXTERNAL_TASK_TOPIC_FORBIDDEN')
  t.equal((await other.get('/api/external-tasks')).body.items.length, 0, 'the list shows only its topics')
  t.equal((await w.worker.get('/api/external-tasks')).body.items.length, 1)
  const officerTry = await w.officer.get('/api/external-tasks')
  t.equal(officerTry.status, 403)
  const [task] = (await w.fetch(w.worker, 'w1', 1, 1000)).body
  const byOther = await other.post(`/api/external-tasks/${task.id}/complete`, { workerId: 'w1', variables: {} })
  t.equal(byOther.status, 403, 'a token without the topic cannot answer')
  const wrongWorker = await w.worker.post(`/api/external-tasks/${task.id}/failure`, { workerId: 'w2', errorMessage: 'x', retries: 0 })
  t.equal(wrongWorker.status, 409)
  const ext = await w.worker.post(`/api/external-tasks/${task.id}/extend-lock`, { workerId: 'w1', newDuration: 120_000 })
  t.equal(ext.status, 200)
  t.equal(ext.body.lockExpirationTime, '2026-11-23T02:02:00.000Z')
  t.equal((await w.worker.post(`/api/external-tasks/${task.id}/unlock`)).status, 200)
  t.equal((await w.fetch(w.worker, 'w3')).body[0]?.id, task.id, 'unlocked: fetched at once by another worker')
  t.equal((await w.handoff(d.id)).worker_id, 'w3')
  const one = await w.admin.get(`/api/external-tasks/${task.id}`)
  t.equal(one.status, 200)
  t.equal(one.body.workerId, 'w3')
})

t.test('long polling answers as soon as a task appears', async (t) => {
  const w = await world(t)
  const started = Date.now()
  const pending = w.worker.post('/api/external-tasks/fetch-and-lock', {
    workerId: 'patient',
    maxTasks: 1,
    asyncResponseTimeout: 20_000,
    topics: [{ topicName: TOPIC, lockDuration: 60_000 }],
  })
  await w.submit()
  const r = await pending
  t.equal(r.body.length, 1, 'the new task')
  t.ok(Date.now() - started < 10_000, `answered before the timeout (${Date.now() - started} ms)`)
})
