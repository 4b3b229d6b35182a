import type { Clock } from '../clock.ts'
import type { Db } from '../db/knex.ts'
import { transaction, type UnitOfWork } from '../db/unit-of-work.ts'
import { AppError } from '../errors.ts'
import type { DossierRepository } from '../records/dossier.repository.ts'
import type { HistoryEntry, HistoryRepository } from '../records/history.repository.ts'
import type { StepRunner } from '../steps/step-runner.ts'
import { ANSWERABLE, type HandoffRepository, type HandoffRow } from './handoff.repository.ts'
import type { HandoffService } from './handoff.service.ts'
import type { PostalEventRepository } from './postal-event.repository.ts'
import { verifyBody } from './signature.ts'

/** The operator's tracking events (sự kiện hành trình), in the order a parcel goes through them. */
export const POSTAL_EVENTS = ['accepted', 'picked_up', 'in_transit', 'delivered', 'returned_to_sender', 'failed'] as const
export type PostalEvent = (typeof POSTAL_EVENTS)[number]
const RANK: Record<PostalEvent, number> = { accepted: 1, picked_up: 2, in_transit: 3, delivered: 4, returned_to_sender: 4, failed: 4 }

/** The BPMN error a failed pickup or delivery throws from its task (an error boundary may catch it). */
export const POSTAL_FAILED = 'POSTAL_FAILED'

export interface TrackingBody {
  trackingNumber: string
  event: PostalEvent
  /** When it happened (ISO 8601). */
  at: string
  place?: string
  note?: string
}

const vnTime = (d: Date) =>
  new Intl.DateTimeFormat('vi-VN', {
    timeZone: 'Asia/Ho_Chi_Minh',
    hour: '2-digit',
    minute: '2-digit',
    day: '2-digit',
    month: '2-digit',
    year: 'numeric',
  }).format(d)

/** The Vietnamese line the dossier's history shows for one event. */
export function trackingText(service: string, b: TrackingBody, at: Date): string {
  const what = service === 'pickup' ? 'hồ sơ thu gom' : 'kết quả chuyển phát'
  const where = b.place ? ` tại ${b.place}` : ''
  const note = b.note ? ` (${b.note})` : ''
  const lines: Record<PostalEvent, string> = {
    accepted: `Bưu chính đã nhận đơn ${service === 'pickup' ? 'thu gom hồ sơ' : 'chuyển phát kết quả'}, mã vận đơn ${b.trackingNumber}`,
    picked_up:
      service === 'pickup'
        ? `Nhân viên bưu chính đã thu gom hồ sơ${where}`
        : `Nhân viên bưu chính đã nhận kết quả từ Bộ phận Một cửa${where}`,
    in_transit: `Bưu gửi (${what}) đang được vận chuyển${where}`,
    delivered:
      service === 'pickup'
        ? `Bưu chính đã bàn giao hồ sơ cho Bộ phận Một cửa${where} (ký biên bản giao nhận)`
        : `Bưu chính đã phát kết quả cho người nhận${where}`,
    returned_to_sender: `Bưu gửi (${what}) bị chuyển hoàn${where}`,
    failed: `Bưu chính không ${service === 'pickup' ? 'thu gom được hồ sơ' : 'phát được kết quả'}${where}`,
  }
  return `${lines[b.event]} lúc ${vnTime(at)}${note}.`
}

/**
 * Signed tracking callbacks from the postal operator (docs/handoffs.md#postal-pickup-and-delivery):
 * the signature and timestamp are checked first (as a peer's callback), then the event is recorded
 * once — a repeated event, or one older than what the order already went through, changes nothing.
 * `delivered` answers the order's handoff (the flow goes on), `failed` and `returned_to_sender`
 * throw POSTAL_FAILED from its task, or open an incident when nothing catches it.
 */
