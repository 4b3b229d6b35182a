import t from 'tap'
import { auth, fixture, testContext } from './helpers/context.ts'

t.test('50 concurrent completions of one task: one 200, 49 × 409', async (t) => {
  const ctx = await testContext(t)
  await ctx.deploy(fixture('camunda-modeler-leave.bpmn'))
  const officer = await auth(ctx, { roles: ['officer'], groups: ['one-stop'] })
  const s = await ctx.app.inject({
    method: 'POST',
    url: '/api/dossiers',
    headers: officer,
    payload: { procedureCode: 'PermitRequest', applicant: { name: 'A', idNumber: '001099001234' }, channel: 1, data: { fee: 0 } },
  })
  const taskId = s.json().tasks[0].id
  const results = await Promise.all(
    Array.from({ length: 50 }, () =>
      ctx.app.inject({ method: 'POST', url: `/api/tasks/${taskId}/complete`, headers: officer, payload: { variables: {} } }),
    ),
  )
  const codes = results.map((r) => r.statusCode)
  t.equal(codes.filter((c) => c === 200).length, 1, 'exactly one winner')
  t.equal(codes.filter((c) => c === 409).length, 49, '49 conflicts')
  t.ok(results.filter((r) => r.statusCode === 409).every((r) => r.json().error.code === 'TASK_ALREADY_COMPLETED'))
  const completions = await ctx.db('history').where({ task_id: taskId, action: 'task.completed' }).count('* as n')
  t.equal(Number(completions[0]!.n), 1, 'history records one completion')
  const open = await ctx.db('tasks').where({ dossier_id: s.json().dossier.id, status: 'open' })
  t.equal(open.length, 1, 'the process moved exactly one step')
})

t.test('claim: a task claimed by someone else answers 409 and changes nothing', async (t) => {
  const ctx = await testContext(t)
  await ctx.deploy(fixture('camunda-modeler-leave.bpmn'))
  const a = await auth(ctx, { roles: ['officer'], userId: 'a', groups: ['one-stop'] })
  const b = await auth(ctx, { roles: ['officer'], userId: 'b', groups: ['one-stop'] })
  const s = await ctx.app.inject({
    method: 'POST',
    url: '/api/dossiers',
    headers: a,
    payload: { procedureCode: 'PermitRequest', applicant: { name: 'A', idNumber: '001099001234' }, channel: 1, data: {} },
  })
  const id = s.json().tasks[0].id
  t.equal((await ctx.app.inject({ method: 'POST', url: `/api/tasks/${id}/claim`, headers: a })).statusCode, 200)
  t.equal(
    (await ctx.app.inject({ method: 'POST', url: `/api/tasks/${id}/claim`, headers: a })).statusCode,
    200,
    'claiming again is idempotent',
  )
  const steal = await ctx.app.inject({ method: 'POST', url: `/api/tasks/${id}/claim`, headers: b })
  t.equal(steal.statusCode, 409)
  t.equal(steal.json().error.code, 'TASK_CLAIMED_BY_OTHER')
  const complete = await ctx.app.inject({ method: 'POST', url: `/api/tasks/${id}/complete`, headers: b })
  t.equal(complete.statusCode, 409)
  t.equal(complete.json().error.code, 'TASK_CLAIMED_BY_OTHER')
  t.equal((await ctx.db('tasks').where({ id }).first()).status, 'open', 'still open')
  t.equal(
    (await ctx.app.inject({ method: 'POST', url: `/api/tasks/${id}/unclaim`, headers: b })).statusCode,
    409,
    "b cannot unclaim a's task",
  )
  t.equal((await ctx.app.inject({ method: 'POST', url: `/api/tasks/${id}/unclaim`, headers: a })).json().assignee, null)
  t.equal(
    (await ctx.app.inject({ method: 'POST', url: `/api/tasks/${id}/complete`, headers: b })).statusCode,
    200,
    'after unclaim b completes',
  )
})
