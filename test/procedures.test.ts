import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { manualClock } from '../src/clock.ts'
import { testContext, type Teardown, type TestContext } from './helpers/context.ts'
import { caller, statusTrail, type Caller } from './helpers/api.ts'
import { pdfText } from './helpers/pdf-text.ts'

/**
 * The five sample procedures (processes/s1…s5) run through the API alone, from submission to return,
 * for each channel they allow, with a supplement round and a refusal path; statuses, national codes,
 * appointment dates and the forms' text (extracted from the PDFs) are checked.
 */
const PROCESSES = path.resolve(import.meta.dirname, '../processes')
const MON_0900 = '2026-11-23T02:00:00Z' // Mon 23/11/2026 09:00 (UTC+7)
const GROUPS = [
  'one-stop',
  'specialists',
  'leaders',
  'tu-phap-ho-tich',
  'cong-an-xa',
  'bhxh',
  'cong-an-tinh',
  'co-quan-phoi-hop',
  'one-stop-head',
  'van-phong-dang-ky',
  'ubnd-xa',
]
const PDF = Buffer.from('%PDF-1.4\n%%EOF\n')

interface World {
  ctx: TestContext
  clock: ReturnType<typeof manualClock>
  officer: Caller
  citizen: Caller
}

async function world(t: Teardown, agency: string): Promise<World> {
  const clock = manualClock(MON_0900)
  const ctx = await testContext(t, { clock })
  for (const f of fs.readdirSync(PROCESSES).filter((f) => f.endsWith('.bpmn'))) {
    const r = await ctx.deploy(fs.readFileSync(path.join(PROCESSES, f), 'utf8'))
    if (r.status !== 201) throw new Error(`${f}: ${JSON.stringify(r.body)}`)
  }
  return {
    ctx,
    clock,
    officer: await caller(ctx, { userId: 'can-bo-1', roles: ['officer'], groups: GROUPS, agency }),
    citizen: await caller(ctx, { userId: 'cong-dan-1', roles: ['citizen'] }),
  }
}

async function submit(w: World, code: string, channel: number, data: Record<string, unknown> = {}) {
  const who = channel === 2 ? w.citizen : w.officer
  const body: any = {
    procedureCode: code,
    applicant: { name: 'Nguyễn Thị Lan', idNumber: '001190012345', phone: '0987654321', address: 'Thôn Đông, xã Demo' },
    channel,
    data,
  }
  if (channel === 3) body.postal = { handoverSignedAt: '2026-11-23T01:30:00Z', waybill: 'EMS123456VN' }
  const r = await who.post('/api/dossiers', body)
  if (r.status !== 201) throw new Error(JSON.stringify(r.body))
  return r.body.dossier as { id: string; code: string; status: string }
}

async function act(w: World, id: string, action: string, body: unknown = {}) {
  const r = await w.officer.act(id, action, body)
  if (r.status !== 200) throw new Error(`${action}: ${JSON.stringify(r.body)}`)
  return r.body
}

async function form(w: World, id: string, name: string): Promise<string> {
  const r = await w.ctx.app.inject({ method: 'GET', url: `/api/dossiers/${id}/forms/${name}`, headers: w.officer.headers })
  if (r.statusCode !== 200) throw new Error(`${name}: ${r.body}`)
  return pdfText(r.rawPayload)
}

async function returnResult(w: World, id: string, channel: number) {
  const method = channel === 1 ? 'counter' : channel === 2 ? 'online' : 'post'
  if (method === 'online') {
    await w.ctx.app.inject({
      method: 'POST',
      url: `/api/dossiers/${id}/documents?fileName=ket-qua.pdf&kind=result`,
      headers: { ...w.officer.headers, 'content-type': 'application/pdf' },
      payload: PDF,
    })
  }
  return act(w, id, 'return', method === 'post' ? { method, waybill: 'EMS987654VN' } : { method })
}

