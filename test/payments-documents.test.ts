import t from 'tap'
import fs from 'node:fs'
import { createHash } from 'node:crypto'
import { testContext } from './helpers/context.ts'
import { caller, statusTrail } from './helpers/api.ts'
import { signFields, callbackFields } from '../src/payments/signature.ts'

const S3 = fs.readFileSync(new URL('../processes/s3-ho-kinh-doanh.bpmn', import.meta.url), 'utf8')
const AGENCY = 'UBND-XA-DEMO'
const PDF = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n')

t.test('S3 fully online (level 4): documents, online fee with a signed callback, electronic result', async (t) => {
  const ctx = await testContext(t, { now: '2026-11-23T02:00:00Z' })
  await ctx.deploy(S3)
  const citizen = await caller(ctx, { userId: 'cd-1', roles: ['citizen'] })
  const stranger = await caller(ctx, { userId: 'cd-2', roles: ['citizen'] })
  const officer = await caller(ctx, { userId: 'mc-1', roles: ['officer'], groups: ['one-stop', 'specialists', 'leaders'], agency: AGENCY })
  const foreignOfficer = await caller(ctx, { userId: 'mc-9', roles: ['officer'], groups: ['one-stop'], agency: 'UBND-XA-KHAC' })

  const sub = await citizen.post('/api/dossiers', {
    procedureCode: '2.000575',
    applicant: { name: 'Ngô Thị F', idNumber: '001199004567' },
    channel: 2,
    data: {},
  })
  t.equal(sub.status, 201)
  const id = sub.body.dossier.id
  t.equal(sub.body.dossier.status, 'RECEIVING')

  // Documents: type checked against the content, SHA-256 recorded, downloads authorised like the dossier.
  const up = await ctx.app.inject({
    method: 'POST',
    url: `/api/dossiers/${id}/documents?fileName=${encodeURIComponent('Giấy đề nghị.pdf')}&documentCode=GDN`,
    headers: { ...citizen.headers, 'content-type': 'application/pdf' },
    payload: PDF,
  })
  t.equal(up.statusCode, 201)
  t.equal(up.json().sha256, createHash('sha256').update(PDF).digest('hex'))
  const fake = await ctx.app.inject({
    method: 'POST',
    url: `/api/dossiers/${id}/documents?fileName=x.pdf`,
    headers: { ...citizen.headers, 'content-type': 'application/pdf' },
    payload: Buffer.from('MZ not a pdf'),
  })
  t.equal(fake.statusCode, 415, 'content that is not what it claims is refused')
  const exe = await ctx.app.inject({
    method: 'POST',
    url: `/api/dossiers/${id}/documents?fileName=x.exe`,
    headers: { ...citizen.headers, 'content-type': 'application/x-msdownload' },
    payload: Buffer.from('MZ'),
  })
  t.equal(exe.statusCode, 415)
  const big = await ctx.app.inject({
    method: 'POST',
    url: `/api/dossiers/${id}/documents?fileName=big.pdf`,
    headers: { ...citizen.headers, 'content-type': 'application/pdf' },
    payload: Buffer.concat([PDF, Buffer.alloc(11 * 1024 * 1024)]),
  })
  t.equal(big.statusCode, 413)
  t.equal(
    (
      await ctx.app.inject({
        method: 'POST',
        url: `/api/dossiers/${id}/documents?fileName=kq.pdf&kind=result`,
        headers: { ...citizen.headers, 'content-type': 'application/pdf' },
        payload: PDF,
      })
    ).statusCode,
    403,
    'a citizen cannot attach a result',
  )
  const docId = up.json().id
  const dl = await ctx.app.inject({ method: 'GET', url: `/api/dossiers/${id}/documents/${docId}`, headers: citizen.headers })
  t.equal(dl.statusCode, 200)
  t.same(dl.rawPayload, PDF)
  t.match(dl.headers['content-disposition'], /attachment/)
  t.equal(
    (await ctx.app.inject({ method: 'GET', url: `/api/dossiers/${id}/documents/${docId}`, headers: stranger.headers })).statusCode,
    404,
    'another citizen cannot download it',
  )
  t.equal(
    (await ctx.app.inject({ method: 'GET', url: `/api/dossiers/${id}/documents`, headers: foreignOfficer.headers })).statusCode,
    404,
    'nor can another agency',
  )
  t.equal((await citizen.get(`/api/dossiers/${id}/documents`)).body.items.length, 1, 'rejected uploads left nothing')

  await officer.act(id, 'accept', {})
  await officer.act(id, 'propose', {})
  t.equal(
    (await citizen.post(`/api/dossiers/${id}/payments`)).body.error.code,
    'PAYMENT_NOT_DUE',
    'nothing to pay before the result is ready',
  )
  const approved = await officer.act(id, 'approve', {})
  t.equal(approved.body.dossierStatus, 'RESULT_READY')
  t.same(approved.body.nextTasks, [], 'the process waits for the online fee (message catch event)')

  const req1 = await citizen.post(`/api/dossiers/${id}/payments`)
  t.equal(req1.status, 201)
  t.match(req1.body.payment, { purpose: 'fee', amount: 100000, status: 'pending' })
  t.match(req1.body.init, {
    LoaiBanTin: 'INIT',
    MaTienTe: 'VND',
    SoTien: 100000,
    ThongTinGiaoDich: `THANH TOAN HO SO ${sub.body.dossier.code}`,
  })
  t.match(req1.body.init.MaXacThuc, /^[0-9a-f]{64}$/)
  const ref = req1.body.payment.reference
  t.equal((await citizen.post(`/api/dossiers/${id}/payments`)).body.payment.reference, ref, 'asking again returns the same pending request')

  const post = (body: unknown) => ctx.app.inject({ method: 'POST', url: '/payments/callback', payload: body as any })
  const genuine = (over: Record<string, unknown> = {}) => {
    const b = {
      MaDoiTac: ctx.config.paymentPartnerCode,
      MaThamChieu: ref,
      MaGiaoDich: 'GD0001',
      SoTien: 100000,
      MaKetQua: '00',
      ThoiGianGD: '20261123100000',
      ...over,
    }
    return { ...b, MaXacThuc: signFields(callbackFields(b as any), ctx.config.paymentSecret) }
  }
  const forged = { ...genuine(), MaXacThuc: signFields(callbackFields(genuine() as any), 'not-the-secret') }
  t.equal((await post(forged)).statusCode, 401, 'forged signature')
  const tampered = { ...genuine(), SoTien: 1000 }
  t.equal((await post(tampered)).statusCode, 401, 'amount changed after signing')
  t.equal((await post(genuine({ SoTien: 5000 }))).json().error.code, 'PAYMENT_AMOUNT_MISMATCH', 'signed, but not the amount owed')
  t.equal((await post({ ...genuine(), MaKetQua: 'xx' })).statusCode, 400)
  t.equal((await citizen.get(`/api/dossiers/${id}`)).body.dossier.status, 'RESULT_READY', 'none of these changed anything')
  t.equal((await citizen.get(`/api/dossiers/${id}/payments`)).body.items[0].status, 'pending')

  const ok = await post(genuine())
  t.equal(ok.statusCode, 200)
  t.match(ok.json(), { result: 'paid', reference: ref })
  t.match(ok.json().receiptNo, /^BL\d{6}-[0-9A-F]{8}$/)
  const again = await post(genuine())
  t.match(again.json(), { result: 'duplicate', receiptNo: ok.json().receiptNo }, 'a duplicate genuine callback is a no-op')
  const other = await post(genuine({ MaGiaoDich: 'GD0002' }))
  t.equal(other.json().error.code, 'PAYMENT_ALREADY_SETTLED', 'a second settlement is refused')
  const v = (await officer.get(`/api/dossiers/${id}`)).body
  t.equal(v.history.filter((h: any) => h.action === 'payment.received').length, 1, 'paid once')
  t.match(v.tasks, [{ activityId: 'TraKetQua' }], 'the process moved on to the return')

  t.equal((await officer.act(id, 'return', { method: 'online' })).body.error.code, 'RESULT_DOCUMENT_REQUIRED')
  const res = await ctx.app.inject({
    method: 'POST',
    url: `/api/dossiers/${id}/documents?fileName=GCN.pdf&kind=result`,
    headers: { ...officer.headers, 'content-type': 'application/pdf' },
    payload: PDF,
  })
  t.equal(res.statusCode, 201)
  t.equal((await officer.act(id, 'return', { method: 'online' })).body.dossierStatus, 'RETURNED')
  t.same(
    (await statusTrail(citizen, id)).map(([, n]) => n),
    [1, 1, 2, 4, 9, 10],
  )
  t.equal(
    (await citizen.get(`/api/dossiers/${id}/documents`)).body.items.filter((d: any) => d.kind === 'result').length,
    1,
    'the applicant sees the electronic result',
  )
})

