import type { Logger } from 'pino'
import type { Db } from '../db/knex.ts'
import type { Clock } from '../clock.ts'
import { AppError } from '../errors.ts'
import { authorize } from '../auth/policy.ts'
import type { Principal } from '../auth/principal.ts'
import fs from 'node:fs'
import path from 'node:path'
import { loadProcessLibrary, parseDiagram, type Finding } from '../engine/definition.ts'
import { DossierStatus } from '../records/statuses.ts'
import { LIFECYCLE_ACTIONS } from './lifecycle-actions.ts'
import { readProcedureMetadata } from './metadata.ts'
import type { ProcedureRepository, ProcedureVersionRow } from './procedure.repository.ts'
import type { ProcedureVersionCache } from './version-cache.ts'
import { refuseTakenMessageStarts } from './message-starts.ts'

/**
 * Who deploys: a caller (an analyst for their own agency; an admin for any, and only an admin with
 * `transfer` may change the owner agency of an existing procedure), or the system deploying the
 * sample directory at start (trusted like an admin transferring).
 */
export type Deployer = { principal: Principal; transfer?: boolean } | 'system'

export interface DeployResult {
  created: boolean
  version: ProcedureVersionRow
}

/**
 * Deployment of procedure diagrams (triển khai quy trình). Each diagram that differs from the latest
 * version becomes version N+1; the latest version's own content returns it. Running dossiers keep the version they started with.
 */
export function createProcedureService(deps: {
  db: Db
  repo: ProcedureRepository
  clock: Clock
  log: Logger
  allowedScriptTasks: ReadonlySet<string>
  defaults: { agency: string; unitId: string }
  /** Directory of the shared skeleton (processes/lib): reusable processes diagrams call by id. */
  libraryDir?: string
  /** Stored versions never change: a submission reads only which one is the latest, the row comes from here. */
  versions: ProcedureVersionCache
}) {
  const { db, repo, clock } = deps

  /** Read at every deploy, so an edited skeleton reaches the next deployed versions (never the running ones). */
  async function library() {
    const dir = deps.libraryDir
    if (!dir || !fs.existsSync(dir)) return new Map()
    const files = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.bpmn'))
      .sort()
      .map((f) => ({ file: `lib/${f}`, xml: fs.readFileSync(path.join(dir, f), 'utf8') }))
    return loadProcessLibrary(files)
  }

  async function validate(xml: string) {
    const parsed = await parseDiagram(xml, {
      allowedScripts: deps.allowedScriptTasks,
      statuses: Object.values(DossierStatus),
      actions: LIFECYCLE_ACTIONS,
      library: await library(),
      deployed: (name) => repo.deployedForCall(db, name),
    })
    const findings: Finding[] = [...parsed.findings]
    if (!('sourceContext' in parsed)) return { parsed: null, findings }
    const { metadata, findings: metaFindings } = readProcedureMetadata(parsed.process, deps.defaults)
    findings.push(...metaFindings.map((f) => ({ ...f, severity: 'error' as const })))
    return { parsed: findings.some((f) => f.severity === 'error') ? null : parsed, metadata, findings }
  }

  return {
    /** Validates without storing: what the 422 of a deploy would say. */
    validate,

    async deploy(xml: string, by: Deployer): Promise<DeployResult> {
      const deployedBy = by === 'system' ? 'system' : by.principal.userId
      const { parsed, metadata, findings } = await validate(xml)
      if (!parsed || !metadata) {
        throw new AppError('BPMN_INVALID', 'Sơ đồ BPMN không hợp lệ: the diagram has errors', {
          findings: findings.filter((f) => f.severity === 'error'),
          warnings: findings.filter((f) => f.severity === 'warning'),
        })
      }
      const warnings = findings.filter((f) => f.severity === 'warning')
      if (by !== 'system') authorize('procedure.deploy', by.principal, { agency: metadata.agency })
      return db.transaction(async (tx) => {
        await repo.insertProcedure(tx, { code: metadata.code, name: metadata.name, agency: metadata.agency })
        const proc = await repo.lockProcedure(tx, metadata.code)
        if (proc && proc.agency !== metadata.agency && by !== 'system') {
          if (!by.principal.roles.includes('admin') || !by.transfer) {
            throw new AppError(
              'PROCEDURE_OWNED_BY_OTHER_AGENCY',
              `Thủ tục ${metadata.code} thuộc ${proc.agency}: phiên bản mới giữ cơ quan chủ quản; chỉ quản trị viên chuyển được (POST /api/procedures?transfer=true)`,
              { owner: proc.agency, requested: metadata.agency },
            )
          }
          deps.log.warn(
            { procedure: metadata.code, from: proc.agency, to: metadata.agency, by: deployedBy },
            'procedure transferred to another agency',
          )
        }
        // Duplicate filtering as Camunda 7: only the latest version counts; an earlier diagram deployed
        // again becomes a new version (it is what the analyst wants new dossiers to run).
        const latest = proc?.latest_version ? await repo.findVersion(tx, metadata.code, proc.latest_version) : null
        if (latest && latest.content_hash === parsed.contentHash) return { created: false, version: latest }
        await refuseTakenMessageStarts(tx, metadata.code, parsed.messageStarts, findings)
        const version = await repo.insertVersion(tx, {
          procedure_code: metadata.code,
          version: (proc?.latest_version ?? 0) + 1,
          content_hash: parsed.contentHash,
          process_id: parsed.process.id,
          xml,
          metadata,
          user_tasks: parsed.userTasks,
          activity_statuses: parsed.activityStatuses,
          message_catches: parsed.messageCatches,
          signal_catches: parsed.signalCatches,
          message_starts: parsed.messageStarts,
          calls: parsed.calls,
          source_context: JSON.parse(parsed.sourceContext),
          warnings,
          deployed_by: deployedBy,
        })
        await repo.setLatest(tx, metadata.code, version.version, metadata.name, metadata.agency, clock.now())
        deps.log.info({ procedure: metadata.code, version: version.version }, 'procedure deployed')
        return { created: true, version }
      })
    },

    async getProcedure(code: string) {
      const proc = await repo.findProcedure(db, code)
      if (!proc) throw new AppError('PROCEDURE_NOT_FOUND', `Thủ tục "${code}" không tồn tại`)
      const latest = await repo.findVersion(db, code, proc.latest_version)
      return { ...proc, metadata: latest?.metadata ?? null }
    },

    listProcedures: (opts: { agency?: string; limit: number; after?: string }) => repo.listProcedures(db, opts),

    async listVersions(code: string) {
      await this.getProcedure(code)
      return repo.listVersions(db, code)
    },

    async getVersion(code: string, version: number): Promise<ProcedureVersionRow> {
      const row = await repo.findVersion(db, code, version)
      if (!row) throw new AppError('PROCEDURE_VERSION_NOT_FOUND', `Thủ tục "${code}" không có phiên bản ${version}`)
      return row
    },

    async latestVersion(code: string): Promise<ProcedureVersionRow> {
      const id = await repo.latestVersionId(db, code)
      if (id === null) throw new AppError('PROCEDURE_NOT_FOUND', `Thủ tục "${code}" không tồn tại`)
      return deps.versions.get(db, id)
    },
  }
}
export type ProcedureService = ReturnType<typeof createProcedureService>
