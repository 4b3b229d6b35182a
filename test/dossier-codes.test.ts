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

// The step of a submission is written with a marker where the code goes; the database takes the number
// in the commit's own message and writes the code in its place (migration 021). Nothing may keep the marker.
const CODE_EVERYWHERE = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:tthc="https://dvc-bpmn.vn/schema/tthc/1.0" id="Defs_Code" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="CodeEverywhere" isExecutable="true">
    <bpmn:extensionElements><tthc:procedure code="TEST.CODE" name="Mã hồ sơ ở mọi nơi" agency="UBND-XA-DEMO" unitId="000.10.20.H12" timeLimit="5"/></bpmn:extensionElements>
    <bpmn:startEvent id="Start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:parallelGateway id="Fork"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f3</bpmn:outgoing></bpmn:parallelGateway>
    <bpmn:userTask id="Review" name="Xem xét" camunda:candidateGroups="one-stop" camunda:candidateUsers="\${dossierCode}"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing></bpmn:userTask>
    <bpmn:serviceTask id="Police" name="Xác minh cư trú" camunda:type="external" camunda:topic="police-residence"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:parallelGateway id="Join"><bpmn:incoming>f4</bpmn:incoming><bpmn:incoming>f5</bpmn:incoming><bpmn:outgoing>f6</bpmn:outgoing></bpmn:parallelGateway>
    <bpmn:endEvent id="End"><bpmn:incoming>f6</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Fork"/>
    <bpmn:sequenceFlow id="f2" sourceRef="Fork" targetRef="Review"/>
    <bpmn:sequenceFlow id="f3" sourceRef="Fork" targetRef="Police"/>
    <bpmn:sequenceFlow id="f4" sourceRef="Review" targetRef="Join"/>
    <bpmn:sequenceFlow id="f5" sourceRef="Police" targetRef="Join"/>
    <bpmn:sequenceFlow id="f6" sourceRef="Join" targetRef="End"/>
  </bpmn:process>
</bpmn:definitions>`

t.test('a submission leaves its code everywhere the step wrote it, and the marker nowhere', async (t) => {
  const ctx = await testContext(t, { now: '2026-11-23T02:00:00Z' })
  t.equal((await ctx.deploy(CODE_EVERYWHERE)).status, 201)
  t.equal((await ctx.deploy(S3)).status, 201)
  const officer = await caller(ctx, { userId: 'mc-1', roles: ['officer'], groups: ['one-stop'], agency: 'UBND-XA-DEMO' })
  const citizen = await caller(ctx, { userId: 'cd-x', roles: ['citizen'] })
  const applicant = { name: 'Trần Văn B', idNumber: '001199005555', email: 'b@example.vn', phone: '0912345678' }
  const a = await officer.post('/api/dossiers', { procedureCode: 'TEST.CODE', applicant, channel: 1, data: {} })
  const b = await citizen.post('/api/dossiers', { ...sub('Trần Văn C', '001199006666'), applicant: { ...applicant, name: 'Trần Văn C' } })
  t.equal(a.status, 201)
  t.equal(b.status, 201)
  const code = a.body.dossier.code as string
  t.equal(code, '000.10.20.H12-261123-0001')
  t.equal(b.body.dossier.code, '000.10.20.H12-261123-0002', 'one sequence per unit, whatever the procedure')
  t.same(
    a.body.tasks.map((x: { candidateUsers?: string[]; candidate_users?: string[] }) => x.candidateUsers ?? x.candidate_users),
    [[code]],
    'the answer names the code, not the marker',
  )
  t.same((await ctx.db('tasks').where({ dossier_id: a.body.dossier.id }).first()).candidate_users, [code])
  t.equal((await ctx.db('handoffs').where({ dossier_id: a.body.dossier.id }).first()).business_key, code)
  const events = await ctx.db('outbox').whereRaw(`payload->>'dossierId' = ?`, [b.body.dossier.id]).whereRaw(`payload->>'code' IS NOT NULL`)
  t.ok(events.length >= 1, 'the online submission wrote its status event for the portal')
  t.ok(
    events.every((o: { payload: { code: string } }) => o.payload.code === b.body.dossier.code),
    'with its code',
  )
  // Every text, JSON and array column of every table.
  const columns = await ctx.db.raw(`SELECT table_name, column_name FROM information_schema.columns
     WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'jsonb', 'json', 'ARRAY')`)
  const left: string[] = []
  for (const c of columns.rows as Array<{ table_name: string; column_name: string }>) {
    const n = await ctx.db.raw(`SELECT count(*)::int AS n FROM "${c.table_name}" WHERE "${c.column_name}"::text LIKE '%DVCCODE%'`)
    if (n.rows[0].n > 0) left.push(`${c.table_name}.${c.column_name}`)
  }
  t.same(left, [], 'no column keeps the marker')
})

t.test('a receiving unit identifier that cannot start a dossier code is refused at deploy', async (t) => {
  const ctx = await testContext(t, { now: '2026-11-23T02:00:00Z' })
  for (const unitId of ["000.10.20.H12'", '000 10 20', '000..20.H12', 'Sở Tư pháp']) {
    const r = await ctx.deploy(CODE_EVERYWHERE.replace('unitId="000.10.20.H12"', `unitId="${unitId.replace("'", '&apos;')}"`))
    t.equal(r.status, 422, unitId)
    t.ok(
      r.body.error.details.findings.some(
        (f: { code: string; message: string }) => f.code === 'METADATA_INVALID' && /unitId/.test(f.message),
      ),
      unitId,
    )
  }
  t.equal((await ctx.deploy(CODE_EVERYWHERE)).status, 201, 'groups of letters and digits separated by dots are accepted')
})
