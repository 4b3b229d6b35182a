import t from 'tap'
import { auth, fixture, testContext } from './helpers/context.ts'

t.test('a Camunda Modeler diagram deploys and runs to its end through the API alone', async (t) => {
  const ctx = await testContext(t)
  const xml = fixture('camunda-modeler-leave.bpmn')

  const first = await ctx.deploy(xml)
  t.equal(first.status, 201, 'new diagram → 201')
  t.match(first.body, { created: true, procedureCode: 'PermitRequest', version: 1 })
  const again = await ctx.deploy(xml)
  t.equal(again.status, 200, 'same content → 200, existing version')
  t.match(again.body, { created: false, version: 1 })

  const citizen = await auth(ctx, { roles: ['citizen'], userId: 'citizen-a' })
  const submit = await ctx.app.inject({
    method: 'POST',
    url: '/api/dossiers',
    headers: citizen,
    payload: {
      procedureCode: 'PermitRequest',
      applicant: { name: 'Nguyễn Văn A', idNumber: '001099001234' },
      channel: 2,
      data: { fee: 50000 },
    },
  })
  t.equal(submit.statusCode, 201, submit.body)
  const { dossier, tasks } = submit.json()
  t.match(dossier.code, /^000\.00\.20\.H12-\d{6}-0001$/, 'dossier code: unit-YYMMDD-NNNN')
  t.equal(dossier.status, 'SUBMITTED_ONLINE')
  t.equal(dossier.nationalStatus, 1)
  t.equal(tasks.length, 1)
  t.match(tasks[0], { activityId: 'Task_Check', candidateGroups: ['one-stop'], formKey: 'embedded:app:forms/check.html' })

  const oneStop = await auth(ctx, { roles: ['officer'], userId: 'officer-1', groups: ['one-stop'] })
  const leaders = await auth(ctx, { roles: ['officer'], userId: 'leader-1', groups: ['leaders'] })
  const queue = await ctx.app.inject({ url: '/api/tasks?candidateGroup=one-stop', headers: oneStop })
  t.equal(queue.json().items.length, 1, 'one-stop officer sees the task')
  const otherQueue = await ctx.app.inject({ url: '/api/tasks', headers: leaders })
  t.equal(otherQueue.json().items.length, 0, 'leaders do not see a one-stop task')
  const forbidden = await ctx.app.inject({
    method: 'POST',
    url: `/api/tasks/${tasks[0].id}/complete`,
    headers: leaders,
    payload: { variables: {} },
  })
  t.equal(forbidden.statusCode, 404, "a task outside the officer's groups does not exist for them")

  const claim = await ctx.app.inject({ method: 'POST', url: `/api/tasks/${tasks[0].id}/claim`, headers: oneStop })
  t.equal(claim.statusCode, 200)
  t.equal(claim.json().assignee, 'officer-1')
  const step1 = await ctx.app.inject({
    method: 'POST',
    url: `/api/tasks/${tasks[0].id}/complete`,
    headers: oneStop,
    payload: { variables: {} },
  })
  t.equal(step1.statusCode, 200, step1.body)
  t.match(step1.json(), { dossierStatus: 'IN_PROCESS', processEnded: false })
  t.equal(step1.json().nextTasks[0].activityId, 'Task_Payment', "${fee > 0 && channel == 'online'} took the payment branch")
  t.same(step1.json().nextTasks[0].candidateUsers, ['citizen-a'], 'candidateUsers expression resolved')

  const cashier = await auth(ctx, { roles: ['officer'], userId: 'cashier-1', groups: ['cashier'] })
  const step2 = await ctx.app.inject({ method: 'POST', url: `/api/tasks/${step1.json().nextTasks[0].id}/complete`, headers: cashier })
  t.equal(step2.statusCode, 200, step2.body)
  const approve = step2.json().nextTasks[0]
  t.equal(approve.activityId, 'Task_Approve')
  t.ok(approve.due, 'camunda:dueDate gives the task a due date')

  const step3 = await ctx.app.inject({
    method: 'POST',
    url: `/api/tasks/${approve.id}/complete`,
    headers: leaders,
    payload: { variables: { approved: true } },
  })
  t.equal(step3.statusCode, 200, step3.body)
  t.match(step3.json(), { processEnded: true, dossierStatus: 'RESULT_READY', nextTasks: [] })

  const view = await ctx.app.inject({ url: `/api/dossiers/${dossier.id}`, headers: citizen })
  t.equal(view.statusCode, 200)
  const actions = view.json().history.map((h: any) => h.action)
  t.equal(actions.filter((a: string) => a === 'task.completed').length, 3, 'three completions in history')
  t.ok(actions.includes('process.completed'))
  t.equal(view.json().dossier.nationalStatus, 9)

  const stranger = await auth(ctx, { roles: ['citizen'], userId: 'citizen-b' })
  const peek = await ctx.app.inject({ url: `/api/dossiers/${dossier.id}`, headers: stranger })
  t.equal(peek.statusCode, 404, 'another citizen cannot read the dossier')
})

