import type { Clock } from '../clock.ts'
import { AppError } from '../errors.ts'
import type { HandoffService } from './handoff.service.ts'
import { verifyBody } from './signature.ts'

/** A peer's late answer to a handoff (docs/handoffs.md#callback). */
export type CallbackBody =
  | { outcome: 'complete'; variables?: Record<string, unknown> }
  | { outcome: 'bpmnError'; errorCode: string; errorMessage?: string; variables?: Record<string, unknown> }
  | { outcome: 'failure'; errorMessage: string; errorDetails?: string }

/**
 * Signed callbacks from the receiving agency's system: the signature (HMAC-SHA256 with the peer's
 * key over `timestamp.body`) and the timestamp's age are checked before anything is read or written;
 * a second answer for the same handoff gets HANDOFF_ALREADY_ANSWERED and changes nothing.
 */
export function createCallbackService(deps: {
  handoffs: HandoffService
  peers: Readonly<Record<string, { key: string }>>
  maxAgeSeconds: number
  clock: Clock
}) {
  const forged = () => new AppError('HANDOFF_SIGNATURE_INVALID', 'Chữ ký của hệ thống gửi trả lời không hợp lệ')
  return {
    async receive(id: string, raw: string, headers: { timestamp?: string; signature?: string }, body: CallbackBody) {
      const h = await deps.handoffs.find(id)
      // An unknown handoff and a forged request look the same to the caller.
      const peer = h?.receiving_agency ? deps.peers[h.receiving_agency] : undefined
      if (!h || !peer || !headers.timestamp || !headers.signature) throw forged()
      if (!verifyBody(peer.key, headers.timestamp, raw, headers.signature)) throw forged()
      const age = Math.abs(deps.clock.now().getTime() / 1000 - Number(headers.timestamp))
      if (!/^\d{1,12}$/.test(headers.timestamp) || age > deps.maxAgeSeconds)
        throw new AppError('HANDOFF_TIMESTAMP_EXPIRED', `Yêu cầu đã quá ${deps.maxAgeSeconds} giây kể từ khi ký: không được chấp nhận`)
      const actor = `peer:${h.receiving_agency}`
      if (body.outcome === 'failure') {
        const r = await deps.handoffs.fail(id, { message: body.errorMessage, details: body.errorDetails ?? null }, { actor })
        return { handoffId: id, state: r.incident ? 'incident' : 'pending' }
      }
      await deps.handoffs.answer(
        id,
        body.outcome === 'complete'
          ? { kind: 'complete', variables: body.variables ?? {} }
          : { kind: 'bpmnError', errorCode: body.errorCode, errorMessage: body.errorMessage ?? null, variables: body.variables ?? {} },
        { actor },
      )
      return { handoffId: id, state: 'completed' }
    },
  }
}
export type CallbackService = ReturnType<typeof createCallbackService>
