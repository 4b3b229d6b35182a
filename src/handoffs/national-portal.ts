import { createHash } from 'node:crypto'

/** A status change pushed to the National Public Service Portal (Cổng DVCQG, docs/domain.md#national-portal-sync). */
export interface PortalStatusEvent {
  eventId: string
  dossierId: string
  code: string
  nationalStatus: number
  at: string
}

/**
 * The portal behind an interface: an HTTP gateway when `PORTAL_URL` is set, else the local simulator.
 * `pushStatus` resolves only once the portal acknowledged the event (its receipt); the caller records it.
 */
export interface NationalPortal {
  pushStatus(e: PortalStatusEvent): Promise<{ receipt: string }>
}

function validate(e: PortalStatusEvent) {
  if (!e.dossierId || !e.code || !Number.isInteger(e.nationalStatus) || e.nationalStatus < 1 || e.nationalStatus > 10) {
    throw new Error(`portal rejected event ${e.eventId}: invalid payload`)
  }
}

/** Local simulator of the national portal: acknowledges each event idempotently (same event id, same receipt). */
export function createPortalSimulator(): NationalPortal {
  return {
    async pushStatus(e) {
      validate(e)
      return { receipt: createHash('sha256').update(`${e.eventId}:${e.code}:${e.nationalStatus}`).digest('hex').slice(0, 20) }
    },
  }
}

/**
 * The portal over HTTP: POSTs the event as JSON (the event id also as `Idempotency-Key`: the portal
 * may see an event twice, after a lost answer or a re-queue) and expects a 2xx `{ "receipt": "…" }`.
 * Anything else is a failure, retried by the queue.
 */
export function createHttpPortal(opts: { url: string; timeoutMs: number }): NationalPortal {
  return {
    async pushStatus(e) {
      validate(e)
      const res = await fetch(opts.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': e.eventId },
        body: JSON.stringify(e),
        signal: AbortSignal.timeout(opts.timeoutMs),
      })
      const body = (await res.json().catch(() => null)) as { receipt?: unknown } | null
      if (!res.ok) throw new Error(`portal answered ${res.status} to event ${e.eventId}`)
      if (typeof body?.receipt !== 'string' || body.receipt === '') throw new Error(`portal answer to event ${e.eventId} has no receipt`)
      return { receipt: body.receipt.slice(0, 200) }
    },
  }
}
