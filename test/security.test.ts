import t from 'tap'
import fs from 'node:fs'
import { manualClock } from '../src/clock.ts'
import { testContext } from './helpers/context.ts'
import { caller } from './helpers/api.ts'

const S3 = fs.readFileSync(new URL('../processes/s3-ho-kinh-doanh.bpmn', import.meta.url), 'utf8')
const AGENCY = 'UBND-XA-DEMO'
const PDF = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n')
const submission = {
  procedureCode: '2.000575',
  applicant: { name: 'Lê Văn A', idNumber: '001099001234', phone: '0912345678' },
  channel: 2,
  data: {},
}

t.test("an analyst of another agency cannot take over a procedure; only an admin's explicit transfer moves it", async (t) => {
  const ctx = await testContext(t, { clock: manualClock('2026-11-23T02:00:00Z') })
  t.equal((await ctx.deploy(S3)).status, 201)
  const xml = (agency: string, name = 'Đăng ký thành lập hộ kinh doanh') =>
    S3.replace(`agency="${AGENCY}"`, `agency="${agency}"`).replace('name="Đăng ký thành lập hộ kinh doanh"', `name="${name}"`)
  const xmlHeader = { 'content-type': 'application/xml' }
  const foreign = await caller(ctx, { userId: 'ba-9', roles: ['analyst'], agency: 'SO-TU-PHAP-DEMO' })
  const takeover = await foreign.post('/api/procedures', xml('SO-TU-PHAP-DEMO'), xmlHeader)
  t.same([takeover.status, takeover.body.error.code], [403, 'PROCEDURE_OWNED_BY_OTHER_AGENCY'], 'a new version naming another agency')
  const forOther = await foreign.post('/api/procedures', xml(AGENCY, 'Phiên bản của người ngoài'), xmlHeader)
  t.same(
    [forOther.status, forOther.body.error.code],
    [403, 'PROCEDURE_AGENCY_FORBIDDEN'],
    "a version for an agency that is not the analyst's",
  )
  const own = await caller(ctx, { userId: 'ba-1', roles: ['analyst'], agency: AGENCY })
  t.same(
    [(await own.post('/api/procedures', xml('SO-TU-PHAP-DEMO'), xmlHeader)).status],
    [403],
    "even the owner's analyst cannot give it away",
  )
  const admin = await caller(ctx, { userId: 'qt-1', roles: ['admin'] })
  const silent = await admin.post('/api/procedures', xml('SO-TU-PHAP-DEMO'), xmlHeader)
  t.same([silent.status, silent.body.error.code], [403, 'PROCEDURE_OWNED_BY_OTHER_AGENCY'], 'an admin too, without transfer=true')
  t.equal((await own.get('/api/procedures/2.000575')).body.agency, AGENCY, 'nothing changed')
  const citizen = await caller(ctx, { userId: 'cd-1', roles: ['citizen'] })
  t.equal((await citizen.post('/api/dossiers', submission)).body.dossier.agency, AGENCY, 'new dossiers still go to the owner')
  const moved = await admin.post('/api/procedures?transfer=true', xml('SO-TU-PHAP-DEMO'), xmlHeader)
  t.same([moved.status, moved.body.version], [201, 2], 'the admin transfer')
  t.equal((await own.get('/api/procedures/2.000575')).body.agency, 'SO-TU-PHAP-DEMO')
})

t.test("withdrawal: the applicant's act, or a one-stop officer's with the applicant's written request; never a supervisor's", async (t) => {
  const ctx = await testContext(t, { clock: manualClock('2026-11-23T02:00:00Z') })
  await ctx.deploy(S3)
  const citizen = await caller(ctx, { userId: 'cd-1', roles: ['citizen'] })
  const archive = await caller(ctx, { userId: 'lt-1', roles: ['officer'], groups: ['archive'], agency: AGENCY })
  const supervisor = await caller(ctx, { userId: 'gs-1', roles: ['supervisor'], agency: AGENCY })
  const oneStop = await caller(ctx, { userId: 'mc-1', roles: ['officer'], groups: ['one-stop'], agency: AGENCY })
  const id = (await citizen.post('/api/dossiers', submission)).body.dossier.id
  const reason = { reason: 'Người nộp đề nghị rút hồ sơ' }
  t.same((await archive.post(`/api/dossiers/${id}/withdraw`, reason)).status, 403, 'an officer of an unrelated group')
  t.same((await supervisor.post(`/api/dossiers/${id}/withdraw`, reason)).status, 403, 'a supervisor')
  const bare = await oneStop.post(`/api/dossiers/${id}/withdraw`, reason)
  t.same([bare.status, bare.body.error.code], [422, 'WITHDRAWAL_REQUEST_REQUIRED'], 'the counter officer without the written request')
  const up = await ctx.app.inject({
    method: 'POST',
    url: `/api/dossiers/${id}/documents?fileName=don-rut.pdf`,
    headers: { ...oneStop.headers, 'content-type': 'application/pdf' },
    payload: PDF,
  })
  t.equal(up.statusCode, 201)
  t.equal((await oneStop.get(`/api/dossiers/${id}`)).body.dossier.status, 'RECEIVING', 'refusals changed nothing')
  const ok = await oneStop.post(`/api/dossiers/${id}/withdraw`, { ...reason, requestDocumentId: up.json().id })
  t.same(ok.body, { dossierId: id, dossierStatus: 'WITHDRAWN' })
  const entry = (await citizen.get(`/api/dossiers/${id}`)).body.history.find((h: any) => h.action === 'lifecycle.withdrawn')
  t.equal(entry.details.requestDocumentId, up.json().id, 'the request is on the record')
})

