import t from 'tap'
import fs from 'node:fs'
import { pino } from 'pino'
import { createTokenService } from '../src/auth/principal.ts'
import { buildApp } from '../src/app.ts'
import { INPUT_LIMITS } from '../src/validation/input-rules.ts'
import { createSystem } from '../src/system.ts'
import { caller } from './helpers/api.ts'
import { fixture, testContext, type Teardown, type TestContext } from './helpers/context.ts'

const AGENCY = 'UBND-XA-DEMO'
const S3 = fs.readFileSync(new URL('../processes/s3-ho-kinh-doanh.bpmn', import.meta.url), 'utf8')
const nested = (levels: number, leaf: unknown = 1): unknown => {
  let v: unknown = leaf
  for (let i = 0; i < levels; i++) v = { a: v }
  return v
}
/** JSON text of `{"a":{"a":…1}}`, written as text: JSON.stringify itself gives up on thousands of levels. */
const nestedJson = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels)
const submission = (data: unknown, name = 'Nguyễn Văn A') => ({
  procedureCode: 'PermitRequest',
  applicant: { name, idNumber: '001099001234' },
  channel: 1,
  data,
})

/** What a user sees of a refusal: status, code, and the field it names. */
async function refusal(res: { status: number; body: any }) {
  return { status: res.status, code: res.body?.error?.code, field: JSON.stringify(res.body?.error?.details ?? res.body?.error?.message) }
}

/** A second process on the same database: its engine holds nothing and recovers every instance from Postgres. */
async function restarted(t: Teardown, ctx: TestContext) {
  const log = pino({ level: 'silent' })
  const system = createSystem({ db: ctx.db, clock: ctx.clock, log, config: ctx.config })
  await system.calendar.init()
  const app = await buildApp({
    config: ctx.config,
    log,
    tokens: createTokenService(ctx.config.jwtSecret),
    system,
    health: async () => ({}),
  })
  t.teardown(() => app.close())
  return caller({ ...ctx, app, system }, { userId: 'ld-1', roles: ['officer'], groups: ['one-stop', 'leaders'] })
}

t.test('data nested 3,000 levels, or past the limits, is refused with 400 naming data and the limit; nothing is stored', async (t) => {
  const ctx = await testContext(t)
  await ctx.deploy(fixture('camunda-modeler-leave.bpmn'))
  const officer = await caller(ctx, { userId: 'mc-1', roles: ['officer'], groups: ['one-stop'] })
  const { maxDepth, maxKeys, maxBytes } = INPUT_LIMITS.variables
  const raw = (body: string, url = '/api/dossiers') =>
    ctx.app
      .inject({ method: 'POST', url, headers: { ...officer.headers, 'content-type': 'application/json' }, payload: body })
      .then((r) => ({ status: r.statusCode, body: r.json() }))
  for (const levels of [3000, 5000]) {
    const res = await raw(JSON.stringify(submission({ form: '@' })).replace('"@"', nestedJson(levels)))
    t.match(await refusal(res), { status: 400, code: 'INPUT_LIMIT_EXCEEDED', field: /data/ }, `${levels} levels`)
  }
  const cases: Array<[string, unknown]> = [
    [`${maxDepth + 1} levels`, nested(maxDepth + 1)],
    [`${maxKeys + 1} keys`, Object.fromEntries(Array.from({ length: maxKeys + 1 }, (_, i) => [`k${i}`, i]))],
    [`over ${maxBytes} bytes`, { text: 'x'.repeat(maxBytes) }],
  ]
  for (const [name, data] of cases) {
    const res = await officer.post('/api/dossiers', submission(data))
    t.match(await refusal(res), { status: 400, code: 'INPUT_LIMIT_EXCEEDED', field: /data/ }, name)
  }
  const task = (await officer.post('/api/dossiers', submission({ fee: 0 }))).body.tasks[0]
  const deep = await raw(`{"variables":{"form":${nestedJson(3000)}}}`, `/api/tasks/${task.id}/complete`)
  t.match(await refusal(deep), { status: 400, code: 'INPUT_LIMIT_EXCEEDED', field: /variables/ }, 'completion variables are bounded alike')
  t.equal(Number((await ctx.db('dossiers').count('* as n'))[0].n), 1, 'only the valid dossier was stored')
  t.equal((await officer.get(`/api/tasks/${task.id}`)).body.status, 'open', 'the task is still open')
})

