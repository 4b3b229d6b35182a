import t from 'tap'
import { clockOf } from './helpers/clock.ts'
import fs from 'node:fs'
import { testContext } from './helpers/context.ts'
import { caller } from './helpers/api.ts'
import { pdfText } from './helpers/pdf-text.ts'

const S3 = fs.readFileSync(new URL('../processes/s3-ho-kinh-doanh.bpmn', import.meta.url), 'utf8')
const AGENCY = 'UBND-XA-DEMO'
const sub = (name: string, idNumber: string, channel = 2) => ({
  procedureCode: '2.000575',
  applicant: { name, idNumber },
  channel,
  data: {},
})

t.test('who may see and do what', async (t) => {
  const ctx = await testContext(t, { now: '2026-11-23T02:00:00Z' })
  await ctx.deploy(S3)
  const owner = await caller(ctx, { userId: 'cd-1', roles: ['citizen'] })
  const other = await caller(ctx, { userId: 'cd-2', roles: ['citizen'] })
  const officer = await caller(ctx, { userId: 'mc-1', roles: ['officer'], groups: ['one-stop', 'specialists', 'leaders'], agency: AGENCY })
  const foreign = await caller(ctx, {
    userId: 'mc-9',
    roles: ['officer'],
    groups: ['one-stop', 'specialists', 'leaders'],
    agency: 'UBND-XA-KHAC',
  })
  const supervisor = await caller(ctx, { userId: 'gs-1', roles: ['supervisor'], agency: AGENCY })
  const id = (await owner.post('/api/dossiers', sub('Chủ hồ sơ', '001199001111'))).body.dossier.id
  await officer.act(id, 'accept')
  const doc = await ctx.app.inject({
    method: 'POST',
    url: `/api/dossiers/${id}/documents?fileName=a.pdf`,
    headers: { ...owner.headers, 'content-type': 'application/pdf' },
    payload: Buffer.from('%PDF-1.4\n%%EOF'),
  })
  t.equal(doc.statusCode, 201)

  for (const url of [
    `/api/dossiers/${id}`,
    `/api/dossiers/${id}/documents`,
    `/api/dossiers/${id}/documents/${doc.json().id}`,
    `/api/dossiers/${id}/forms/mau-01`,
    `/api/dossiers/${id}/payments`,
    `/api/dossiers/${id}/actions`,
  ]) {
    t.equal((await other.get(url)).status, 404, `another citizen: ${url.replace(id, ':id')}`)
    t.equal((await foreign.get(url)).status, 404, `another agency's officer: ${url.replace(id, ':id')}`)
    t.equal((await owner.get(url)).status, 200, `the applicant: ${url.replace(id, ':id')}`)
  }
  t.equal((await foreign.act(id, 'propose')).status, 404, 'another agency cannot act')
  t.equal((await other.post(`/api/dossiers/${id}/supplement`, {})).status, 404)
  t.equal((await owner.act(id, 'propose')).status, 403, 'a citizen cannot take an officer action')
  t.equal((await supervisor.get(`/api/dossiers/${id}`)).status, 200, 'a supervisor of the agency reads it')
  const m06 = await ctx.app.inject({ method: 'GET', url: '/api/forms/mau-06?from=2026-11-01&to=2026-11-30', headers: owner.headers })
  t.equal(m06.statusCode, 403, 'citizens do not read the register')
})

t.test('public lookup: code + ID number, nothing more, rate-limited', async (t) => {
  const ctx = await testContext(t, { now: '2026-11-23T02:00:00Z', env: { LOOKUP_RATE_PER_MINUTE: '4' } })
  await ctx.deploy(S3)
  const owner = await caller(ctx, { userId: 'cd-1', roles: ['citizen'] })
  const d = (await owner.post('/api/dossiers', sub('Chủ hồ sơ', '001199001111'))).body.dossier
  const look = (code: string, idNumber: string) =>
    ctx.app.inject({ method: 'GET', url: `/public/lookup?code=${encodeURIComponent(code)}&idNumber=${idNumber}` })
  const ok = await look(d.code, '001199001111')
  t.equal(ok.statusCode, 200)
  t.same(
    ok.json(),
    { code: d.code, nationalStatus: 1, completion: 'Đang kiểm tra, chờ tiếp nhận' },
    'only the code and the completion level (T12)',
  )
  const wrongId = await look(d.code, '001199002222')
  const wrongCode = await look('000.10.20.H12-261123-9999', '001199001111')
  t.equal(wrongId.statusCode, 404)
  t.same(wrongId.json(), wrongCode.json(), 'a wrong ID number and an unknown code answer alike')
  t.equal((await look('x', '1')).statusCode, 400)
  const limited = await look(d.code, '001199001111')
  t.equal(limited.statusCode, 429, 'the 5th lookup within a minute is refused (limit 4)')
  t.equal(limited.json().error.code, 'RATE_LIMITED')
  clockOf(ctx).set('2026-11-23T02:01:00Z')
  t.equal((await look(d.code, '001199001111')).statusCode, 200, 'a minute later the window is open again')
})

