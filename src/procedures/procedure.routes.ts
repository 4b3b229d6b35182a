import { AppError } from '../errors.ts'
import { requireRole } from '../auth/authenticate.ts'
import type { Api } from '../http/schemas.ts'
import type { ProcedureService } from './procedure.service.ts'
import type { ProcedureVersionRow } from './procedure.repository.ts'
import {
  deploySchema,
  getProcedureSchema,
  getVersionSchema,
  listProceduresSchema,
  listVersionsSchema,
  validateSchema,
  versionXmlSchema,
} from './procedure.schemas.ts'

function versionDto(
  v: Pick<
    ProcedureVersionRow,
    'procedure_code' | 'version' | 'content_hash' | 'process_id' | 'metadata' | 'warnings' | 'deployed_by' | 'deployed_at'
  >,
) {
  return {
    procedureCode: v.procedure_code,
    version: v.version,
    contentHash: v.content_hash,
    processId: v.process_id,
    metadata: v.metadata,
    warnings: v.warnings,
    deployedBy: v.deployed_by,
    deployedAt: v.deployed_at,
  }
}

/** Procedures (thủ tục) and their diagram versions. */
export async function procedureRoutes(app: Api, opts: { procedures: ProcedureService }) {
  const { procedures } = opts

  app.post('/procedures', { schema: deploySchema }, async (req, reply) => {
    const p = requireRole(req, 'analyst', 'admin')
    if (typeof req.body !== 'string' || !req.body.trim())
      throw new AppError('XML_BODY_REQUIRED', 'Gửi nội dung sơ đồ BPMN (XML) trong thân yêu cầu, Content-Type: application/xml')
    const { created, version } = await procedures.deploy(req.body, { principal: p, transfer: req.query.transfer === true })
    return reply.status(created ? 201 : 200).send({ created, ...versionDto(version) })
  })

  app.post('/procedures/validate', { schema: validateSchema }, async (req) => {
    requireRole(req, 'analyst', 'admin')
    if (typeof req.body !== 'string' || !req.body.trim())
      throw new AppError('XML_BODY_REQUIRED', 'Gửi nội dung sơ đồ BPMN (XML) trong thân yêu cầu')
    const { parsed, metadata, findings } = await procedures.validate(req.body)
    return { valid: parsed !== null, metadata: metadata ?? null, findings }
  })

  app.get('/procedures', { schema: listProceduresSchema }, async (req) => {
    const q = req.query
    const rows = await procedures.listProcedures(q)
    return {
      items: rows.map((r) => ({ code: r.code, name: r.name, agency: r.agency, latestVersion: r.latest_version, updatedAt: r.updated_at })),
      nextAfter: rows.length === q.limit ? rows[rows.length - 1]!.code : null,
    }
  })

  app.get('/procedures/:code', { schema: getProcedureSchema }, async (req) => {
    const p = await procedures.getProcedure(req.params.code)
    return { code: p.code, name: p.name, agency: p.agency, latestVersion: p.latest_version, metadata: p.metadata }
  })

  app.get('/procedures/:code/versions', { schema: listVersionsSchema }, async (req) => {
    return { items: (await procedures.listVersions(req.params.code)).map(versionDto) }
  })

  app.get('/procedures/:code/versions/:version', { schema: getVersionSchema }, async (req) => {
    const { code, version } = req.params
    return versionDto(await procedures.getVersion(code, version))
  })

  app.get('/procedures/:code/versions/:version/xml', { schema: versionXmlSchema }, async (req, reply) => {
    const { code, version } = req.params
    const v = await procedures.getVersion(code, version)
    return reply.type('application/xml; charset=utf-8').send(v.xml)
  })
}