t.test('a dossier whose data and variables are at the limits recovers in a new process and finishes', async (t) => {
  const ctx = await testContext(t)
  await ctx.deploy(fixture('camunda-modeler-leave.bpmn'))
  const officer = await caller(ctx, { userId: 'mc-1', roles: ['officer'], groups: ['one-stop', 'leaders'] })
  const { maxDepth, maxKeys, maxBytes } = INPUT_LIMITS.variables
  const filler = (prefix: string, keys: number) =>
    Object.fromEntries(Array.from({ length: keys }, (_, i) => [`${prefix}${i}`, 'ệ'.repeat(Math.floor((maxBytes - 60_000) / keys / 3))]))
  const data = { fee: 0, form: nested(maxDepth - 1, 'lá'), ...filler('f', maxKeys - maxDepth - 2) }
  const sub = await officer.post('/api/dossiers', submission(data))
  t.equal(sub.status, 201, 'data at the maximum depth, key count and size is accepted')
  const check = await officer.post(`/api/tasks/${sub.body.tasks[0].id}/complete`, {
    variables: { note: nested(maxDepth - 1, 'x'), ...filler('v', maxKeys - maxDepth - 1) },
  })
  t.equal(check.status, 200, 'variables at the maximum are accepted')

  const again = await restarted(t, ctx)
  const approve = check.body.nextTasks[0]
  const done = await again.post(`/api/tasks/${approve.id}/complete`, { variables: { approved: true } })
  t.equal(done.status, 200, 'the new process recovers the saved state and steps on')
  t.equal(done.body.processEnded, true)
  t.same((await again.get(`/api/dossiers/${sub.body.dossier.id}`)).body.dossier.data.form, data.form, 'the data is kept whole')
})

t.test('bad text, huge numbers and out-of-range dates get 400 naming the field, on every kind of input', async (t) => {
  const ctx = await testContext(t, { now: '2026-11-23T02:00:00Z' })
  await ctx.deploy(fixture('camunda-modeler-leave.bpmn'))
  t.equal((await ctx.deploy(S3)).status, 201)
  const officer = await caller(ctx, { userId: 'mc-1', roles: ['officer'], groups: ['one-stop', 'leaders'], agency: AGENCY })
  const admin = await caller(ctx, { userId: 'qt-1', roles: ['admin'], agency: AGENCY })
  const citizen = await caller(ctx, { userId: 'cd-1', roles: ['citizen'], agency: AGENCY })
  const s3 = (
    await officer.post('/api/dossiers', {
      procedureCode: '2.000575',
      applicant: { name: 'Nguyễn Văn A', idNumber: '001099001234' },
      channel: 1,
      data: {},
    })
  ).body.dossier.id
  const before = Number((await ctx.db('history').count('* as n'))[0].n)

  const cases: Array<[string, () => Promise<{ status: number; body: any }>, RegExp]> = [
    ['NUL in applicant.name', () => officer.post('/api/dossiers', submission({}, 'A\u0000B')), /applicant\/name/],
    [
      'lone surrogate in applicant.name',
      () => citizen.post('/api/dossiers', { ...submission({}, '\ud800'), channel: 2 }),
      /applicant\/name/,
    ],
    ['NUL in a data value', () => officer.post('/api/dossiers', submission({ note: 'x\u0000' })), /data\/note/],
    ['lone surrogate in a data key', () => officer.post('/api/dossiers', submission({ ['k\udc00']: 1 })), /data/],
    ['candidateGroup=%00', () => officer.get('/api/tasks?candidateGroup=%00'), /candidateGroup/],
    ['limit=1e309', () => officer.get('/api/tasks?limit=1e309'), /limit/],
    ['limit=1e309 on procedures', () => officer.get('/api/procedures?limit=1e309'), /limit/],
    [
      '1e309 in a body',
      () =>
        ctx.app
          .inject({
            method: 'POST',
            url: '/api/dossiers',
            headers: { ...officer.headers, 'content-type': 'application/json' },
            payload: JSON.stringify(submission({ fee: 0 })).replace('"fee":0', '"fee":1e309'),
          })
          .then((r) => ({ status: r.statusCode, body: r.json() })),
      /fee/,
    ],
    ['version 2^31', () => officer.get('/api/procedures/PermitRequest/versions/2147483648'), /version/],
    ['procedure code with NUL', () => officer.get('/api/procedures/a%00b'), /code/],
    [
      'calendar entry name with NUL',
      () =>
        ctx.app
          .inject({
            method: 'PUT',
            url: '/api/calendar/2027',
            headers: admin.headers,
            payload: { entries: [{ date: '2027-01-01', kind: 'day_off', name: 'Tết\u0000', source: 'BLLĐ 2019' }] },
          })
          .then((r) => ({ status: r.statusCode, body: r.json() })),
      /entries\/0\/name/,
    ],
    [
      'evaluation comment with a lone surrogate',
      () =>
        citizen.post(`/api/dossiers/${s3}/evaluation`, {
          ratings: { a: 3, b: 3, c: 3, d: 3, e: 3, f: 3, g: 3, h: 3, i: 3 },
          comment: 'tốt\ud83d',
        }),
      /comment/,
    ],
    ['action text with NUL', () => officer.act(s3, 'accept', { note: 'đã nhận\u0000' }), /note/],
    ['supplement note with NUL', () => citizen.post(`/api/dossiers/${s3}/supplement`, { note: '\u0000' }), /note/],
    [
      'extension to 9999-12-31',
      () =>
        officer.post(`/api/dossiers/${s3}/extension`, { newAppointmentAt: '9999-12-31T00:00:00Z', reason: 'Cần thêm thời gian xác minh' }),
      /newAppointmentAt/,
    ],
    ['tasks due before year 9999', () => officer.get('/api/tasks?dueBefore=9999-12-31T00:00:00Z'), /dueBefore/],
  ]
  for (const [name, send, field] of cases) {
    t.match(await refusal(await send()), { status: 400, field }, name)
  }
  t.equal(Number((await ctx.db('history').count('* as n'))[0].n), before, 'nothing was recorded')
  t.equal((await officer.get(`/api/dossiers/${s3}`)).body.dossier.status, 'RECEIVING', 'the dossier did not move')
})

