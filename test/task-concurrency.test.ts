import t from 'tap'
import { auth, fixture, testContext } from './helpers/context.ts'

t.test('50 concurrent completions of one task: one 200, 49 × 409', async (t) => {
  const ctx = await testContext(t)
  await ctx.deploy(fixture('camunda-modeler-leave.bpmn'))
  const officer = await auth(ctx, { roles: ['officer'], groups: ['one-stop'] })
  const s = await ctx.app.inject({ method: 'POST', url: '/api/dossiers', headers: officer, payload: { procedureCode: 'PermitRequest', applicant: { name: 'A', idNumber: '001099001234' }, channel: 1, data: { fee: 0 } } })
  const taskId = s.json().tasks[0].id
  const results = await Promise.all(Array.from({ length: 50 }, () => ctx.app.inject({ method: 'POST', url: `/api/tasks/${taskId}/complete`, headers: officer, payload: { variables: {} } })))
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
  const s = await ctx.app.inject({ method: 'POST', url: '/api/dossiers', headers: a, payload: { procedureCode: 'PermitRequest', applicant: { name: 'A', idNumber: '001099001234' }, channel: 1, data: {} } })
  const id = s.json().tasks[0].id
  t.equal((await ctx.app.inject({ method: 'POST', url: `/api/tasks/${id}/claim`, headers: a })).statusCode, 200)
  t.equal((await ctx.app.inject({ method: 'POST', url: `/api/tasks/${id}/claim`, headers: a })).statusCode, 200, 'claiming again is idempotent')
  const steal = await ctx.app.inject({ method: 'POST', url: `/api/tasks/${id}/claim`, headers: b })
  t.equal(steal.statusCode, 409)
  t.equal(steal.json().error.code, 'TASK_CLAIMED_BY_OTHER')
  const complete = await ctx.app.inject({ method: 'POST', url: `/api/tasks/${id}/complete`, headers: b })
  t.equal(complete.statusCode, 409)
  t.equal(complete.json().error.code, 'TASK_CLAIMED_BY_OTHER')
  t.equal((await ctx.db('tasks').where({ id }).first()).status, 'open', 'still open')
  t.equal((await ctx.app.inject({ method: 'POST', url: `/api/tasks/${id}/unclaim`, headers: b })).statusCode, 409, 'b cannot unclaim a\'s task')
  t.equal((await ctx.app.inject({ method: 'POST', url: `/api/tasks/${id}/unclaim`, headers: a })).json().assignee, null)
  t.equal((await ctx.app.inject({ method: 'POST', url: `/api/tasks/${id}/complete`, headers: b })).statusCode, 200, 'after unclaim b completes')
})

t.test('Idempotency-Key: a retried submission returns the same dossier', async (t) => {
  const ctx = await testContext(t)
  await ctx.deploy(fixture('camunda-modeler-leave.bpmn'))
  const citizen = { ...(await auth(ctx, { roles: ['citizen'], userId: 'c1' })), 'idempotency-key': 'retry-123' }
  const payload = { procedureCode: 'PermitRequest', applicant: { name: 'A', idNumber: '001099001234' }, channel: 2, data: { fee: 1 } }
  const all = await Promise.all(Array.from({ length: 5 }, () => ctx.app.inject({ method: 'POST', url: '/api/dossiers', headers: citizen, payload })))
  const ids = new Set(all.map((r) => r.json().dossier.id))
  t.equal(ids.size, 1, 'concurrent retries give one dossier')
  t.same(all.map((r) => r.statusCode).sort(), [200, 200, 200, 200, 201])
  t.equal(Number((await ctx.db('dossiers').count('* as n'))[0]!.n), 1)
  const other = await ctx.app.inject({ method: 'POST', url: '/api/dossiers', headers: citizen, payload: { ...payload, data: { fee: 2 } } })
  t.equal(other.statusCode, 422)
  t.equal(other.json().error.code, 'IDEMPOTENCY_KEY_REUSED')
})

t.test('dossier codes are gapless per unit and day under concurrent submissions', async (t) => {
  const ctx = await testContext(t)
  await ctx.deploy(fixture('camunda-modeler-leave.bpmn'))
  const officer = await auth(ctx, { roles: ['officer'], groups: ['one-stop'] })
  const all = await Promise.all(Array.from({ length: 40 }, (_, i) => ctx.app.inject({ method: 'POST', url: '/api/dossiers', headers: officer, payload: { procedureCode: 'PermitRequest', applicant: { name: `A${i}`, idNumber: `00109900${1000 + i}` }, channel: 1, data: {} } })))
  t.ok(all.every((r) => r.statusCode === 201))
  const seqs = all.map((r) => Number(r.json().dossier.code.slice(-4))).sort((a, b) => a - b)
  t.same(seqs, Array.from({ length: 40 }, (_, i) => i + 1), '0001…0040 without gaps or duplicates')
})

t.test('task queue: filters, sorting and cursor pagination', async (t) => {
  const ctx = await testContext(t)
  await ctx.deploy(fixture('camunda-modeler-leave.bpmn'))
  const officer = await auth(ctx, { roles: ['officer'], groups: ['one-stop'] })
  for (let i = 0; i < 7; i++) {
    await ctx.app.inject({ method: 'POST', url: '/api/dossiers', headers: officer, payload: { procedureCode: 'PermitRequest', applicant: { name: `A${i}`, idNumber: `00109900${1000 + i}` }, channel: 1, data: {} } })
  }
  const seen: string[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const res: any = await ctx.app.inject({ url: `/api/tasks?limit=3&procedureCode=PermitRequest${cursor ? `&cursor=${cursor}` : ''}`, headers: officer })
    t.equal(res.statusCode, 200)
    seen.push(...res.json().items.map((x: any) => x.id))
    cursor = res.json().nextCursor
    pages++
  } while (cursor)
  t.equal(pages, 3)
  t.equal(new Set(seen).size, 7, 'every task once across pages')
  const desc = await ctx.app.inject({ url: '/api/tasks?sortOrder=desc&limit=50', headers: officer })
  t.same(desc.json().items.map((x: any) => x.id), [...seen].reverse(), 'descending is the reverse order')
  const supervisor = await auth(ctx, { roles: ['supervisor'] })
  t.equal((await ctx.app.inject({ url: '/api/tasks', headers: supervisor })).json().items.length, 7, 'supervisor sees the agency\'s tasks')
  const otherAgency = await auth(ctx, { roles: ['supervisor'], agency: 'SO-TU-PHAP' })
  t.equal((await ctx.app.inject({ url: '/api/tasks', headers: otherAgency })).json().items.length, 0, 'another agency sees none')
  const none = await ctx.app.inject({ url: '/api/tasks?dueBefore=2000-01-01T00:00:00Z', headers: officer })
  t.equal(none.json().items.length, 0)
})