t.test('evaluation after return; Mẫu 04 and the Mẫu 06 register', async (t) => {
  const ctx = await testContext(t, { now: '2026-11-23T02:00:00Z' })
  await ctx.deploy(S3)
  const owner = await caller(ctx, { userId: 'cd-1', roles: ['citizen'] })
  const officer = await caller(ctx, { userId: 'mc-1', roles: ['officer'], groups: ['one-stop', 'specialists', 'leaders'], agency: AGENCY })
  const id = (await officer.post('/api/dossiers', sub('Bùi Văn H', '001199003333', 1))).body.dossier.id
  await officer.act(id, 'accept')
  const ratings = { a: 3, b: 3, c: 2, d: 3, e: 3, f: 2, g: 2, h: 3, i: 2 }
  t.equal(
    (await owner.post(`/api/dossiers/${id}/evaluation`, { ratings })).status,
    404,
    'not the applicant (submitted at the counter by the officer)',
  )
  const ext = await officer.post(`/api/dossiers/${id}/extension`, {
    newAppointmentAt: '2026-11-30T03:00:00Z',
    reason: 'Cần xác minh thêm địa điểm kinh doanh',
  })
  t.equal(ext.status, 200)
  const m04 = await ctx.app.inject({ method: 'GET', url: `/api/dossiers/${id}/forms/mau-04`, headers: officer.headers })
  const text04 = await pdfText(m04.rawPayload)
  t.match(text04, /PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ/)
  t.match(text04, /Cần xác minh thêm địa điểm kinh doanh/)
  t.match(text04, /10:00 30\/11\/2026/)
  const m06 = await ctx.app.inject({ method: 'GET', url: '/api/forms/mau-06?from=2026-11-23&to=2026-11-23', headers: officer.headers })
  t.equal(m06.statusCode, 200)
  t.match(await pdfText(m06.rawPayload), /SỔ THEO DÕI HỒ SƠ.*000\.10\.20\.H12-261123-0001.*Bùi Văn H/)
  t.equal((await officer.get(`/api/dossiers/${id}/forms/mau-03`)).status, 409, 'no refusal, no Mẫu 03')

  const online = (await owner.post('/api/dossiers', sub('Chủ hồ sơ', '001199001111'))).body.dossier.id
  t.equal(
    (await owner.post(`/api/dossiers/${online}/evaluation`, { ratings })).body.error.code,
    'EVALUATION_NOT_ALLOWED',
    'only after the return',
  )
  for (const a of ['accept', 'propose', 'approve']) await officer.act(online, a)
  const ref = (await owner.post(`/api/dossiers/${online}/payments`)).body.payment.reference
  await owner.post(`/api/payment-simulator/${encodeURIComponent(ref)}/pay`, {})
  await ctx.app.inject({
    method: 'POST',
    url: `/api/dossiers/${online}/documents?fileName=kq.pdf&kind=result`,
    headers: { ...officer.headers, 'content-type': 'application/pdf' },
    payload: Buffer.from('%PDF-1.4\n%%EOF'),
  })
  t.equal((await officer.act(online, 'return', { method: 'online' })).body.dossierStatus, 'RETURNED')
  t.equal((await owner.post(`/api/dossiers/${online}/evaluation`, { ratings: { ...ratings, z: 1 } })).status, 400)
  const ev = await owner.post(`/api/dossiers/${online}/evaluation`, { ratings, comment: 'Nhanh, thuận tiện' })
  t.equal(ev.status, 201)
  t.equal(ev.body.satisfied, true)
  t.equal((await owner.post(`/api/dossiers/${online}/evaluation`, { ratings })).body.error.code, 'EVALUATION_ALREADY_GIVEN')
  t.match((await officer.get(`/api/dossiers/${online}/evaluation`)).body, { satisfied: true, comment: 'Nhanh, thuận tiện' })
})
