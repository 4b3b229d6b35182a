import t from 'tap'
import { clockOf } from './helpers/clock.ts'
import fs from 'node:fs'
import { testContext } from './helpers/context.ts'
import { caller } from './helpers/api.ts'

const S3 = fs.readFileSync(new URL('../processes/s3-ho-kinh-doanh.bpmn', import.meta.url), 'utf8')
const sub = (name: string, idNumber: string, channel = 2) => ({
  procedureCode: '2.000575',
  applicant: { name, idNumber },
  channel,
  data: {},
})

t.test('dossier codes stay unique and gapless per unit per day under 100 concurrent submissions', async (t) => {
  const ctx = await testContext(t, { now: '2026-11-23T02:00:00Z' })
  await ctx.deploy(S3)
  const citizens = await Promise.all(Array.from({ length: 100 }, (_, i) => caller(ctx, { userId: `cd-${i}`, roles: ['citizen'] })))
  const results = await Promise.all(citizens.map((c, i) => c.post('/api/dossiers', sub(`Công dân ${i}`, `00119900${String(1000 + i)}`))))
  t.ok(
    results.every((r) => r.status === 201),
    'all 100 accepted',
  )
  const seq = results
    .map((r) => r.body.dossier.code)
    .map((c: string) => {
      t.match(c, /^000\.10\.20\.H12-261123-\d{4}$/)
      return Number(c.slice(-4))
    })
    .sort((a, b) => a - b)
  t.same(
    seq,
    Array.from({ length: 100 }, (_, i) => i + 1),
    '0001…0100, no gap, no duplicate',
  )
  clockOf(ctx).set('2026-11-23T17:30:00Z') // 00:30 on Tue 24/11 in Vietnam: a new day
  const next = await citizens[0]!.post('/api/dossiers', sub('Công dân mới', '001199009999'))
  t.equal(next.body.dossier.code, '000.10.20.H12-261124-0001', 'the sequence restarts at local midnight')
})
