import t from 'tap'
import Fastify from 'fastify'
import { Type } from '@fastify/type-provider-typebox'
import { errorHandler } from '../src/http/errors.ts'
import { checkResponseSchemas } from '../src/http/response-check.ts'
import { testContext } from './helpers/context.ts'

const METHODS = ['get', 'put', 'post', 'delete', 'patch']
/** Path parameters that name a stored thing: looking one up can miss. */
const LOOKED_UP = new Set(['id', 'documentId', 'code', 'version', 'reference', 'action'])
/** Operations that refuse some callers by role or rule (403). */
const ROLE_CHECKED = new Set([
  'POST /api/procedures',
  'POST /api/procedures/validate',
  'PUT /api/calendar/{year}',
  'PUT /api/calendar/{year}/days/{date}',
  'DELETE /api/calendar/{year}/days/{date}',
  'GET /api/tasks',
  'GET /api/tasks/{id}',
  'POST /api/tasks/{id}/claim',
  'POST /api/tasks/{id}/unclaim',
  'POST /api/tasks/{id}/complete',
  'POST /api/dossiers',
  'POST /api/dossiers/{id}/extension',
  'POST /api/dossiers/{id}/documents',
  'POST /api/dossiers/{id}/actions/{action}',
  'POST /api/dossiers/{id}/supplement',
  'POST /api/dossiers/{id}/withdraw',
  'POST /api/dossiers/{id}/stop',
  'POST /api/dossiers/{id}/evaluation',
  'GET /api/forms/mau-06',
  'GET /api/notifications',
  'GET /api/supervision/indicators',
  'GET /api/supervision/deadlines',
])

t.test('the OpenAPI document at /docs lists, for every operation, its answer schemas and the errors it can return', async (t) => {
  const ctx = await testContext(t, { now: '2026-11-23T02:00:00Z' })
  await ctx.app.ready()
  const doc = ctx.app.swagger() as unknown as {
    paths: Record<
      string,
      Record<
        string,
        {
          parameters?: Array<{ in: string; name: string }>
          requestBody?: unknown
          responses: Record<string, { content?: Record<string, { schema?: unknown }> }>
        }
      >
    >
  }
  const seen = new Set<string>()
  for (const [path, item] of Object.entries(doc.paths)) {
    if (path.startsWith('/docs')) continue
    for (const [method, op] of Object.entries(item).filter(([m]) => METHODS.includes(m))) {
      const name = `${method.toUpperCase()} ${path}`
      seen.add(name)
      const statuses = Object.keys(op.responses)
      const success = statuses.filter((s) => /^2\d\d$/.test(s))
      t.ok(
        success.length > 0 && success.every((s) => Object.values(op.responses[s]!.content ?? {}).some((c) => c.schema)),
        `${name}: its 2xx answers have a schema`,
      )
      for (const s of statuses.filter((x) => /^4\d\d$/.test(x) || x === '500')) {
        const schema = op.responses[s]!.content?.['application/json']?.schema as
          { properties?: { error?: { properties?: Record<string, unknown> } } } | undefined
        t.ok(schema?.properties?.error?.properties?.code, `${name}: ${s} answers the error shape`)
      }
      const hasInput = !!op.requestBody || (op.parameters ?? []).length > 0
      if (hasInput) t.ok(statuses.includes('400'), `${name}: 400 (it takes input)`)
      if (path.startsWith('/api/')) t.ok(statuses.includes('401'), `${name}: 401 (needs a token)`)
      if (ROLE_CHECKED.has(name)) t.ok(statuses.includes('403'), `${name}: 403 (checks roles)`)
      if ((op.parameters ?? []).some((p) => p.in === 'path' && LOOKED_UP.has(p.name)))
        t.ok(statuses.includes('404'), `${name}: 404 (looks an id up)`)
      t.ok(statuses.includes('500'), `${name}: 500`)
    }
  }
  for (const name of ROLE_CHECKED) t.ok(seen.has(name), `${name} is in the document`)
  const submit = doc.paths['/api/dossiers']!.post!.responses
  t.ok(submit['201']?.content?.['application/json']?.schema, 'POST /api/dossiers documents 201 (submitted)')
  t.ok(submit['200']?.content?.['application/json']?.schema, 'POST /api/dossiers documents 200 (idempotent replay)')
  t.notOk(submit['422'] === undefined, 'POST /api/dossiers documents its 422 refusals')
})

t.test('outside production, an answer its response schema would change, or a status it does not declare, fails loudly', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  app.setErrorHandler(errorHandler)
  checkResponseSchemas(app)
  const Item = Type.Object({ id: Type.String() })
  app.get('/complete', { schema: { response: { 200: Item } } }, async () => ({ id: 'a' }))
  app.get('/drops', { schema: { response: { 200: Item } } }, async () => ({ id: 'a', extra: 1 }))
  app.get('/coerces', { schema: { response: { 200: Type.Object({ n: Type.Integer() }) } } }, async () => ({ n: '7' }))
  app.get('/undeclared', { schema: { response: { 200: Item } } }, async () => {
    throw Object.assign(new Error('taken'), { statusCode: 409 })
  })
  t.same((await app.inject('/complete')).json(), { id: 'a' })
  t.equal((await app.inject('/drops')).statusCode, 500, 'a field the schema would drop')
  t.equal((await app.inject('/coerces')).statusCode, 500, 'a string the schema would turn into a number')
  const undeclared = await app.inject('/undeclared')
  t.equal(undeclared.statusCode, 500, 'a status the schema does not list')
})