t.test('JSON bodies over 1 MiB get 413 while a larger BPMN upload still deploys', async (t) => {
  const ctx = await testContext(t)
  const officer = await caller(ctx, { userId: 'mc-1', roles: ['officer'], groups: ['one-stop'] })
  const big = await officer.post('/api/dossiers', submission({ text: 'x'.repeat(1024 * 1024) }))
  t.match(await refusal(big), { status: 413, code: 'PAYLOAD_TOO_LARGE' })
  const xml = fixture('camunda-modeler-leave.bpmn').replace('<bpmn:process ', `<!-- ${'chú thích '.repeat(200_000)} -->\n<bpmn:process `)
  t.ok(Buffer.byteLength(xml) > 2 * 1024 * 1024, 'the diagram is over 2 MiB')
  t.equal((await ctx.deploy(xml)).status, 201, 'BPMN uploads keep their own 10 MiB limit')
})

t.test(
  'instances with large data do not crowd memory: the engine cache holds states up to its byte budget, and every dossier still steps on',
  async (t) => {
    const budget = 600_000
    const ctx = await testContext(t, { env: { ENGINE_CACHE_BYTES: String(budget) } })
    await ctx.deploy(fixture('camunda-modeler-leave.bpmn'))
    const officer = await caller(ctx, { userId: 'mc-1', roles: ['officer'], groups: ['one-stop', 'leaders'] })
    const tasks = []
    for (let i = 0; i < 6; i++) {
      const sub = await officer.post('/api/dossiers', submission({ fee: 0, text: 'x'.repeat(200_000) }, `Người nộp ${i}`))
      t.equal(sub.status, 201)
      tasks.push(sub.body.tasks[0].id)
      t.ok(ctx.system.engine.cachedBytes <= budget, `after dossier ${i + 1}: ${ctx.system.engine.cachedBytes} ≤ ${budget}`)
    }
    t.ok(ctx.system.engine.cached < 6, `${ctx.system.engine.cached} of 6 held in memory`)
    for (const id of tasks) t.equal((await officer.post(`/api/tasks/${id}/complete`, { variables: {} })).status, 200)
  },
)
