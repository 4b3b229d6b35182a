import t from 'tap'
import fs from 'node:fs'
import { testContext } from './helpers/context.ts'
import { caller } from './helpers/api.ts'

const S3 = fs.readFileSync(new URL('../processes/s3-ho-kinh-doanh.bpmn', import.meta.url), 'utf8')
const AGENCY = 'UBND-XA-DEMO'

t.test('a dossier not evaluated yet answers EVALUATION_NOT_FOUND, a dossier one may not see DOSSIER_NOT_FOUND', async (t) => {
  const ctx = await testContext(t, { now: '2026-11-23T02:00:00Z' })
  await ctx.deploy(S3)
  const owner = await caller(ctx, { userId: 'cd-1', roles: ['citizen'] })
  const other = await caller(ctx, { userId: 'cd-2', roles: ['citizen'] })
  const officer = await caller(ctx, { userId: 'mc-1', roles: ['officer'], groups: ['one-stop'], agency: AGENCY })
  const id = (
    await owner.post('/api/dossiers', {
      procedureCode: '2.000575',
      applicant: { name: 'Chủ hồ sơ', idNumber: '001199001111' },
      channel: 2,
      data: {},
    })
  ).body.dossier.id

  for (const [who, as] of [
    ['the applicant', owner],
    ['an officer of the agency', officer],
  ] as const) {
    const r = await as.get(`/api/dossiers/${id}/evaluation`)
    t.equal(r.status, 404, who)
    t.equal(r.body.error.code, 'EVALUATION_NOT_FOUND', `${who}: the dossier exists, its evaluation does not`)
  }
  const hidden = await other.get(`/api/dossiers/${id}/evaluation`)
  t.equal(hidden.body.error.code, 'DOSSIER_NOT_FOUND', 'another citizen: the dossier itself is not found')
  const unknown = await owner.get('/api/dossiers/00000000-0000-4000-8000-000000000000/evaluation')
  t.equal(unknown.body.error.code, 'DOSSIER_NOT_FOUND', 'an unknown dossier')
})