async function pay(w: World, id: string) {
  const req = await w.officer.post(`/api/dossiers/${id}/payments`)
  if (req.status !== 201) throw new Error(JSON.stringify(req.body))
  const r = await w.officer.post(`/api/payment-simulator/${encodeURIComponent(req.body.payment.reference)}/pay`, {})
  if (r.body?.result?.result !== 'paid') throw new Error(JSON.stringify(r.body))
  return req.body.payment
}

/**
 * S5's tax step in one deployment: the land office's handoff is dispatched, the tax officer of this same
 * system (the tax procedure is deployed here, no tax system configured) issues the notice on the task
 * the handoff opened, and its answer reaches the land dossier.
 */
async function taxNotice(w: World, notice: Record<string, unknown>) {
  await w.ctx.system.handoffs.dispatchDue()
  const tax = await caller(w.ctx, { userId: 'can-bo-thue', roles: ['officer'], groups: ['co-quan-thue'], agency: 'CO-QUAN-THUE' })
  const queue = await tax.get('/api/tasks?procedureCode=THUE-NVTC-DAT')
  const task = (queue.body.items as Array<{ id: string; dossierId: string; status: string }>).find((x) => x.status === 'open')
  if (!task) throw new Error(`no tax task: ${JSON.stringify(queue.body)}`)
  if ((await tax.post(`/api/tasks/${task.id}/claim`)).status !== 200) throw new Error('claim')
  const done = await tax.post(`/api/tasks/${task.id}/complete`, { variables: notice })
  if (done.status !== 200) throw new Error(JSON.stringify(done.body))
  await w.ctx.system.peerCallbacks.deliverDue()
  return (await tax.get(`/api/dossiers/${task.dossierId}`)).body.dossier
}

const codes = async (w: World, id: string) => (await statusTrail(w.officer, id)).map(([, n]) => n)
const dossier = async (w: World, id: string) => (await w.officer.get(`/api/dossiers/${id}`)).body.dossier

t.test('S1 birth registration: same day (4 working hours), counter and online, 3-in-1 inter-agency, supplement, refusal', async (t) => {
  const w = await world(t, 'UBND-XA-DEMO')
  const a = await submit(w, '1.001193', 1, { lienThong: true })
  await act(w, a.id, 'accept')
  t.equal((await dossier(w, a.id)).appointmentAt, '2026-11-23T08:00:00.000Z', 'Mon 15:00: 4 working hours around the lunch break')
  await act(w, a.id, 'request-supplement', { items: ['GCS'], reason: 'Giấy chứng sinh bị mờ' })
  t.match(await form(w, a.id, 'mau-02'), /PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ.*Giấy chứng sinh hoặc văn bản của người làm chứng/)
  await w.officer.post(`/api/dossiers/${a.id}/supplement`, { note: 'Nộp lại giấy chứng sinh' })
  await act(w, a.id, 'propose')
  const signed = await act(w, a.id, 'approve')
  t.same(
    signed.nextTasks.map((x: any) => x.activityId).sort(),
    ['CapTheBHYT', 'DangKyThuongTru'],
    'residence and health insurance in parallel (electronic inter-agency)',
  )
  t.equal((await act(w, a.id, 'answer', { opinion: 'Đã đăng ký thường trú' })).dossierStatus, 'IN_PROCESS')
  t.equal((await act(w, a.id, 'answer', { opinion: 'Đã cấp thẻ BHYT' })).dossierStatus, 'RESULT_READY', 'the join waits for both agencies')
  t.equal((await returnResult(w, a.id, 1)).dossierStatus, 'RETURNED')
  t.same(await codes(w, a.id), [1, 2, 4, 5, 4, 9, 10])
  const m01 = await form(w, a.id, 'mau-01')
  t.match(m01, /GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ/)
  t.match(m01, new RegExp(a.code.replace(/\./g, '\\.')))
  t.match(m01, /15:00 23\/11\/2026/, 'appointment printed in Vietnam time')
  t.match(m01, /Đăng ký khai sinh/)
  t.match(m01, /Không thu/, 'birth registration is exempt')

  const b = await submit(w, '1.001193', 2)
  t.equal(b.status, 'RECEIVING')
  for (const s of ['accept', 'propose', 'approve']) await act(w, b.id, s)
  t.equal((await returnResult(w, b.id, 2)).dossierStatus, 'RETURNED', 'fee-exempt online dossier: no payment step')
  t.same(await codes(w, b.id), [1, 1, 2, 4, 9, 10])

  const c = await submit(w, '1.001193', 1)
  await act(w, c.id, 'refuse', { reasons: ['Người đi đăng ký không có quyền yêu cầu'] })
  t.match(await dossier(w, c.id), { status: 'REFUSED_AT_RECEIPT', nationalStatus: 3 })
  t.match(await form(w, c.id, 'mau-03'), /PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ.*Người đi đăng ký không có quyền yêu cầu/)
  t.equal((await w.officer.post(`/api/dossiers/${a.id}/supplement`, {})).body.error.code, 'ACTION_NOT_AVAILABLE')
})

