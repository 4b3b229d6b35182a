import t from 'tap'
import path from 'node:path'
import { pino } from 'pino'
import type { Principal } from '../src/auth/principal.ts'
import { deployDirectory } from '../src/procedures/deploy-directory.ts'
import { caller } from './helpers/api.ts'
import { testContext } from './helpers/context.ts'
import { encode, NASTY_VALUES, POISON, sample, seededRandom, serialize, type Random } from './helpers/fuzz.ts'

const SEED = 20261123
const REQUESTS = 3000
const AGENCY = 'UBND-XA-DEMO'
const ROLES: Array<Pick<Principal, 'userId' | 'roles' | 'groups'>> = [
  { userId: 'cd-1', roles: ['citizen'], groups: [] },
  { userId: 'mc-1', roles: ['officer'], groups: ['one-stop', 'specialists', 'leaders', 'archive'] },
  { userId: 'gs-1', roles: ['supervisor'], groups: [] },
  { userId: 'pt-1', roles: ['analyst'], groups: [] },
  { userId: 'qt-1', roles: ['admin'], groups: [] },
]

interface Operation {
  method: string
  path: string
  params: any[]
  body: any
  xml: boolean
  raw: boolean
}

function operations(doc: any): Operation[] {
  const out: Operation[] = []
  for (const [p, item] of Object.entries<any>(doc.paths)) {
    if (p.startsWith('/docs')) continue
    for (const [method, op] of Object.entries<any>(item)) {
      const content = op.requestBody?.content ?? {}
      out.push({
        method: method.toUpperCase(),
        path: p,
        params: op.parameters ?? [],
        body: content['application/json']?.schema ?? null,
        xml: p === '/api/procedures' || p === '/api/procedures/validate',
        raw: p.endsWith('/documents') && method === 'post',
      })
    }
  }
  return out
}

/** One request: a plausible one with one (sometimes two) inputs replaced by a nasty value. */
function request(op: Operation, rnd: Random, known: Record<string, string>) {
  const nasty = () => structuredClone(rnd.chance(0.3) ? rnd.pick(POISON) : rnd.pick(NASTY_VALUES))
  const values = new Map<any, unknown>(op.params.map((p) => [p, sample(p.schema, rnd, known, p.name)]))
  let body: unknown = op.body ? sample(op.body, rnd, known) : op.method === 'POST' ? {} : undefined
  const mutations = rnd.chance(0.8) ? 1 : 2
  for (let m = 0; m < mutations; m++) {
    const target = op.body || op.method === 'POST' ? (rnd.chance(0.7) ? 1 : rnd.int(3)) : 0
    if (target === 0 && op.params.length) values.set(rnd.pick(op.params), nasty())
    else if (target === 1 && body && typeof body === 'object') {
      const slots = leaves(body)
      const [parent, key] =
        slots.length && rnd.chance(0.95) ? rnd.pick(slots) : [body as any, rnd.pick(['data', 'variables', 'note', 'reason', 'extra'])]
      parent[key] = nasty()
    } else if (op.method !== 'GET') body = rnd.chance(0.2) ? undefined : nasty()
  }
  let url = op.path
  const query: string[] = []
  for (const [p, v] of values) {
    if (v === undefined) continue
    if (p.in === 'path') url = url.replace(`{${p.name}}`, encode(v))
    else if (p.in === 'query') query.push(`${p.name}=${encode(v)}`)
  }
  if (query.length) url += `?${query.join('&')}`
  if (op.xml)
    return {
      url,
      payload: typeof body === 'string' ? `<a>${body}</a>` : `<bpmn:definitions>${encode(body)}</bpmn:definitions>`,
      contentType: 'application/xml',
    }
  if (op.raw) return { url, payload: Buffer.from(serialize(body ?? '')), contentType: 'application/pdf' }
  return { url, payload: body === undefined ? undefined : serialize(body), contentType: 'application/json' }
}

t.test(`${REQUESTS} mutated requests over every route in the OpenAPI document, as each role: none answers 5xx`, async (t) => {
  const ctx = await testContext(t, { now: '2026-11-23T02:00:00Z' })
  await deployDirectory(path.resolve(import.meta.dirname, '../processes'), ctx.system.procedures, pino({ level: 'silent' }))
  const officer = await caller(ctx, { ...ROLES[1]!, agency: AGENCY })
  const citizen = await caller(ctx, { ...ROLES[0]!, agency: AGENCY })
  const counter = await officer.post('/api/dossiers', {
    procedureCode: '2.000575',
    applicant: { name: 'Nguyễn Văn A', idNumber: '001099001234' },
    channel: 1,
    data: { businessName: 'Bình An' },
  })
  const online = await citizen.post('/api/dossiers', {
    procedureCode: '2.000575',
    applicant: { name: 'Trần Thị B', idNumber: '001099001235' },
    channel: 2,
    data: {},
  })
  t.equal(counter.status, 201)
  t.equal(online.status, 201)
  const known: Record<string, string> = {
    dossierId: counter.body.dossier.id,
    procedureCode: '2.000575',
    code: '2.000575',
    taskId: counter.body.tasks[0].id,
    action: 'accept',
    form: 'mau-01',
    year: '2026',
  }

  await ctx.app.ready()
  const ops = operations(ctx.app.swagger())
  // Operations that take a body have more inputs to get wrong: they get three turns.
  const turns = ops.flatMap((op) => (op.body || op.method === 'POST' ? [op, op, op] : [op]))
  t.ok(ops.length >= 30, `${ops.length} operations in the OpenAPI document`)
  const tokens = await Promise.all(ROLES.map((p) => ctx.token({ ...p, agency: AGENCY })))
  const rnd = seededRandom(SEED)
  const failures: string[] = []
  const seen = new Map<string, number>()
  for (let i = 0; i < REQUESTS; i++) {
    const op = turns[i % turns.length]!
    known.id = rnd.pick([counter.body.dossier.id, online.body.dossier.id, counter.body.tasks[0].id])
    const r = request(op, rnd, known)
    const token = rnd.chance(0.05) ? null : rnd.pick(tokens)
    const res = await ctx.app.inject({
      method: op.method as any,
      url: r.url,
      payload: r.payload,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(r.payload !== undefined ? { 'content-type': r.contentType } : {}),
      },
    })
    seen.set(String(res.statusCode), (seen.get(String(res.statusCode)) ?? 0) + 1)
    if (res.statusCode >= 500)
      failures.push(
        `${op.method} ${r.url.slice(0, 200)} ${String(r.payload ?? '').slice(0, 300)} → ${res.statusCode} ${res.body.slice(0, 200)}`,
      )
  }
  t.comment(`statuses: ${JSON.stringify(Object.fromEntries(seen))}`)
  t.same(failures.slice(0, 30), [], `no 5xx (${failures.length} of ${REQUESTS})`)
})

/** Every [container, key] of a value, nested ones included: the places one mutation can hit. */
function leaves(v: any, out: Array<[any, string | number]> = []): Array<[any, string | number]> {
  for (const k of Object.keys(v)) {
    out.push([v, Array.isArray(v) ? Number(k) : k])
    if (v[k] && typeof v[k] === 'object') leaves(v[k], out)
  }
  return out
}
