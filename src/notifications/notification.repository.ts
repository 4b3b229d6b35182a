import type { Queryable } from '../db/knex.ts'
import { write } from '../db/query.ts'

export interface NotificationRow {
  id: string
  event_id: string
  agency: string
  groups: string[]
  user_id: string | null
  dossier_id: string
  task_id: string | null
  kind: string
  message: string
  created_at: Date
}

/** Who may read a notification: every agency (admin), one agency (supervisor), or one officer. */
export interface NotificationScope {
  agency: string | null
  member: { userId: string; groups: string[] } | null
}

export function createNotificationRepository() {
  return {
    /** Inserts once per event: an event already recorded is skipped. */
    insertManyOnce: (q: Queryable, rows: Array<Omit<NotificationRow, 'id'>>) =>
      write(rows.length ? q('notifications').insert(rows).onConflict('event_id').ignore() : null),
    /** Newest first, keyset-paginated by id. */
    async list(
      q: Queryable,
      scope: NotificationScope,
      opts: { beforeId?: number; limit: number; dossierId?: string },
    ): Promise<NotificationRow[]> {
      const query = q<NotificationRow>('notifications').orderBy('id', 'desc').limit(opts.limit)
      if (scope.agency) query.where({ agency: scope.agency })
      if (scope.member) {
        const m = scope.member
        // A dossier-level notice (no group, no user) is for every officer of the agency.
        query.where(
          (w) =>
            void w
              .where('user_id', m.userId)
              .orWhereRaw('groups && ?::text[]', [m.groups])
              .orWhere((x) => void x.whereNull('user_id').whereRaw("groups = '{}'")),
        )
      }
      if (opts.beforeId) query.where('id', '<', opts.beforeId)
      if (opts.dossierId) query.where({ dossier_id: opts.dossierId })
      return query
    },
  }
}
export type NotificationRepository = ReturnType<typeof createNotificationRepository>