t.test('S2 criminal-record certificate: transfer, police verification, supplement pause, online fee, post', async (t) => {
  const w = await world(t, 'SO-TU-PHAP-DEMO')
  const a = await submit(w, '2.000488', 2)
  await act(w, a.id, 'accept')
  t.equal((await dossier(w, a.id)).appointmentAt, '2026-12-07T02:00:00.000Z', '10 working days: Mon 07/12 09:00')
  const tr = (await w.officer.get(`/api/dossiers/${a.id}`)).body.tasks[0]
  t.match(
    tr,
    { activityId: 'ChuyenHoSo', due: '2026-11-23T10:00:00.000Z' },
    'received before 15:00: transfer due by the end of the same working day',
  )
  await act(w, a.id, 'transfer', { toUnit: 'Phòng Lý lịch tư pháp' })
  w.clock.set('2026-11-23T03:00:00Z')
  await act(w, a.id, 'request-supplement', { items: ['CCCD'], reason: 'Bản chụp CCCD không rõ' })
  w.clock.set('2026-11-24T03:00:00Z') // the applicant needs one working day
  await w.citizen.post(`/api/dossiers/${a.id}/supplement`, { note: 'Bổ sung bản chụp rõ nét' })
  t.equal((await dossier(w, a.id)).appointmentAt, '2026-12-08T02:00:00.000Z', 'PAUSE: moved by exactly the working day spent waiting')
  await act(w, a.id, 'consult', { unit: 'Công an tỉnh', question: 'Đề nghị xác minh án tích' })
  await act(w, a.id, 'answer', { opinion: 'Không có án tích' })
  await act(w, a.id, 'propose')
  await act(w, a.id, 'approve')
  const fee = await pay(w, a.id)
  t.match(fee, { purpose: 'fee', amount: 200000 })
  t.equal((await returnResult(w, a.id, 2)).dossierStatus, 'RETURNED')
  t.same(await codes(w, a.id), [1, 1, 2, 4, 5, 4, 9, 10])
  const m05 = await form(w, a.id, 'mau-05')
  t.match(m05, /PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ/)
  for (const step of ['Chuyển hồ sơ đến cơ quan giải quyết', 'Công an tỉnh xác minh', 'Lãnh đạo Sở ký']) t.match(m05, step)
  t.match(m05, /Đúng hạn|Trước hạn/)

  const b = await submit(w, '2.000488', 3)
  t.equal((await dossier(w, b.id)).submittedAt, '2026-11-23T01:30:00.000Z', 'postal: submitted when the hand-over record was signed')
  for (const s of ['accept', 'transfer', 'propose', 'approve']) await act(w, b.id, s)
  t.equal((await returnResult(w, b.id, 3)).dossierStatus, 'RETURNED')
  t.equal((await dossier(w, b.id)).returnMethod, 'post')

  const c = await submit(w, '2.000488', 1)
  for (const s of ['accept', 'transfer']) await act(w, c.id, s)
  await act(w, c.id, 'refuse', { reasons: ['Người yêu cầu không thuộc đối tượng được cấp'] })
  t.equal((await returnResult(w, c.id, 1)).dossierStatus, 'RETURNED')
  t.match(await form(w, c.id, 'mau-03'), /từ chối giải quyết hồ sơ.*không thuộc đối tượng/)
})

