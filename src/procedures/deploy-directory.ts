import fs from 'node:fs'
import path from 'node:path'
import type { Logger } from 'pino'
import { AppError } from '../errors.ts'
import type { ProcedureService } from './procedure.service.ts'

/** Deploys every `*.bpmn` in a directory (the sample procedures at start). Unchanged files keep their version. */
export async function deployDirectory(
  dir: string,
  procedures: ProcedureService,
  log: Logger,
): Promise<Array<{ file: string; code: string; version: number; created: boolean }>> {
  if (!fs.existsSync(dir)) return []
  const out = []
  for (const file of fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.bpmn'))
    .sort()) {
    const xml = fs.readFileSync(path.join(dir, file), 'utf8')
    try {
      const { created, version } = await procedures.deploy(xml, 'system')
      out.push({ file, code: version.procedure_code, version: version.version, created })
    } catch (err) {
      if (err instanceof AppError) {
        log.error({ file, details: err.details }, `procedure ${file} not deployed: ${err.message}`)
        continue
      }
      throw err
    }
  }
  log.info({ deployed: out }, `deployed ${out.length} procedure(s) from ${dir}`)
  return out
}
