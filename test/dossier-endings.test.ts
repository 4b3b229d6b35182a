import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { testContext, type TestContext } from './helpers/context.ts'
import { caller, statusTrail, type Caller } from './helpers/api.ts'
import { pdfText } from './helpers/pdf-text.ts'

/**
 * How dossiers end (docs/lifecycle.md): every dossier always has an open task, a waiting event that
 * can be delivered, or a final status.
 */
const PROCESSES = path.resolve(import.meta.dirname, '../processes')
const AGENCY = 'UBND-XA-DEMO'
const GROUPS = ['one-stop', 'specialists', 'leaders', 'tu-phap-ho-tich', 'cong-an-tinh', 'van-phong-dang-ky']
const PDF = Buffer.from('%PDF-1.4\n%%EOF\n')

async function deployAll(ctx: TestContext) {
  for (const f of fs.readdirSync(PROCESSES).filter((f) => f.endsWith('.bpmn'))) {
    const r = await ctx.deploy(fs.readFileSync(path.join(PROCESSES, f), 'utf8'))
    if (r.status !== 201) throw new Error(`${f}: ${JSON.stringify(r.body)}`)
  }
}

/** Each sample: its code, agency, and the actions that bring an online dossier to the appraisal step that can refuse. */
const SAMPLES = [
  { name: 'S1 birth registration', code: '1.001193', agency: AGENCY, before: ['accept'] },
  { name: 'S2 criminal record certificate (fee, level 4)', code: '2.000488', agency: 'SO-TU-PHAP-DEMO', before: ['accept', 'transfer'] },
  { name: 'S3 household business (fee, level 4)', code: '2.000575', agency: AGENCY, before: ['accept'] },
  { name: 'S4 construction permit', code: '1.009994', agency: AGENCY, before: ['accept', 'transfer'] },
  { name: 'S5 land-use certificate', code: '1.004227', agency: AGENCY, before: ['accept', 'transfer'] },
]

t.test('every sample: an online dossier refused after appraisal is returned to the applicant with the refusal, no fee asked', async (t) => {
  const ctx = await testContext(t, { now: '2026-11-23T02:00:00Z' }) // Mon 09:00 (UTC+7)
  await deployAll(ctx)
  const citizen = await caller(ctx, { userId: 'cd-1', roles: ['citizen'] })
  for (const s of SAMPLES) {
    await t.test(s.name, async (t) => {
      const officer: Caller = await caller(ctx, { userId: `cb-${s.code}`, roles: ['officer'], groups: GROUPS, agency: s.agency })
      const sub = await citizen.post('/api/dossiers', {
        procedureCode: s.code,
        applicant: { name: 'Lê Văn C', idNumber: '001099001234', phone: '0912345678' },
        channel: 2,
        data: {},
      })
      t.equal(sub.status, 201, JSON.stringify(sub.body))
      const id = sub.body.dossier.id
      for (const a of s.before) t.equal((await officer.act(id, a, {})).status, 200, a)
      const reason = `Không đủ điều kiện (${s.code})`
      const rej = await officer.act(id, 'refuse', { reasons: [reason] })
      t.equal(rej.status, 200, JSON.stringify(rej.body))
      t.equal(rej.body.dossierStatus, 'RESULT_READY')
      t.match(rej.body.nextTasks, [{ activityId: 'TraKetQua', candidateGroups: ['one-stop'] }], 'the one-stop unit has the return step')
      t.same(
        (await officer.get(`/api/dossiers/${id}/actions`)).body.items.map((a: any) => a.action),
        ['return'],
      )
      const pay = await citizen.post(`/api/dossiers/${id}/payments`, {})
      t.equal(pay.status, 409)
      t.equal(pay.body.error.code, 'PAYMENT_NOT_DUE', 'no fee is due for a refusal')

      // Online return: the signed refusal decision is the electronic result.
      const up = await ctx.app.inject({
        method: 'POST',
        url: `/api/dossiers/${id}/documents?fileName=tu-choi.pdf&kind=result`,
        headers: { ...officer.headers, 'content-type': 'application/pdf' },
        payload: PDF,
      })
      t.equal(up.statusCode, 201, up.body)
      const ret = await officer.act(id, 'return', { method: 'online' })
      t.equal(ret.status, 200, JSON.stringify(ret.body))
      t.match(ret.body, { dossierStatus: 'RETURNED', processEnded: true })
      t.same((await statusTrail(officer, id)).slice(-2), [
        ['RESULT_READY', 9],
        ['RETURNED', 10],
      ])
      const view = (await citizen.get(`/api/dossiers/${id}`)).body
      t.match(view.dossier, { status: 'RETURNED', returnMethod: 'online' })
      t.match(
        view.history.find((h: any) => h.action === 'lifecycle.refused'),
        { details: { reasons: [reason], stage: 'appraisal' } },
      )
      const m03 = await ctx.app.inject({ method: 'GET', url: `/api/dossiers/${id}/forms/mau-03`, headers: citizen.headers })
      t.equal(m03.statusCode, 200)
      t.match(await pdfText(m03.rawPayload), reason, 'the applicant reads the refusal reason on Mẫu 03')
    })
  }
})

const plain = (id: string, body: string) => `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="D_${id}" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="${id}" isExecutable="true">${body}</bpmn:process>
</bpmn:definitions>`