export function createPostalTrackingService(deps: {
  db: Db
  clock: Clock
  operator: { key: string } | undefined
  maxAgeSeconds: number
  handoffs: HandoffService
  handoffRows: HandoffRepository
  events: PostalEventRepository
  dossiers: DossierRepository
  history: HistoryRepository
  steps: StepRunner
}) {
  const { db, clock } = deps
  const forged = () => new AppError('HANDOFF_SIGNATURE_INVALID', 'Chữ ký của hệ thống bưu chính không hợp lệ')

  type Outcome = { trackingNumber: string; event: PostalEvent; recorded: boolean; state: string; dossierStatus?: string }

  return {
    async receive(raw: string, headers: { timestamp?: string; signature?: string }, body: TrackingBody): Promise<Outcome> {
      const key = deps.operator?.key
      if (!key || !headers.timestamp || !headers.signature) throw forged()
      if (!verifyBody(key, headers.timestamp, raw, headers.signature)) throw forged()
      const now = clock.now()
      const age = Math.abs(now.getTime() / 1000 - Number(headers.timestamp))
      if (!/^\d{1,12}$/.test(headers.timestamp) || age > deps.maxAgeSeconds)
        throw new AppError('HANDOFF_TIMESTAMP_EXPIRED', `Yêu cầu đã quá ${deps.maxAgeSeconds} giây kể từ khi ký: không được chấp nhận`)
      const at = new Date(body.at)
      if (Number.isNaN(at.getTime()) || at.getTime() > now.getTime() + deps.maxAgeSeconds * 1000)
        throw new AppError('VALIDATION_FAILED', 'Thời điểm sự kiện (at) không hợp lệ hoặc ở tương lai', { path: '/at' })
      const found = await deps.events.handoffByTracking(db, body.trackingNumber).one()
      if (!found) throw new AppError('POSTAL_TRACKING_UNKNOWN', `Không có đơn bưu chính nào mang mã vận đơn ${body.trackingNumber}`)
      const actor = `postal:${body.trackingNumber}`
      const ignored = (state: string): Outcome => ({ trackingNumber: body.trackingNumber, event: body.event, recorded: false, state })

      /** The event's row and its history line, written with whatever it causes. */
      const record = (uow: UnitOfWork, h: HandoffRow): HistoryEntry[] => {
        uow.write(
          deps.events.insert(uow.tx, {
            handoff_id: h.id,
            dossier_id: h.dossier_id,
            tracking_number: body.trackingNumber,
            attempt: h.attempts,
            event: body.event,
            at,
            place: body.place ?? null,
            note: body.note ?? null,
            received_at: now,
          }),
        )
        return [
          {
            dossier_id: h.dossier_id,
            activity_id: h.activity_id,
            action: `postal.${body.event}`,
            actor,
            details: {
              handoffId: h.id,
              service: h.topic,
              trackingNumber: body.trackingNumber,
              event: body.event,
              eventAt: at.toISOString(),
              place: body.place ?? null,
              text: trackingText(h.topic, body, at),
            },
            at: now,
          },
        ]
      }

      if (RANK[body.event] < 4) {
        // On the way: a history line, unless the order is no longer waiting, or the event is one it already went past.
        return transaction(db, async (uow) => {
          await deps.steps.lock(uow, { dossier: found.dossier_id })
          const locked = uow.read(deps.handoffRows.lock(uow.tx, found.id))
          await uow.flush()
          const h = locked.one()!
          if (!ANSWERABLE.includes(h.state) || h.tracking_number !== body.trackingNumber) return uow.finish(ignored(h.state))
          const seen = uow.read(deps.events.forAttempt(uow.tx, h.id, h.attempts))
          await uow.flush()
          const earlier = seen.rows
          const top = Math.max(0, ...earlier.map((e) => RANK[e.event as PostalEvent] ?? 0))
          const same = earlier.some((e) => e.event === body.event && new Date(e.at).getTime() === at.getTime())
          // In transit may repeat (each post office on the way); any other step happens once, in order.
          if (same || RANK[body.event] < top || (RANK[body.event] === top && body.event !== 'in_transit'))
            return uow.finish(ignored(h.state))
          uow.write(deps.history.append(uow.tx, record(uow, h)))
          return uow.commit({ trackingNumber: body.trackingNumber, event: body.event, recorded: true, state: h.state })
        })
      }

      const text = (h: HandoffRow) => trackingText(h.topic, body, at)
      try {
        if (body.event === 'delivered') {
          const r = await deps.handoffs.answer(
            found.id,
            { kind: 'complete', variables: { postalDeliveredAt: at.toISOString() } },
            { actor },
            {
              before: (uow, h) => record(uow, h),
              after: (uow, h) => {
                // Pickup: the hand-over record is signed now, the lawful submission time (docs/domain.md#postal-submission-time).
                // Delivery: the result reached the applicant, the dossier's return date (docs/domain.md#postal-return-date).
                if (h.topic === 'pickup') uow.write(deps.dossiers.updateLifecycle(uow.tx, h.dossier_id, { submitted_at: at }))
                else uow.write(deps.dossiers.updateLifecycle(uow.tx, h.dossier_id, { return_method: 'post', returned_at: at }))
              },
            },
          )
          return { trackingNumber: body.trackingNumber, event: body.event, recorded: true, state: 'completed', dossierStatus: r.status }
        }
        const message = text((await deps.handoffs.find(found.id))!)
        try {
          await deps.handoffs.answer(
            found.id,
            { kind: 'bpmnError', errorCode: POSTAL_FAILED, errorMessage: message, variables: { postalFailure: body.event } },
            { actor },
            { before: (uow, h) => record(uow, h) },
          )
          return { trackingNumber: body.trackingNumber, event: body.event, recorded: true, state: 'completed' }
        } catch (err) {
          // Nothing in the diagram catches it: an incident, as for an adapter's answer the process cannot take.
          if (!(err instanceof AppError) || !['BPMN_ERROR_NOT_CAUGHT', 'PROCESS_STEP_FAILED'].includes(err.code)) throw err
          await deps.handoffs.fail(found.id, { message, retries: 0 }, { actor }, { before: (uow, h) => record(uow, h) })
          return { trackingNumber: body.trackingNumber, event: body.event, recorded: true, state: 'incident' }
        }
      } catch (err) {
        // Already answered (a repeated or late terminal event): nothing changes.
        if (err instanceof AppError && err.code === 'HANDOFF_ALREADY_ANSWERED')
          return ignored(((err.details as { state?: string } | undefined)?.state as string | undefined) ?? 'completed')
        throw err
      }
    },
  }
}
export type PostalTrackingService = ReturnType<typeof createPostalTrackingService>
