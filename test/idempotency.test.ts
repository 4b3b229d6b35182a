import t from 'tap'
import fs from 'node:fs'
import { auth, fixture, testContext } from './helpers/context.ts'
import { caller } from './helpers/api.ts'

const S3 = fs.readFileSync(new URL('../processes/s3-ho-kinh-doanh.bpmn', import.meta.url), 'utf8')
const AGENCY = 'UBND-XA-DEMO'

t.test('a retry with the same Idempotency-Key and the same body in another key order gets the same dossier', async (t) => {
  const ctx = await testContext(t, { now: '2026-11-23T02:00:00Z' })
  await ctx.deploy(S3)
  const officer = await caller(ctx, { userId: 'mc-1', roles: ['officer'], groups: ['one-stop'], agency: AGENCY })
  const key = { 'idempotency-key': 'nop-ho-so-1' }
  const first = await officer.post(
    '/api/dossiers',
    {
      procedureCode: '2.000575',
      applicant: { name: 'Nguyễn Văn A', idNumber: '001099001234', phone: '0912345678' },
      channel: 1,
      data: { businessName: 'Bình An', address: { ward: 'Phường 1', street: 'Lê Lợi' } },
    },
    key,
  )
  const retry = await officer.post(
    '/api/dossiers',
    {
      data: { address: { street: 'Lê Lợi', ward: 'Phường 1' }, businessName: 'Bình An' },
      channel: 1,
      applicant: { phone: '0912345678', idNumber: '001099001234', name: 'Nguyễn Văn A' },
      procedureCode: '2.000575',
    },
    key,
  )
  t.equal(first.status, 201)
  t.equal(retry.status, 200, 'the retry is a replay, not a reuse')
  t.equal(retry.body.dossier.id, first.body.dossier.id)
  const other = await officer.post(
    '/api/dossiers',
    { procedureCode: '2.000575', applicant: { name: 'Nguyễn Văn B', idNumber: '001099001234', phone: '0912345678' }, channel: 1, data: {} },
    key,
  )
  t.equal(other.body.error.code, 'IDEMPOTENCY_KEY_REUSED', 'a different body with the same key is still refused')
})

t.test('Idempotency-Key: a retried submission returns the same dossier', async (t) => {
  const ctx = await testContext(t)
  await ctx.deploy(fixture('camunda-modeler-leave.bpmn'))
  const citizen = { ...(await auth(ctx, { roles: ['citizen'], userId: 'c1' })), 'idempotency-key': 'retry-123' }
  const payload = { procedureCode: 'PermitRequest', applicant: { name: 'A', idNumber: '001099001234' }, channel: 2, data: { fee: 1 } }
  const all = await Promise.all(
    Array.from({ length: 5 }, () => ctx.app.inject({ method: 'POST', url: '/api/dossiers', headers: citizen, payload })),
  )
  const ids = new Set(all.map((r) => r.json().dossier.id))
  t.equal(ids.size, 1, 'concurrent retries give one dossier')
  t.same(all.map((r) => r.statusCode).sort(), [200, 200, 200, 200, 201])
  t.equal(Number((await ctx.db('dossiers').count('* as n'))[0]!.n), 1)
  const other = await ctx.app.inject({ method: 'POST', url: '/api/dossiers', headers: citizen, payload: { ...payload, data: { fee: 2 } } })
  t.equal(other.statusCode, 422)
  t.equal(other.json().error.code, 'IDEMPOTENCY_KEY_REUSED')
})
