import t from 'tap'
import fs from 'node:fs'
import { testContext } from './helpers/context.ts'
import { caller } from './helpers/api.ts'

const S3 = fs.readFileSync(new URL('../processes/s3-ho-kinh-doanh.bpmn', import.meta.url), 'utf8')
const AGENCY = 'UBND-XA-DEMO'

t.test('a completion that leaves a gateway no way out names the gateway and the variable names it saw (never their values)', async (t) => {
  const ctx = await testContext(t, { now: '2026-11-23T02:00:00Z' })
  await ctx.deploy(S3)
  const officer = await caller(ctx, { userId: 'mc-1', roles: ['officer'], groups: ['one-stop'], agency: AGENCY })
  const sub = await officer.post('/api/dossiers', {
    procedureCode: '2.000575',
    applicant: { name: 'Nguyễn Văn A', idNumber: '001099001234' },
    channel: 1,
    data: {},
  })
  const task = sub.body.tasks[0]
  const empty = await ctx.app.inject({ method: 'POST', url: `/api/tasks/${task.id}/complete`, headers: officer.headers })
  const unknown = await officer.post(`/api/tasks/${task.id}/complete`, { variables: { outcome: 'bogus', ghiChu: 'số CCCD 001099001234' } })
  for (const [name, res] of [
    ['no body', { status: empty.statusCode, body: empty.json() }],
    ['unknown outcome', unknown],
  ] as const) {
    t.equal(res.status, 422, name)
    const e = res.body.error
    t.match(
      e,
      { code: 'PROCESS_STEP_FAILED', details: { activityId: 'TN_Gw', gateway: 'TN_Gw', gatewayName: String } },
      `${name}: the gateway is named`,
    )
    t.match(e.message, /không có nhánh nào đi tiếp tại cổng "[^"]+" \(TN_Gw\)/, `${name}: a Vietnamese message`)
    t.ok(e.details.variables.includes('outcome'), `${name}: the variable names it saw`)
  }
  t.ok(unknown.body.error.details.variables.includes('ghiChu'), 'the names sent with the completion are listed')
  t.notMatch(JSON.stringify(unknown.body), /bogus|001099001234/, 'no variable values are echoed')
  t.equal((await officer.get(`/api/tasks/${task.id}`)).body.status, 'open', 'the task stays open')
})
