import type { Queryable } from '../db/knex.ts'
import { AppError } from '../errors.ts'
import { deserializeSourceContext } from '../engine/definition.ts'
import type { ProcedureRepository, ProcedureVersionRow } from './procedure.repository.ts'

/**
 * Procedure versions never change once stored, so each is read from Postgres and its definition
 * deserialized once per process.
 */
export function createProcedureVersionCache(
  repo: ProcedureRepository,
  elementsFor: (version: ProcedureVersionRow) => Record<string, unknown> = () => ({}),
) {
  const cache = new Map<number, ProcedureVersionRow>()
  const contexts = new Map<number, unknown>()
  return {
    sourceContext(version: ProcedureVersionRow): unknown {
      let ctx = contexts.get(version.id)
      if (!ctx) {
        ctx = deserializeSourceContext(version.source_context, elementsFor(version))
        contexts.set(version.id, ctx)
      }
      return ctx
    },
    async get(q: Queryable, id: number): Promise<ProcedureVersionRow> {
      const hit = cache.get(id)
      if (hit) return hit
      const row = await repo.findVersionById(q, id)
      if (!row) throw new AppError('PROCEDURE_VERSION_NOT_FOUND', `procedure version ${id} not found`)
      cache.set(id, row)
      return row
    },
  }
}
export type ProcedureVersionCache = ReturnType<typeof createProcedureVersionCache>
