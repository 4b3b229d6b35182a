import type { Queryable } from '../db/knex.ts'
import { read, write } from '../db/query.ts'

/** One line of the process record (nhật ký xử lý): who did what, when, on which step. Source of Mẫu 05/06. */
export interface HistoryEntry {
  dossier_id: string
  task_id?: string | null
  activity_id?: string | null
  action: string
  actor: string
  status?: string | null
  details?: Record<string, unknown> | null
  at: Date
}

/** A stored history line, as read back: every column present (null when empty). */
export interface HistoryRow {
  id: number
  task_id: string | null
  activity_id: string | null
  action: string
  actor: string
  status: string | null
  details: Record<string, unknown> | null
  at: Date
}

export function createHistoryRepository() {
  return {
    /** Null when there is nothing to write. */
    append: (q: Queryable, entries: HistoryEntry[]) =>
      write(
        entries.length ? q('history').insert(entries.map((e) => ({ ...e, details: e.details ? JSON.stringify(e.details) : null }))) : null,
      ),
    forDossier: (q: Queryable, dossierId: string) =>
      read<HistoryRow>(
        q('history')
          .where({ dossier_id: dossierId })
          .orderBy('id')
          .select('id', 'task_id', 'activity_id', 'action', 'actor', 'status', 'details', 'at'),
      ),
  }
}
export type HistoryRepository = ReturnType<typeof createHistoryRepository>