t.test('supervisors hand in no supplements; an unrelated group cannot act on a step', async (t) => {
  const ctx = await testContext(t, { clock: manualClock('2026-11-23T02:00:00Z') })
  await ctx.deploy(S3)
  const citizen = await caller(ctx, { userId: 'cd-1', roles: ['citizen'] })
  const supervisor = await caller(ctx, { userId: 'gs-1', roles: ['supervisor'], agency: AGENCY })
  const oneStop = await caller(ctx, { userId: 'mc-1', roles: ['officer'], groups: ['one-stop'], agency: AGENCY })
  const archive = await caller(ctx, { userId: 'lt-1', roles: ['officer'], groups: ['archive'], agency: AGENCY })
  const id = (await citizen.post('/api/dossiers', submission)).body.dossier.id
  t.equal((await archive.act(id, 'accept', {})).status, 403, 'accept offered to one-stop only')
  t.equal((await supervisor.act(id, 'accept', {})).status, 403, 'supervisors watch, they do not act')
  await oneStop.act(id, 'request-supplement', { items: ['GDN'], reason: 'Thiếu giấy đề nghị' })
  t.equal((await supervisor.post(`/api/dossiers/${id}/supplement`, {})).status, 403)
  t.equal((await archive.post(`/api/dossiers/${id}/supplement`, {})).status, 403)
  t.equal((await citizen.get(`/api/dossiers/${id}`)).body.dossier.status, 'SUPPLEMENT_REQUESTED')
  t.equal((await citizen.post(`/api/dossiers/${id}/supplement`, {})).status, 200, 'the applicant hands it in')
})

t.test('extension (Mẫu 04): by the roles the rules name, after the current appointment and within the time limit again', async (t) => {
  const ctx = await testContext(t, { clock: manualClock('2026-11-23T02:00:00Z') }) // Mon 09:00
  await ctx.deploy(S3)
  const citizen = await caller(ctx, { userId: 'cd-1', roles: ['citizen'] })
  const oneStop = await caller(ctx, { userId: 'mc-1', roles: ['officer'], groups: ['one-stop'], agency: AGENCY })
  const archive = await caller(ctx, { userId: 'lt-1', roles: ['officer'], groups: ['archive'], agency: AGENCY })
  const specialist = await caller(ctx, { userId: 'cv-1', roles: ['officer'], groups: ['specialists'], agency: AGENCY })
  const id = (await citizen.post('/api/dossiers', submission)).body.dossier.id
  await oneStop.act(id, 'accept', {})
  const appointment = (await citizen.get(`/api/dossiers/${id}`)).body.dossier.appointmentAt
  t.equal(appointment, '2026-11-26T02:00:00.000Z', 'Thu 09:00: three working days')
  const url = `/api/dossiers/${id}/extension`
  const ask = (as: typeof oneStop, newAppointmentAt: string) => as.post(url, { newAppointmentAt, reason: 'Cần xác minh thực địa' })
  t.equal((await ask(archive, '2026-11-27T02:00:00Z')).status, 403, 'an officer of an unrelated group')
  t.equal((await ask(citizen, '2026-11-27T02:00:00Z')).status, 403, 'the applicant')
  for (const [date, why] of [
    ['9999-12-31T00:00:00Z', 'year 9999'],
    ['2026-12-31T02:00:00Z', 'beyond the time limit counted again'],
    ['2026-11-26T02:00:00Z', 'not after the current appointment'],
    ['2026-02-30T02:00:00Z', 'no such day'],
  ]) {
    const r = await ask(specialist, date!)
    t.same([r.status, r.body.error.code], [400, 'VALIDATION_FAILED'], why)
    t.match(JSON.stringify(r.body.error.details), /newAppointmentAt/, `${why}: the answer names the field`)
  }
  t.equal((await citizen.get(`/api/dossiers/${id}`)).body.dossier.appointmentAt, appointment, 'nothing moved')
  const ok = await ask(specialist, '2026-12-01T02:00:00Z') // Thu 09:00 + 3 working days = Tue 09:00: the latest allowed
  t.equal(ok.status, 200, 'the officer handling the dossier, at the bound')
  t.equal((await citizen.get(`/api/dossiers/${id}`)).body.dossier.appointmentAt, '2026-12-01T02:00:00.000Z')
})
