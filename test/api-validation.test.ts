import t from 'tap'
import { auth, fixture, testContext } from './helpers/context.ts'

const counts = async (db: any) => {
  const out: Record<string, number> = {}
  for (const table of ['procedures', 'procedure_versions', 'dossiers', 'tasks', 'history', 'outbox']) {
    out[table] = Number((await db(table).count('* as n'))[0].n)
  }
  return out
}

t.test('bad input gets a clear 4xx with a machine-readable code and changes nothing', async (t) => {
  const ctx = await testContext(t)
  await ctx.deploy(fixture('camunda-modeler-leave.bpmn'))
  const before = await counts(ctx.db)
  const analyst = { ...(await auth(ctx, { roles: ['analyst'] })), 'content-type': 'application/xml' }
  const citizen = await auth(ctx, { roles: ['citizen'] })

  const cases: Array<{ name: string; req: any; status: number; code: string }> = [
    {
      name: 'malformed XML',
      req: {
        method: 'POST',
        url: '/api/procedures',
        headers: analyst,
        payload:
          '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"><bpmn:process id="x" isExecutable="true"><bpmn:startEvent id="s"></bpmn:process>',
      },
      status: 422,
      code: 'BPMN_INVALID',
    },
    {
      name: 'DTD',
      req: {
        method: 'POST',
        url: '/api/procedures',
        headers: analyst,
        payload: '<?xml version="1.0"?><!DOCTYPE definitions [<!ELEMENT definitions ANY>]><definitions/>',
      },
      status: 422,
      code: 'BPMN_INVALID',
    },
    {
      name: 'external entity',
      req: {
        method: 'POST',
        url: '/api/procedures',
        headers: analyst,
        payload:
          '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&xxe;</bpmn:definitions>',
      },
      status: 422,
      code: 'BPMN_INVALID',
    },
    {
      name: '20 MB body',
      req: { method: 'POST', url: '/api/procedures', headers: analyst, payload: '<a>' + 'x'.repeat(20 * 1024 * 1024) + '</a>' },
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
    },
    {
      name: 'not XML content type',
      req: { method: 'POST', url: '/api/procedures', headers: { ...analyst, 'content-type': 'image/png' }, payload: 'abc' },
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    },
    {
      name: 'citizen deploys',
      req: {
        method: 'POST',
        url: '/api/procedures',
        headers: { ...citizen, 'content-type': 'application/xml' },
        payload: fixture('camunda-modeler-leave.bpmn'),
      },
      status: 403,
      code: 'FORBIDDEN',
    },
    { name: 'no token', req: { method: 'GET', url: '/api/tasks' }, status: 401, code: 'UNAUTHENTICATED' },
    {
      name: 'forged token',
      req: { method: 'GET', url: '/api/tasks', headers: { authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl' } },
      status: 401,
      code: 'UNAUTHENTICATED',
    },
    {
      name: 'unknown procedure code',
      req: {
        method: 'POST',
        url: '/api/dossiers',
        headers: citizen,
        payload: { procedureCode: 'NOPE', applicant: { name: 'A', idNumber: '001099001234' }, channel: 2, data: {} },
      },
      status: 404,
      code: 'PROCEDURE_NOT_FOUND',
    },
    {
      name: 'wrong channel type',
      req: {
        method: 'POST',
        url: '/api/dossiers',
        headers: citizen,
        payload: { procedureCode: 'PermitRequest', applicant: { name: 'A', idNumber: '001099001234' }, channel: 'online', data: {} },
      },
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'applicant missing',
      req: { method: 'POST', url: '/api/dossiers', headers: citizen, payload: { procedureCode: 'PermitRequest', channel: 2 } },
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'unknown field',
      req: {
        method: 'POST',
        url: '/api/dossiers',
        headers: citizen,
        payload: { procedureCode: 'PermitRequest', applicant: { name: 'A', idNumber: '001099001234' }, channel: 2, data: {}, admin: true },
      },
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'a data key that is not a variable name',
      req: {
        method: 'POST',
        url: '/api/dossiers',
        headers: citizen,
        payload: {
          procedureCode: 'PermitRequest',
          applicant: { name: 'A', idNumber: '001099001234' },
          channel: 2,
          data: { 'bad-name': 1 },
        },
      },
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'a message variable that is not a variable name',
      req: {
        method: 'POST',
        url: '/api/messages',
        headers: citizen,
        payload: { messageName: 'Anything', businessKey: 'X', processVariables: { 'x y': 1 } },
      },
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'invalid JSON',
      req: {
        method: 'POST',
        url: '/api/dossiers',
        headers: { ...citizen, 'content-type': 'application/json' },
        payload: '{"procedureCode":',
      },
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'citizen at the counter channel',
      req: {
        method: 'POST',
        url: '/api/dossiers',
        headers: citizen,
        payload: { procedureCode: 'PermitRequest', applicant: { name: 'A', idNumber: '001099001234' }, channel: 1, data: {} },
      },
      status: 422,
      code: 'CHANNEL_NOT_ALLOWED',
    },
    {
      name: 'variables not an object',
      req: {
        method: 'POST',
        url: '/api/tasks/00000000-0000-4000-8000-000000000000/complete',
        headers: await auth(ctx, { roles: ['officer'] }),
        payload: { variables: [1, 2] },
      },
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'task id not a uuid',
      req: { method: 'POST', url: '/api/tasks/42/claim', headers: await auth(ctx, { roles: ['officer'] }) },
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'bad cursor',
      req: { method: 'GET', url: '/api/tasks?cursor=zzz', headers: await auth(ctx, { roles: ['officer'] }) },
      status: 400,
      code: 'CURSOR_INVALID',
    },
    {
      name: 'limit too large',
      req: { method: 'GET', url: '/api/tasks?limit=5000', headers: await auth(ctx, { roles: ['officer'] }) },
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    { name: 'citizen lists tasks', req: { method: 'GET', url: '/api/tasks', headers: citizen }, status: 403, code: 'FORBIDDEN' },
  ]
  for (const c of cases) {
    const res = await ctx.app.inject(c.req)
    t.equal(res.statusCode, c.status, `${c.name}: HTTP ${c.status}`)
    t.equal(res.json().error?.code, c.code, `${c.name}: code ${c.code}`)
  }
  t.same(await counts(ctx.db), before, 'nothing changed')
})

t.test('invalid diagrams get 422 with findings {elementId, code, message}', async (t) => {
  const ctx = await testContext(t)
  const base = fixture('camunda-modeler-leave.bpmn')
  const variants: Array<[string, string, string]> = [
    [
      'script task',
      base
        .replace(
          '<bpmn:userTask id="Task_Check" name="Check request" camunda:candidateGroups="one-stop" camunda:formKey="embedded:app:forms/check.html">',
          '<bpmn:scriptTask id="Task_Check" scriptFormat="javascript"><bpmn:script>require("child_process")</bpmn:script>',
        )
        .replace(
          '</bpmn:userTask>\n    <bpmn:exclusiveGateway id="Gateway_Fee"',
          '</bpmn:scriptTask>\n    <bpmn:exclusiveGateway id="Gateway_Fee"',
        ),
      'SCRIPT_TASK_FORBIDDEN',
    ],
    ['broken condition', base.replace('${approved}', '${approved ==}'), 'EXPRESSION_INVALID'],
    ['function call in a condition', base.replace('${approved}', '${process.exit(1)}'), 'EXPRESSION_INVALID'],
    [
      'javascript condition',
      base.replace(
        '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${approved}',
        '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" language="javascript">next(null, true)',
      ),
      'SCRIPT_CONDITION_FORBIDDEN',
    ],
    ['not executable', base.replace('isExecutable="true"', 'isExecutable="false"'), 'NO_EXECUTABLE_PROCESS'],
    ['dangling reference', base.replace('targetRef="End_Rejected"', 'targetRef="Nowhere"'), 'REFERENCE_UNRESOLVED'],
  ]
  for (const [name, xml, code] of variants) {
    const res = await ctx.deploy(xml)
    t.equal(res.status, 422, `${name}: 422`)
    t.equal(res.body.error.code, 'BPMN_INVALID')
    const f = res.body.error.details.findings.find((x: any) => x.code === code)
    t.ok(f, `${name}: finding ${code}`)
    t.type(f?.message, 'string')
    t.ok('elementId' in (f ?? {}))
  }
  t.equal(Number((await ctx.db('procedure_versions').count('* as n'))[0].n), 0, 'nothing deployed')
})

t.test('versions: a changed diagram is version 2; running dossiers stay on version 1', async (t) => {
  const ctx = await testContext(t)
  const v1 = fixture('camunda-modeler-leave.bpmn')
  await ctx.deploy(v1)
  const officer = await auth(ctx, { roles: ['officer'], groups: ['one-stop', 'leaders'] })
  const running = await ctx.app.inject({
    method: 'POST',
    url: '/api/dossiers',
    headers: officer,
    payload: { procedureCode: 'PermitRequest', applicant: { name: 'A', idNumber: '001099001234' }, channel: 1, data: { fee: 0 } },
  })
  const v2 = await ctx.deploy(v1.replace('name="Approve"', 'name="Approve (v2)"'))
  t.match(v2, { status: 201, body: { version: 2 } })
  const list = await ctx.app.inject({ url: '/api/procedures/PermitRequest/versions', headers: officer })
  t.same(
    list.json().items.map((v: any) => v.version),
    [2, 1],
  )
  const xml = await ctx.app.inject({ url: '/api/procedures/PermitRequest/versions/1/xml', headers: officer })
  t.equal(xml.body, v1, 'version 1 XML is served unchanged')
  const c1 = await ctx.app.inject({ method: 'POST', url: `/api/tasks/${running.json().tasks[0].id}/complete`, headers: officer })
  t.equal(c1.json().nextTasks[0].name, 'Approve', 'the running dossier continues on version 1')
  const fresh = await ctx.app.inject({
    method: 'POST',
    url: '/api/dossiers',
    headers: officer,
    payload: { procedureCode: 'PermitRequest', applicant: { name: 'B', idNumber: '001099001235' }, channel: 1, data: { fee: 0 } },
  })
  const c2 = await ctx.app.inject({ method: 'POST', url: `/api/tasks/${fresh.json().tasks[0].id}/complete`, headers: officer })
  t.equal(c2.json().nextTasks[0].name, 'Approve (v2)', 'a new dossier starts on version 2')
})
