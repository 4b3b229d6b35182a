import { createHash } from 'node:crypto'
import type { Db } from '../db/knex.ts'
import type { Clock } from '../clock.ts'

/** A status change pushed to the National Public Service Portal (Cổng DVCQG, docs/domain.md#national-portal-sync). */
export interface PortalStatusEvent {
  eventId: string
  dossierId: string
  code: string
  nationalStatus: number
  at: string
}

/** The portal behind an interface: production calls DVCQG; development and tests use the simulator. */
export interface NationalPortal {
  pushStatus(e: PortalStatusEvent): Promise<{ receipt: string }>
}

/**
 * Local simulator of the national portal: acknowledges each event idempotently (same event id,
 * same receipt) and records the acknowledgement, as the real portal's receipt would be recorded.
 */
export function createPortalSimulator(deps: { db: Db; clock: Clock }): NationalPortal {
  return {
    async pushStatus(e) {
      if (!e.dossierId || !e.code || !Number.isInteger(e.nationalStatus) || e.nationalStatus < 1 || e.nationalStatus > 10) {
        throw new Error(`portal rejected event ${e.eventId}: invalid payload`)
      }
      const receipt = createHash('sha256').update(`${e.eventId}:${e.code}:${e.nationalStatus}`).digest('hex').slice(0, 20)
      await deps.db('portal_sync_log')
        .insert({ event_id: e.eventId, dossier_id: e.dossierId, dossier_code: e.code, national_status: e.nationalStatus, receipt, acked_at: deps.clock.now() })
        .onConflict('event_id').ignore()
      return { receipt }
    },
  }
}
