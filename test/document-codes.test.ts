import t from 'tap'
import fs from 'node:fs'
import { testContext } from './helpers/context.ts'
import { caller } from './helpers/api.ts'

const S3 = fs.readFileSync(new URL('../processes/s3-ho-kinh-doanh.bpmn', import.meta.url), 'utf8')
const PDF = Buffer.from('%PDF-1.4\n%%EOF\n')

t.test(
  "an upload names a document of the procedure's published list, or none; an unknown code is refused with the allowed ones",
  async (t) => {
    const ctx = await testContext(t, { now: '2026-11-23T02:00:00Z' })
    t.equal((await ctx.deploy(S3)).status, 201)
    const citizen = await caller(ctx, { userId: 'cd-1', roles: ['citizen'] })
    const sub = await citizen.post('/api/dossiers', {
      procedureCode: '2.000575',
      applicant: { name: 'Lê Văn C', idNumber: '001099001234', phone: '0912345678' },
      channel: 2,
      data: {},
    })
    const id = sub.body.dossier.id
    const upload = (query: string) =>
      ctx.app.inject({
        method: 'POST',
        url: `/api/dossiers/${id}/documents?fileName=giay-to.pdf${query}`,
        headers: { ...citizen.headers, 'content-type': 'application/pdf' },
        payload: PDF,
      })

    const bad = await upload('&documentCode=GIAY-KHAC')
    t.equal(bad.statusCode, 422)
    t.match(bad.json().error, { code: 'DOCUMENT_CODE_UNKNOWN', details: { documentCode: 'GIAY-KHAC', allowed: ['GDN', 'BBH', 'HDTN'] } })
    t.match(bad.json().error.message, /danh mục thành phần hồ sơ/)
    t.same((await citizen.get(`/api/dossiers/${id}/documents`)).body.items, [], 'nothing stored')
    t.notOk(
      (await citizen.get(`/api/dossiers/${id}`)).body.history.some((h: any) => h.action === 'document.uploaded'),
      'nothing recorded',
    )

    const ok = await upload('&documentCode=GDN')
    t.equal(ok.statusCode, 201, ok.body)
    t.equal(ok.json().documentCode, 'GDN')
    const plain = await upload('')
    t.equal(plain.statusCode, 201, 'a file without a code is accepted, unclassified')
    t.equal(plain.json().documentCode, null)
  },
)