t.test('S4 construction permit: RESTART policy, consultation with an overdue escalation timer, refusal after appraisal', async (t) => {
  const w = await world(t, 'UBND-XA-DEMO')
  const a = await submit(w, '1.009994', 1)
  await act(w, a.id, 'accept')
  await act(w, a.id, 'transfer')
  w.clock.set('2026-11-23T03:00:00Z')
  await act(w, a.id, 'request-supplement', { items: ['BVTK'], reason: 'Bản vẽ thiếu mặt cắt' })
  w.clock.set('2026-11-24T03:00:00Z')
  await w.officer.post(`/api/dossiers/${a.id}/supplement`, {})
  t.equal((await dossier(w, a.id)).appointmentAt, '2026-12-15T03:00:00.000Z', 'RESTART: 15 working days again from Tue 24/11 10:00')
  const consult = await act(w, a.id, 'consult', { unit: 'Phòng Quản lý đô thị', question: 'Ý kiến về chỉ giới xây dựng' })
  t.match(consult.nextTasks, [{ activityId: 'LayYKien' }])
  const timer = await w.ctx.db('timers').where({ dossier_id: a.id, status: 'pending' }).first()
  t.ok(timer, 'the consultation has its own deadline timer')
  w.clock.set(timer.due_at)
  t.equal(await w.ctx.system.timers.fire(timer.id), 'fired')
  const open = (await w.officer.get(`/api/dossiers/${a.id}`)).body.tasks.map((x: any) => x.activityId).sort()
  t.same(open, ['BaoCaoQuaHan', 'LayYKien'], 'late consultation escalated to the one-stop head; the consultation stays open')
  await act(w, a.id, 'answer', { opinion: 'Đồng ý' })
  await act(w, a.id, 'refuse', { reasons: ['Công trình vi phạm chỉ giới xây dựng'] })
  t.equal((await returnResult(w, a.id, 1)).dossierStatus, 'RETURNED')
  t.same(await codes(w, a.id), [1, 2, 4, 5, 4, 9, 10])
  t.match(await form(w, a.id, 'mau-03'), /Công trình vi phạm chỉ giới xây dựng/)
  const m05 = await form(w, a.id, 'mau-05')
  t.match(m05, /Cơ quan liên quan cho ý kiến/)

  for (const channel of [2, 3]) {
    const d = await submit(w, '1.009994', channel)
    for (const s of ['accept', 'transfer', 'propose', 'approve']) await act(w, d.id, s)
    t.equal((await returnResult(w, d.id, channel)).dossierStatus, 'RETURNED', `channel ${channel}: level 3, the fee is not paid online`)
  }
})

