import t from 'tap'
import fs from 'node:fs'
import { testContext } from './helpers/context.ts'
import { caller, statusTrail } from './helpers/api.ts'
import { clockOf } from './helpers/clock.ts'

const S3 = fs.readFileSync(new URL('../processes/s3-ho-kinh-doanh.bpmn', import.meta.url), 'utf8')
const AGENCY = 'UBND-XA-DEMO'
const submission = (name: string, channel = 1) => ({
  procedureCode: '2.000575',
  applicant: { name, idNumber: '001099001234', phone: '0912345678' },
  channel,
  data: { businessName: 'Hộ kinh doanh Bình An' },
})

t.test('S3 at the counter: supplement at receipt, acceptance with appointment, appraisal, approval, return', async (t) => {
  const ctx = await testContext(t, { now: '2026-11-23T02:00:00Z' }) // Mon 23/11/2026 09:00 (UTC+7)
  t.equal((await ctx.deploy(S3)).status, 201)
  const oneStop = await caller(ctx, { userId: 'mc-1', roles: ['officer'], groups: ['one-stop'], agency: AGENCY })
  const specialist = await caller(ctx, { userId: 'cv-1', roles: ['officer'], groups: ['specialists'], agency: AGENCY })
  const leader = await caller(ctx, { userId: 'ld-1', roles: ['officer'], groups: ['leaders'], agency: AGENCY })

  const sub = await oneStop.post('/api/dossiers', submission('Nguyễn Văn A'))
  t.equal(sub.status, 201)
  const id = sub.body.dossier.id
  t.match(sub.body.dossier, { status: 'RECEIVING', nationalStatus: 1, appointmentAt: null })
  t.match(sub.body.dossier.code, /^000\.10\.20\.H12-261123-0001$/)
  t.same(
    (await oneStop.get(`/api/dossiers/${id}/actions`)).body.items.map((a: any) => a.action),
    ['accept', 'request-supplement', 'refuse'],
  )
  t.same((await specialist.get(`/api/dossiers/${id}/actions`)).body.items, [], 'a specialist has nothing to do at receipt')

  const bad = await oneStop.act(id, 'request-supplement', { items: ['GIAY-KHAC'], reason: 'Thiếu giấy tờ' })
  t.equal(bad.status, 422)
  t.equal(bad.body.error.code, 'SUPPLEMENT_ITEMS_INVALID', 'only items of the published document list')
  t.equal((await oneStop.act(id, 'approve', {})).body.error.code, 'ACTION_NOT_AVAILABLE')
  t.equal((await oneStop.act(id, 'request-supplement', { items: [], reason: 'x' })).status, 400)

  const supp = await oneStop.act(id, 'request-supplement', { items: ['HDTN'], reason: 'Thiếu bản sao hợp đồng thuê nhà' })
  t.equal(supp.status, 200)
  t.equal(supp.body.dossierStatus, 'SUPPLEMENT_REQUESTED')
  t.same(supp.body.nextTasks, [], 'nothing for officers while the applicant has the ball')

  clockOf(ctx).set('2026-11-23T03:00:00Z')
  const back = await oneStop.post(`/api/dossiers/${id}/supplement`, { note: 'Đã nộp bổ sung hợp đồng thuê nhà' })
  t.equal(back.status, 200)
  t.equal(back.body.dossierStatus, 'RECEIVING')
  t.equal((await oneStop.post(`/api/dossiers/${id}/supplement`, {})).body.error.code, 'ACTION_NOT_AVAILABLE', 'a second hand-in is refused')

  const acc = await oneStop.act(id, 'accept', {})
  t.equal(acc.body.dossierStatus, 'IN_PROCESS')
  t.match(acc.body.nextTasks, [{ activityId: 'ThamDinh' }])
  const d = (await oneStop.get(`/api/dossiers/${id}`)).body.dossier
  t.equal(d.receivedAt, '2026-11-23T03:00:00.000Z', 'received when the complete dossier was accepted')
  t.equal(d.appointmentAt, '2026-11-26T03:00:00.000Z', 'appointment: Thu 26/11 10:00, 3 working days later')
  t.equal(d.supplementCount, 1)

  t.equal((await specialist.act(id, 'propose', { opinion: 'Đủ điều kiện cấp' })).body.nextTasks[0].activityId, 'PheDuyet')
  const ok = await leader.act(id, 'approve', {})
  t.equal(ok.body.dossierStatus, 'RESULT_READY')
  t.equal((await oneStop.act(id, 'return', { method: 'post' })).status, 400, 'return by post needs a waybill')
  t.equal((await oneStop.act(id, 'return', { method: 'online' })).body.error.code, 'RESULT_DOCUMENT_REQUIRED')
  const ret = await oneStop.act(id, 'return', { method: 'counter', recipientName: 'Nguyễn Văn A' })
  t.equal(ret.body.dossierStatus, 'RETURNED')
  t.equal(ret.body.processEnded, true)

  t.same(await statusTrail(oneStop, id), [
    ['RECEIVING', 1],
    ['SUPPLEMENT_REQUESTED', 5],
    ['RECEIVING', 1],
    ['ACCEPTED', 2],
    ['IN_PROCESS', 4],
    ['RESULT_READY', 9],
    ['RETURNED', 10],
  ])
  const final = (await oneStop.get(`/api/dossiers/${id}`)).body
  t.match(final.dossier, { status: 'RETURNED', nationalStatus: 10, returnMethod: 'counter' })
  t.ok(
    final.history.some(
      (h: any) => h.action === 'lifecycle.supplement_requested' && h.details.items[0].name.startsWith('Bản sao hợp đồng thuê nhà'),
    ),
  )
})

