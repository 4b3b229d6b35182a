import t from 'tap'
import fs from 'node:fs'
import { testContext } from './helpers/context.ts'
import { caller } from './helpers/api.ts'

const S3 = fs.readFileSync(new URL('../processes/s3-ho-kinh-doanh.bpmn', import.meta.url), 'utf8')
const AGENCY = 'UBND-XA-DEMO'
const sub = (name: string, idNumber: string, channel = 2) => ({
  procedureCode: '2.000575',
  applicant: { name, idNumber },
  channel,
  data: {},
})

t.test('supervisors read the 766 indicators of their agency', async (t) => {
  const ctx = await testContext(t, { now: '2026-11-23T02:00:00Z' })
  await ctx.deploy(S3)
  const owner = await caller(ctx, { userId: 'cd-1', roles: ['citizen'] })
  const officer = await caller(ctx, { userId: 'mc-1', roles: ['officer'], groups: ['one-stop', 'specialists', 'leaders'], agency: AGENCY })
  const supervisor = await caller(ctx, { userId: 'gs-1', roles: ['supervisor'], agency: AGENCY })
  const other = await caller(ctx, { userId: 'gs-2', roles: ['supervisor'], agency: 'UBND-XA-KHAC' })
  const online = (await owner.post('/api/dossiers', sub('Chủ hồ sơ', '001199001111'))).body.dossier.id
  for (const a of ['accept', 'propose', 'approve']) await officer.act(online, a)
  const ref = (await owner.post(`/api/dossiers/${online}/payments`)).body.payment.reference
  await owner.post(`/api/payment-simulator/${encodeURIComponent(ref)}/pay`, {})
  await ctx.app.inject({
    method: 'POST',
    url: `/api/dossiers/${online}/documents?fileName=kq.pdf&kind=result`,
    headers: { ...officer.headers, 'content-type': 'application/pdf' },
    payload: Buffer.from('%PDF-1.4\n%%EOF'),
  })
  await officer.act(online, 'return', { method: 'online' })
  await owner.post(`/api/dossiers/${online}/evaluation`, { ratings: { a: 3, b: 3, c: 3, d: 3, e: 3, f: 3, g: 3, h: 3, i: 3 } })
  const counter = (await officer.post('/api/dossiers', sub('Quầy', '001199002222', 1))).body.dossier.id
  await officer.act(counter, 'accept')

  const r = await supervisor.get('/api/supervision/indicators?from=2026-11-01&to=2026-11-30')
  t.equal(r.status, 200)
  t.match(r.body, {
    received: 2,
    onTime: { rate: 1, onTime: 1, finished: 1 },
    onlineDossiers: { rate: 0.5, online: 1 },
    level4Procedures: { rate: 1, level4: 1, procedures: 1 },
    paidOnline: { paidOnline: 1 },
    electronicResults: { rate: 1 },
    satisfaction: { rate: 1, evaluated: 1 },
  })
  t.match(
    (await other.get('/api/supervision/indicators?from=2026-11-01&to=2026-11-30')).body,
    { received: 0, onTime: { rate: null } },
    'another agency sees its own, empty figures',
  )
  t.equal((await other.get(`/api/supervision/indicators?from=2026-11-01&to=2026-11-30&agency=${AGENCY}`)).status, 403)
  t.equal((await officer.get('/api/supervision/indicators?from=2026-11-01&to=2026-11-30')).status, 403)
})
