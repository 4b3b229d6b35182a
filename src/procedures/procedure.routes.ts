import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { AppError } from '../errors.ts'
import { requireRole } from '../auth/authenticate.ts'
import type { ProcedureService } from './procedure.service.ts'
import type { ProcedureVersionRow } from './procedure.repository.ts'

/** Version numbers are Postgres integers. */
const VersionNumber = Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1 })
const CodeParam = Type.Object({ code: Type.String({ minLength: 1, maxLength: 64 }) })

function versionDto(v: Pick<ProcedureVersionRow, 'procedure_code' | 'version' | 'content_hash' | 'process_id' | 'metadata' | 'warnings' | 'deployed_by' | 'deployed_at'>) {
  return { procedureCode: v.procedure_code, version: v.version, contentHash: v.content_hash, processId: v.process_id, metadata: v.metadata, warnings: v.warnings, deployedBy: v.deployed_by, deployedAt: v.deployed_at }
}

/** Procedures (thủ tục) and their diagram versions. */
export async function procedureRoutes(app: FastifyInstance, opts: { procedures: ProcedureService }) {
  const { procedures } = opts

  app.post('/procedures', {
    schema: {
      tags: ['procedures'],
      summary: "Deploy a BPMN diagram (body: the XML). 201 new version, 200 unchanged, 422 findings. Analysts deploy for their own agency; a new version keeps the procedure's owner agency unless an admin passes transfer=true.",
      consumes: ['application/xml', 'text/xml'],
      querystring: Type.Object({ transfer: Type.Optional(Type.Boolean({ description: 'Admin only: the diagram\'s agency becomes the owner of an existing procedure' })) }, { additionalProperties: false }),
    },
  }, async (req, reply) => {
    const p = requireRole(req, 'analyst', 'admin')
    if (typeof req.body !== 'string' || !req.body.trim()) throw new AppError('XML_BODY_REQUIRED', 'Gửi nội dung sơ đồ BPMN (XML) trong thân yêu cầu, Content-Type: application/xml')
    const { created, version } = await procedures.deploy(req.body, { principal: p, transfer: (req.query as { transfer?: boolean }).transfer === true })
    return reply.status(created ? 201 : 200).send({ created, ...versionDto(version) })
  })

  app.post('/procedures/validate', {
    schema: { tags: ['procedures'], summary: 'Validate a diagram without deploying it' },
  }, async (req) => {
    requireRole(req, 'analyst', 'admin')
    if (typeof req.body !== 'string' || !req.body.trim()) throw new AppError('XML_BODY_REQUIRED', 'Gửi nội dung sơ đồ BPMN (XML) trong thân yêu cầu')
    const { parsed, metadata, findings } = await procedures.validate(req.body)
    return { valid: parsed !== null, metadata: metadata ?? null, findings }
  })

  app.get('/procedures', {
    schema: {
      tags: ['procedures'],
      querystring: Type.Object({ agency: Type.Optional(Type.String({ maxLength: 100 })), limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }), after: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: false }),
    },
  }, async (req) => {
    const q = req.query as { agency?: string; limit: number; after?: string }
    const rows = await procedures.listProcedures(q)
    return {
      items: rows.map((r) => ({ code: r.code, name: r.name, agency: r.agency, latestVersion: r.latest_version, updatedAt: r.updated_at })),
      nextAfter: rows.length === q.limit ? rows[rows.length - 1]!.code : null,
    }
  })

  app.get('/procedures/:code', { schema: { tags: ['procedures'], params: CodeParam } }, async (req) => {
    const { code } = req.params as { code: string }
    const p = await procedures.getProcedure(code)
    return { code: p.code, name: p.name, agency: p.agency, latestVersion: p.latest_version, metadata: p.metadata }
  })

  app.get('/procedures/:code/versions', { schema: { tags: ['procedures'], params: CodeParam } }, async (req) => {
    const { code } = req.params as { code: string }
    return { items: (await procedures.listVersions(code)).map(versionDto) }
  })

  app.get('/procedures/:code/versions/:version', {
    schema: { tags: ['procedures'], params: Type.Object({ code: Type.String({ minLength: 1, maxLength: 64 }), version: VersionNumber }) },
  }, async (req) => {
    const { code, version } = req.params as { code: string; version: number }
    return versionDto(await procedures.getVersion(code, version))
  })

  app.get('/procedures/:code/versions/:version/xml', {
    schema: { tags: ['procedures'], params: Type.Object({ code: Type.String({ minLength: 1, maxLength: 64 }), version: VersionNumber }) },
  }, async (req, reply) => {
    const { code, version } = req.params as { code: string; version: number }
    const v = await procedures.getVersion(code, version)
    return reply.type('application/xml; charset=utf-8').send(v.xml)
  })
}