t.test('payment simulator pays through the same signed callback', async (t) => {
  const ctx = await testContext(t, { now: '2026-11-23T02:00:00Z' })
  await ctx.deploy(S3)
  const citizen = await caller(ctx, { userId: 'cd-1', roles: ['citizen'] })
  const officer = await caller(ctx, { userId: 'mc-1', roles: ['officer'], groups: ['one-stop', 'specialists', 'leaders'], agency: AGENCY })
  const id = (
    await citizen.post('/api/dossiers', {
      procedureCode: '2.000575',
      applicant: { name: 'Đỗ G', idNumber: '001199004568' },
      channel: 2,
      data: {},
    })
  ).body.dossier.id
  for (const a of ['accept', 'propose', 'approve']) await officer.act(id, a, {})
  const ref = (await citizen.post(`/api/dossiers/${id}/payments`)).body.payment.reference
  // Someone else's reference answers exactly as a reference that does not exist: no way to probe them.
  const stranger = await caller(ctx, { userId: 'cd-2', roles: ['citizen'] })
  const existing = await stranger.post(`/api/payment-simulator/${encodeURIComponent(ref)}/pay`, {})
  const missing = await stranger.post(
    `/api/payment-simulator/${encodeURIComponent(ref.replace(/\d$/, (d: string) => String((Number(d) + 1) % 10)))}/pay`,
    {},
  )
  t.same([existing.status, existing.body.error.code], [404, 'PAYMENT_NOT_FOUND'], "another citizen's reference")
  t.same([missing.status, missing.body.error.code], [existing.status, existing.body.error.code], 'a missing reference gets the same answer')
  const failed = await citizen.post(`/api/payment-simulator/${encodeURIComponent(ref)}/pay`, { resultCode: '24' })
  t.equal(failed.body.result.result, 'failed')
  t.equal((await citizen.get(`/api/dossiers/${id}`)).body.tasks.length, 0, 'a declined payment moves nothing')
  const paid = await citizen.post(`/api/payment-simulator/${encodeURIComponent(ref)}/pay`, {})
  t.equal(paid.body.result.result, 'paid')
  t.match((await citizen.get(`/api/dossiers/${id}/payments`)).body.items, [{ status: 'paid', amount: 100000 }])
})