t.test('S5 first land-use certificate: difficult area +10 days, tax obligation pauses the clock, paid online', async (t) => {
  const w = await world(t, 'UBND-XA-DEMO')
  const a = await submit(w, '1.004227', 1, { difficultArea: true })
  await act(w, a.id, 'accept')
  t.equal((await dossier(w, a.id)).appointmentAt, '2027-01-05T02:00:00.000Z', '20 + 10 working days, skipping New Year 2027')
  for (const s of ['transfer', 'propose']) await act(w, a.id, s)
  await act(w, a.id, 'answer', { opinion: 'Đã niêm yết công khai, không có tranh chấp' })
  t.equal((await act(w, a.id, 'propose')).dossierStatus, 'IN_PROCESS', 'sent to the tax authority: the clock runs')
  const notice = await taxNotice(w, {
    obligationAmount: 5_250_000,
    taxNoticeNumber: 'TB-2026/1234',
    taxNoticeNote: 'Tiền sử dụng đất và lệ phí trước bạ',
  })
  t.equal(notice.procedureCode, 'THUE-NVTC-DAT', 'the tax procedure deployed here took the dossier (no tax system configured)')
  t.equal((await dossier(w, a.id)).status, 'FINANCIAL_OBLIGATION')
  t.equal((await dossier(w, a.id)).nationalStatus, 6)
  w.clock.set('2026-11-25T02:00:00Z') // paid two working days later
  t.match(await pay(w, a.id), { purpose: 'obligation', amount: 5_250_000 })
  const d = await dossier(w, a.id)
  t.equal(d.status, 'IN_PROCESS')
  t.equal(d.appointmentAt, '2027-01-07T02:00:00.000Z', 'the clock stopped while the applicant paid')
  for (const s of ['propose', 'approve']) await act(w, a.id, s)
  t.equal((await returnResult(w, a.id, 1)).dossierStatus, 'RETURNED')
  t.same(await codes(w, a.id), [1, 2, 4, 6, 4, 9, 10])
  t.match(
    await form(w, a.id, 'mau-01'),
    /Thời hạn giải quyết: 30 ngày làm việc.*Thời gian trả kết quả: 09:00 07\/01\/2027/,
    'Mẫu 01 shows the difficult-area limit and the current appointment',
  )

  const b = await submit(w, '1.004227', 2)
  await act(w, b.id, 'accept')
  await act(w, b.id, 'transfer')
  await act(w, b.id, 'refuse', { reasons: ['Đất có tranh chấp chưa giải quyết'] })
  t.equal((await returnResult(w, b.id, 2)).dossierStatus, 'RETURNED')

  const c = await submit(w, '1.004227', 3)
  for (const s of ['accept', 'transfer']) await act(w, c.id, s)
  t.equal(
    (await act(w, c.id, 'request-supplement', { items: ['NGUONGOC'], reason: 'Thiếu giấy tờ về nguồn gốc đất' })).dossierStatus,
    'SUPPLEMENT_REQUESTED',
  )
  t.match(await form(w, c.id, 'mau-02'), /Giấy tờ về nguồn gốc sử dụng đất/)
  t.equal((await w.officer.post(`/api/dossiers/${c.id}/supplement`, { note: 'Bổ sung qua bưu chính' })).body.dossierStatus, 'IN_PROCESS')
  for (const s of ['propose', 'answer', 'propose']) await act(w, c.id, s, s === 'answer' ? { opinion: 'Đã niêm yết' } : {})
  await taxNotice(w, { obligationAmount: 1_000_000, taxNoticeNumber: 'TB-2026/1235' })
  t.match(await pay(w, c.id), { purpose: 'obligation', amount: 1_000_000 })
  for (const s of ['propose', 'approve']) await act(w, c.id, s)
  t.equal((await returnResult(w, c.id, 3)).dossierStatus, 'RETURNED')
  t.same(await codes(w, c.id), [1, 2, 4, 5, 4, 6, 4, 9, 10])
})

t.test('S3 household business by public post: submitted at the hand-over signature, returned by post', async (t) => {
  const w = await world(t, 'UBND-XA-DEMO')
  const a = await submit(w, '2.000575', 3)
  t.match(await dossier(w, a.id), { status: 'RECEIVING', channel: 3, submittedAt: '2026-11-23T01:30:00.000Z' })
  await act(w, a.id, 'accept')
  t.equal(
    (await dossier(w, a.id)).appointmentAt,
    '2026-11-26T01:30:00.000Z',
    '3 working days from the signature of the hand-over record (08:30)',
  )
  for (const s of ['propose', 'approve']) await act(w, a.id, s)
  t.equal(
    (await returnResult(w, a.id, 3)).dossierStatus,
    'RETURNED',
    'a postal dossier pays at the counter/post office: no online fee step',
  )
  t.same(await codes(w, a.id), [1, 2, 4, 9, 10])
  t.match(await form(w, a.id, 'mau-01'), /Bưu chính công ích.*08:30 23\/11\/2026/)
})