t.test('S3 refusals: at receipt (status 3) and after appraisal (returned with the refusal)', async (t) => {
  const ctx = await testContext(t, { now: '2026-11-23T02:00:00Z' })
  await ctx.deploy(S3)
  const oneStop = await caller(ctx, { userId: 'mc-1', roles: ['officer'], groups: ['one-stop'], agency: AGENCY })
  const specialist = await caller(ctx, { userId: 'cv-1', roles: ['officer'], groups: ['specialists'], agency: AGENCY })

  const a = (await oneStop.post('/api/dossiers', submission('Trần Thị B'))).body.dossier.id
  t.equal((await oneStop.act(a, 'refuse', { reasons: [] })).status, 400, 'a refusal needs reasons')
  const r = await oneStop.act(a, 'refuse', { reasons: ['Ngành nghề kinh doanh bị cấm'] })
  t.equal(r.status, 200, JSON.stringify(r.body))
  t.equal(r.body.dossierStatus, 'REFUSED_AT_RECEIPT')
  t.equal(r.body.processEnded, true)
  const da = (await oneStop.get(`/api/dossiers/${a}`)).body.dossier
  t.match(da, { status: 'REFUSED_AT_RECEIPT', nationalStatus: 3, appointmentAt: null })
  t.ok(da.finishedAt)

  const b = (await oneStop.post('/api/dossiers', submission('Lê Văn C'))).body.dossier.id
  await oneStop.act(b, 'accept', {})
  const rej = await specialist.act(b, 'refuse', { reasons: ['Địa điểm kinh doanh không phù hợp quy hoạch'] })
  t.equal(rej.body.dossierStatus, 'RESULT_READY')
  t.equal((await oneStop.act(b, 'return', { method: 'counter' })).body.dossierStatus, 'RETURNED')
  t.same(
    (await statusTrail(oneStop, b)).map(([s]) => s),
    ['RECEIVING', 'ACCEPTED', 'IN_PROCESS', 'RESULT_READY', 'RETURNED'],
  )
})

t.test('withdrawal by the applicant and stop by a leader end the process from any open state', async (t) => {
  const ctx = await testContext(t, { now: '2026-11-23T02:00:00Z' })
  await ctx.deploy(S3)
  const citizen = await caller(ctx, { userId: 'cd-1', roles: ['citizen'] })
  const other = await caller(ctx, { userId: 'cd-2', roles: ['citizen'] })
  const oneStop = await caller(ctx, { userId: 'mc-1', roles: ['officer'], groups: ['one-stop'], agency: AGENCY })
  const leader = await caller(ctx, { userId: 'ld-1', roles: ['officer'], groups: ['leaders'], agency: AGENCY })
  const foreign = await caller(ctx, { userId: 'mc-9', roles: ['officer'], groups: ['one-stop', 'leaders'], agency: 'UBND-XA-KHAC' })

  const a = (await citizen.post('/api/dossiers', submission('Phạm D', 2))).body.dossier.id
  await oneStop.act(a, 'accept', {})
  t.equal(
    (await other.post(`/api/dossiers/${a}/withdraw`, { reason: 'Không muốn làm nữa' })).status,
    404,
    'another citizen cannot even see it',
  )
  t.equal((await foreign.act(a, 'propose', {})).status, 404, 'an officer of another agency cannot act on it')
  t.equal(
    (await oneStop.post(`/api/dossiers/${a}/stop`, { reason: 'Theo yêu cầu' })).status,
    403,
    'a one-stop officer cannot stop processing',
  )
  const w = await citizen.post(`/api/dossiers/${a}/withdraw`, { reason: 'Tôi muốn rút hồ sơ' })
  t.same(w.body, { dossierId: a, dossierStatus: 'WITHDRAWN' })
  const v = (await oneStop.get(`/api/dossiers/${a}`)).body
  t.match(v.dossier, { status: 'WITHDRAWN', nationalStatus: 7 })
  t.same(v.tasks, [], 'open tasks cancelled')
  t.equal((await ctx.db('deadline_alarms').where({ dossier_id: a, status: 'pending' }).count('* as n'))[0].n, 0, 'no deadline alarm left')
  t.equal((await citizen.post(`/api/dossiers/${a}/withdraw`, { reason: 'Tôi muốn rút hồ sơ' })).body.error.code, 'DOSSIER_CLOSED')

  const b = (await oneStop.post('/api/dossiers', submission('Hoàng E'))).body.dossier.id
  await oneStop.act(b, 'accept', {})
  t.equal((await leader.post(`/api/dossiers/${b}/stop`, { reason: 'Cơ quan thuế đề nghị dừng' })).body.dossierStatus, 'STOPPED')
  t.same((await statusTrail(oneStop, b)).at(-1), ['STOPPED', 8])
})