t.test('rejection branch: ${!approved}', async (t) => {
  const ctx = await testContext(t)
  t.equal((await ctx.deploy(fixture('camunda-modeler-leave.bpmn'))).status, 201)
  const officer = await auth(ctx, { roles: ['officer'], groups: ['one-stop', 'leaders'] })
  const s = await ctx.app.inject({
    method: 'POST',
    url: '/api/dossiers',
    headers: officer,
    payload: { procedureCode: 'PermitRequest', applicant: { name: 'B', idNumber: '001099001235' }, channel: 1, data: { fee: 0 } },
  })
  t.equal(s.statusCode, 201, s.body)
  t.equal(s.json().dossier.status, 'ACCEPTED', 'counter submission is accepted on receipt')
  const c1 = await ctx.app.inject({ method: 'POST', url: `/api/tasks/${s.json().tasks[0].id}/complete`, headers: officer })
  t.equal(c1.json().nextTasks[0].activityId, 'Task_Approve', 'free dossier takes the default flow')
  const c2 = await ctx.app.inject({
    method: 'POST',
    url: `/api/tasks/${c1.json().nextTasks[0].id}/complete`,
    headers: officer,
    payload: { variables: { approved: false } },
  })
  t.match(c2.json(), { processEnded: true })
  const again = await ctx.app.inject({
    method: 'POST',
    url: `/api/tasks/${c1.json().nextTasks[0].id}/complete`,
    headers: officer,
    payload: { variables: { approved: true } },
  })
  t.equal(again.statusCode, 409)
  t.equal(again.json().error.code, 'TASK_ALREADY_COMPLETED')
})

t.test('a step the diagram cannot take fails with 422, changes nothing, and the task can be completed again', async (t) => {
  const ctx = await testContext(t)
  t.equal((await ctx.deploy(fixture('three-step-procedure.bpmn'))).status, 201)
  const officer = await auth(ctx, { roles: ['officer'], groups: ['one-stop', 'specialists', 'leaders'], agency: 'UBND-XA-DEMO' })
  const s = await ctx.app.inject({
    method: 'POST',
    url: '/api/dossiers',
    headers: officer,
    payload: { procedureCode: 'TEST.3STEP', applicant: { name: 'Hộ A', idNumber: '001099001234' }, channel: 1, data: {} },
  })
  t.equal(s.statusCode, 201, s.body)
  t.match(s.json().dossier, { status: 'ACCEPTED', code: /^000\.10\.20\.H12-/ }, "counter receipt is accepted, with the procedure's unit id")
  const c1 = await ctx.app.inject({
    method: 'POST',
    url: `/api/tasks/${s.json().tasks[0].id}/complete`,
    headers: officer,
    payload: { variables: { valid: true } },
  })
  t.equal(c1.statusCode, 200, c1.body + JSON.stringify(s.json().tasks))
  const appraise = c1.json().nextTasks[0]
  t.equal(appraise.activityId, 'Appraise')
  t.equal(c1.json().dossierStatus, 'IN_PROCESS')
  const stateBefore = await ctx.db('process_instances').first('version', 'step_id')
  const bad = await ctx.app.inject({
    method: 'POST',
    url: `/api/tasks/${appraise.id}/complete`,
    headers: officer,
    payload: { variables: {} },
  })
  t.equal(bad.statusCode, 422, 'no outgoing flow matches: 422')
  t.equal(bad.json().error.code, 'PROCESS_STEP_FAILED')
  t.same(await ctx.db('process_instances').first('version', 'step_id'), stateBefore, 'instance unchanged')
  t.equal((await ctx.db('tasks').where({ id: appraise.id }).first()).status, 'open', 'task still open')
  const good = await ctx.app.inject({
    method: 'POST',
    url: `/api/tasks/${appraise.id}/complete`,
    headers: officer,
    payload: { variables: { approved: true } },
  })
  t.equal(good.statusCode, 200, good.body)
  t.equal(good.json().nextTasks[0].activityId, 'Approve', 'FEEL =approved took the approve branch')
})
