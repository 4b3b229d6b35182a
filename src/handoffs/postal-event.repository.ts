import type { Queryable } from '../db/knex.ts'
import { read, write } from '../db/query.ts'

/** One tracking event of a postal order (sự kiện hành trình bưu gửi), as the operator reported it. */
export interface PostalEventRow {
  handoff_id: string
  dossier_id: string
  tracking_number: string
  attempt: number
  event: string
  at: Date
  place: string | null
  note: string | null
  received_at: Date
}

export function createPostalEventRepository() {
  return {
    /** The events of one attempt of an order, in the order they were recorded. */
    forAttempt: (q: Queryable, handoffId: string, attempt: number) =>
      read<PostalEventRow>(q('postal_events').where({ handoff_id: handoffId, attempt }).orderBy('id').select('*')),
    insert: (q: Queryable, row: PostalEventRow) => write(q('postal_events').insert(row)),
    /** The postal order of ours with this tracking number. */
    handoffByTracking: (q: Queryable, trackingNumber: string) =>
      read<{ id: string; dossier_id: string }>(
        q('handoffs').where({ tracking_number: trackingNumber, adapter: 'postal' }).select('id', 'dossier_id'),
      ),
  }
}
export type PostalEventRepository = ReturnType<typeof createPostalEventRepository>