t.test('a diagram in which no start reaches an end is refused at deploy, with the element and a Vietnamese message', async (t) => {
  const ctx = await testContext(t)
  const cases: Array<[string, string, string]> = [
    ['only a start event', plain('OnlyStart', '<bpmn:startEvent id="Start" name="Nộp hồ sơ" />'), 'Start'],
    [
      'a loop without exit',
      plain(
        'Loop',
        `
      <bpmn:startEvent id="Start" /><bpmn:userTask id="Check" camunda:candidateGroups="one-stop" /><bpmn:exclusiveGateway id="Again" />
      <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Check" /><bpmn:sequenceFlow id="f2" sourceRef="Check" targetRef="Again" />
      <bpmn:sequenceFlow id="f3" sourceRef="Again" targetRef="Check" />`,
      ),
      'Start',
    ],
  ]
  for (const [name, xml, elementId] of cases) {
    const r = await ctx.deploy(xml)
    t.equal(r.status, 422, name)
    t.equal(r.body.error.code, 'BPMN_INVALID')
    const f = r.body.error.details.findings.find((x: any) => x.code === 'NO_PATH_TO_END')
    t.match(f, { elementId, message: /không bao giờ kết thúc/ }, name)
  }
  t.equal(Number((await ctx.db('procedure_versions').count('* as n'))[0].n), 0, 'nothing deployed')
})

t.test('a plain Camunda diagram that ends before any return: the runtime adds the return step for the one-stop unit', async (t) => {
  const ctx = await testContext(t, { now: '2026-11-23T02:00:00Z' })
  t.equal(
    (
      await ctx.deploy(
        plain(
          'StraightThrough',
          `
    <bpmn:startEvent id="Start" /><bpmn:endEvent id="End" /><bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="End" />`,
        ),
      )
    ).status,
    201,
    'start → end deploys',
  )
  t.equal(
    (
      await ctx.deploy(
        plain(
          'ImplicitEnd',
          `
    <bpmn:startEvent id="Start" /><bpmn:userTask id="Check" name="Kiểm tra" camunda:candidateGroups="one-stop" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Check" />`,
        ),
      )
    ).status,
    201,
    'a task without outgoing flow (implicit end) deploys',
  )
  const officer = await caller(ctx, { userId: 'mc-1', roles: ['officer'], groups: ['one-stop'] })
  const citizen = await caller(ctx, { userId: 'cd-1', roles: ['citizen'] })
  const applicant = { name: 'Phạm Thị D', idNumber: '001099001234', phone: '0912345678' }

  for (const [channel, who] of [
    [1, officer],
    [2, citizen],
  ] as const) {
    const sub = await who.post('/api/dossiers', { procedureCode: 'StraightThrough', applicant, channel, data: {} })
    t.equal(sub.status, 201, JSON.stringify(sub.body))
    const id = sub.body.dossier.id
    const v = (await officer.get(`/api/dossiers/${id}`)).body
    t.equal(v.dossier.status, 'RESULT_READY', `channel ${channel}: the process ran through`)
    t.match(
      v.tasks,
      [{ name: 'Trả kết quả cho công dân', candidateGroups: ['one-stop'], status: 'open' }],
      `channel ${channel}: the return step is open`,
    )
    t.same(
      (await officer.get(`/api/dossiers/${id}/actions`)).body.items.map((a: any) => a.action),
      ['return'],
    )
    const ret = await officer.act(id, 'return', { method: 'counter', recipientName: applicant.name })
    t.match(ret.body, { dossierStatus: 'RETURNED', nextTasks: [] }, JSON.stringify(ret.body))
    t.match((await officer.get(`/api/dossiers/${id}`)).body.dossier, { status: 'RETURNED', returnMethod: 'counter' })
    t.same(
      (await statusTrail(officer, id)).map(([s]) => s),
      channel === 1 ? ['ACCEPTED', 'RESULT_READY', 'RETURNED'] : ['SUBMITTED_ONLINE', 'IN_PROCESS', 'RESULT_READY', 'RETURNED'],
    )
  }

  const sub = await officer.post('/api/dossiers', { procedureCode: 'ImplicitEnd', applicant, channel: 1, data: {} })
  const done = await officer.post(`/api/tasks/${sub.body.tasks[0].id}/complete`, { variables: {} })
  t.equal(done.status, 200, JSON.stringify(done.body))
  t.match(done.body, { dossierStatus: 'RESULT_READY', processEnded: true, nextTasks: [{ name: 'Trả kết quả cho công dân' }] })
  const again = await officer.post(`/api/tasks/${done.body.nextTasks[0].id}/complete`, {})
  t.match(
    again.body,
    { dossierStatus: 'RETURNED', processEnded: true, nextTasks: [] },
    'the return step completes through the task API as well',
  )
  const twice = await officer.post(`/api/tasks/${done.body.nextTasks[0].id}/complete`, {})
  t.equal(twice.status, 409)
  const history = (await officer.get(`/api/dossiers/${sub.body.dossier.id}`)).body.history.map((h: any) => h.action)
  t.equal(history.filter((a: string) => a === 'process.completed').length, 1)

  const w = await citizen.post('/api/dossiers', { procedureCode: 'StraightThrough', applicant, channel: 2, data: {} })
  t.equal(w.body.dossier.status, 'RESULT_READY')
  const gone = await citizen.post(`/api/dossiers/${w.body.dossier.id}/withdraw`, { reason: 'Tôi không cần kết quả nữa' })
  t.same(
    gone.body,
    { dossierId: w.body.dossier.id, dossierStatus: 'WITHDRAWN' },
    'the applicant can still withdraw while the return step is open',
  )
  t.same((await officer.get(`/api/dossiers/${w.body.dossier.id}`)).body.tasks, [], 'the return step is cancelled')
})
