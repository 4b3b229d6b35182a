import { POSTAL_TOPICS } from '../../engine/handoff-task.ts'
import { postSigned } from './http.ts'
import type { AdapterAnswer, HandoffAdapter, HandoffRequest } from './adapter.ts'

/**
 * The public postal service (bưu chính công ích) as a handoff adapter (docs/handoffs.md#postal-pickup-and-delivery):
 * a `tthc:handoff adapter="postal"` task orders a pickup (thu gom hồ sơ, topic `pickup`) of the
 * applicant's paper dossier for the one-stop unit, or the delivery (chuyển phát kết quả, topic
 * `delivery`) of the result to the applicant. The operator answers 202 with its tracking number
 * (mã vận đơn); what happens next comes by signed tracking callbacks (postal-tracking.service.ts).
 */
export { POSTAL_TOPICS }
export type PostalTopic = (typeof POSTAL_TOPICS)[number]

/** The path the operator sends its tracking events to. */
export const TRACKING_PATH = '/api/postal/tracking'

/** A tracking number as we accept it from the operator. */
export const TRACKING_NUMBER = /^[A-Za-z0-9-]{4,40}$/

/** A person or office at one end of the order. */
export interface PostalParty {
  name: string
  phone: string | null
  address: string | null
}

/** What an order needs of the dossier, read when it is sent. */
export interface PostalDossier {
  dossierCode: string
  applicant: PostalParty
  /** The one-stop unit (bộ phận một cửa) that receives a pickup and hands over a result. */
  office: { agency: string; unitId: string }
  /** References of the result documents (kind `result`): a delivery lists what goes in the envelope. */
  results: Array<{ documentId: string; fileName: string; sha256: string }>
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v)
const text = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : null)

/** The order body of one attempt (docs/handoffs.md shows it). */
export function postalOrder(req: HandoffRequest, d: PostalDossier) {
  const topic = req.topic as PostalTopic
  // The address the applicant chose for the result, else the one on the dossier.
  const address = text(req.variables.postalAddress) ?? d.applicant.address
  const applicant = { ...d.applicant, address }
  const office = { name: `Bộ phận Một cửa (${d.office.agency})`, agency: d.office.agency, unitId: d.office.unitId }
  const fee = typeof req.variables.feeAmount === 'number' && req.variables.feeAmount > 0 ? req.variables.feeAmount : 0
  return {
    orderId: req.handoffId,
    attempt: req.attempt,
    service: topic,
    dossierCode: d.dossierCode,
    procedureCode: req.procedureCode,
    ...(topic === 'pickup'
      ? // Thu gom: from the applicant's address to the one-stop unit; the postal worker collects the fees with a receipt.
        { sender: applicant, recipient: office, collectFeeAmount: fee, documents: [] }
      : // Chuyển phát kết quả: from the one-stop unit to the applicant, the result documents listed.
        { sender: office, recipient: applicant, collectFeeAmount: 0, documents: d.results }),
    trackingCallbackPath: TRACKING_PATH,
  }
}

export function createPostalAdapter(deps: {
  operator: { url: string; key: string } | undefined
  now: () => Date
  timeoutMs: number
  load: (handoffId: string) => Promise<PostalDossier>
}): HandoffAdapter {
  return {
    name: 'postal',
    async send(req: HandoffRequest): Promise<AdapterAnswer> {
      const operator = deps.operator
      if (!operator) return { kind: 'failure', message: 'Chưa cấu hình kết nối bưu chính công ích (POSTAL_URL, POSTAL_KEY)' }
      if (!(POSTAL_TOPICS as readonly string[]).includes(req.topic))
        return { kind: 'failure', message: `Dịch vụ bưu chính "${req.topic}" không có (chỉ pickup, delivery)` }
      const d = await deps.load(req.handoffId)
      const body = JSON.stringify(postalOrder(req, d))
      const sent = await postSigned(operator.url, operator, req, body, deps, 'hệ thống bưu chính')
      if (!('res' in sent)) return sent
      const { res, text: raw } = sent
      let json: unknown
      try {
        json = raw ? JSON.parse(raw) : null
      } catch {
        json = null
      }
      // 202 for a new order, 200 for the same order again (same idempotency key): both carry the tracking number.
      if (res.status === 202 || res.status === 200) {
        const tracking = isObject(json) ? json.trackingNumber : undefined
        if (typeof tracking === 'string' && TRACKING_NUMBER.test(tracking)) return { kind: 'accepted', trackingNumber: tracking }
        return { kind: 'failure', message: 'Hệ thống bưu chính không trả mã vận đơn hợp lệ', details: raw.slice(0, 2000) }
      }
      // The operator refuses the order (an address it does not serve…): a business answer, as the http adapter's 422.
      if (res.status === 422 && isObject(json) && typeof json.errorCode === 'string' && json.errorCode)
        return {
          kind: 'bpmnError',
          errorCode: json.errorCode,
          errorMessage: typeof json.errorMessage === 'string' ? json.errorMessage : null,
          variables: {},
        }
      return { kind: 'failure', message: `Hệ thống bưu chính trả lời HTTP ${res.status}`, details: raw.slice(0, 2000) }
    },
  }
}
