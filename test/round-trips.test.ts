import t from 'tap'
import { auth, fixture, testContext } from './helpers/context.ts'
import { recordPostgresMessages } from './helpers/pg-messages.ts'

// Every message node-pg sends to Postgres.
const sent = recordPostgresMessages(t)

const submission = { procedureCode: 'TEST.3STEP', applicant: { name: 'Hộ kinh doanh A', idNumber: '001099001234' }, channel: 1, data: {} }

t.test('a completion, a claim, an unclaim and a submission cost two messages to Postgres each', async (t) => {
  const ctx = await testContext(t)
  await ctx.deploy(fixture('three-step-procedure.bpmn'))
  const officer = await auth(ctx, { roles: ['officer'], groups: ['one-stop', 'specialists', 'leaders'], agency: 'UBND-XA-DEMO' })
  const post = (url: string, payload: unknown) => ctx.app.inject({ method: 'POST', url, headers: officer, payload: payload as object })
  const warm = await post('/api/dossiers', submission) // the procedure version is read once per process
  await post(`/api/tasks/${warm.json().tasks[0].id}/complete`, { variables: { valid: true } })

  sent.length = 0
  const s = await post('/api/dossiers', submission)
  t.equal(s.statusCode, 201)
  t.equal(
    sent.length,
    2,
    `submission: which version is the latest, then BEGIN, every write, the daily code and the COMMIT (${sent.map((m) => m.slice(0, 40)).join(' | ')})`,
  )
  t.match(
    sent[1],
    /^BEGIN;[^]*SET CONSTRAINTS dossier_code_assign IMMEDIATE;[^]*;\nCOMMIT$/,
    'the daily code is taken in the message of the COMMIT',
  )

  const taskId = s.json().tasks[0].id
  for (const action of ['claim', 'unclaim']) {
    sent.length = 0
    t.equal((await post(`/api/tasks/${taskId}/${action}`, {})).statusCode, 200)
    t.equal(sent.length, 2, `${action}: the lock with BEGIN, the writes with COMMIT`)
  }
  sent.length = 0
  const c = await post(`/api/tasks/${taskId}/complete`, { variables: { valid: true } })
  t.equal(c.statusCode, 200)
  t.equal(
    sent.length,
    2,
    `completion: BEGIN with the locks and reads, then the writes with COMMIT (${sent.map((m) => m.slice(0, 40)).join(' | ')})`,
  )
  t.match(sent[0], /^BEGIN;/)
  t.match(sent[1], /;\nCOMMIT$/)
  t.equal(c.json().nextTasks[0].activityId, 'Appraise', 'and the process moved on')
})

t.test("a task outside the caller's groups or agency is not found, and completing it changes nothing", async (t) => {
  const ctx = await testContext(t)
  await ctx.deploy(fixture('three-step-procedure.bpmn'))
  const counter = await auth(ctx, { roles: ['officer'], userId: 'mc-1', groups: ['one-stop'], agency: 'UBND-XA-DEMO' })
  const s = await ctx.app.inject({ method: 'POST', url: '/api/dossiers', headers: counter, payload: submission })
  const taskId = s.json().tasks[0].id
  const strangers = {
    'another group': await auth(ctx, { roles: ['officer'], userId: 'cv-1', groups: ['specialists'], agency: 'UBND-XA-DEMO' }),
    'another agency': await auth(ctx, { roles: ['officer'], userId: 'mc-9', groups: ['one-stop'], agency: 'UBND-XA-KHAC' }),
  }
  for (const [who, headers] of Object.entries(strangers)) {
    const r = await ctx.app.inject({
      method: 'POST',
      url: `/api/tasks/${taskId}/complete`,
      headers,
      payload: { variables: { valid: true } },
    })
    t.equal(r.statusCode, 404, who)
    t.equal(r.json().error.code, 'TASK_NOT_FOUND', who)
  }
  const unknown = await ctx.app.inject({
    method: 'POST',
    url: '/api/tasks/00000000-0000-4000-8000-000000000000/complete',
    headers: counter,
    payload: { variables: {} },
  })
  t.equal(unknown.statusCode, 404, 'an unknown task')
  const citizen = await auth(ctx, { roles: ['citizen'], userId: 'cd-1' })
  t.equal(
    (await ctx.app.inject({ method: 'POST', url: `/api/tasks/${taskId}/complete`, headers: citizen, payload: { variables: {} } }))
      .statusCode,
    403,
    'a citizen',
  )
  t.equal((await ctx.db('tasks').where({ id: taskId }).first()).status, 'open', 'the task is still open')
  t.equal((await ctx.db('history').where({ task_id: taskId, action: 'task.completed' })).length, 0, 'no completion recorded')
  const mine = await ctx.app.inject({
    method: 'POST',
    url: `/api/tasks/${taskId}/complete`,
    headers: counter,
    payload: { variables: { valid: true } },
  })
  t.equal(mine.statusCode, 200, 'the one-stop officer of the agency completes it')
})
