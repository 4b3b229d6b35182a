import { IDEMPOTENCY_HEADER, SIGNATURE_HEADER, signBody, TIMESTAMP_HEADER } from '../signature.ts'
import type { AdapterAnswer, HandoffAdapter, HandoffRequest } from './adapter.ts'

/** A peer system: where its handoffs are POSTed, and the key both sides sign with. */
export interface Peer {
  url: string
  key: string
}

/** The peer this handoff goes to, or the failure that says none is configured. */
export function peerOf(peers: Readonly<Record<string, Peer>>, req: HandoffRequest): Peer | AdapterAnswer {
  const peer = req.receivingAgency ? peers[req.receivingAgency] : undefined
  return peer ?? { kind: 'failure', message: `Chưa cấu hình hệ thống của cơ quan ${req.receivingAgency ?? '(không có)'} (HANDOFF_PEERS)` }
}

/**
 * POSTs a handoff body to a peer, signed with the peer's key (timestamp + body) and carrying the
 * handoff id as idempotency key: the answer and its text, or the failure when the peer cannot be reached.
 */
export async function postSigned(
  url: string,
  peer: Peer,
  req: HandoffRequest,
  body: string,
  deps: { now: () => Date; timeoutMs: number },
  /** Who the failure message names: the receiving agency's system by default. */
  system = `hệ thống của ${req.receivingAgency}`,
): Promise<{ res: Response; text: string } | AdapterAnswer> {
  const timestamp = String(Math.floor(deps.now().getTime() / 1000))
  let res: Response
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [IDEMPOTENCY_HEADER]: req.handoffId,
        [TIMESTAMP_HEADER]: timestamp,
        [SIGNATURE_HEADER]: signBody(peer.key, timestamp, body),
      },
      body,
      signal: AbortSignal.timeout(deps.timeoutMs),
    })
  } catch (err) {
    return { kind: 'failure', message: `Không gọi được ${system}: ${(err as Error).message}` }
  }
  return { res, text: await res.text().catch(() => '') }
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v)

/**
 * The `http` adapter: POSTs the handoff as JSON to the receiving agency's configured URL, signed,
 * with the handoff id as idempotency key. 200 `{variables}` completes it, 202 means the answer comes
 * by callback, 422 `{errorCode, errorMessage}` is a BPMN error; anything else is a failure (retried).
 */
export function createHttpAdapter(deps: { peers: Readonly<Record<string, Peer>>; now: () => Date; timeoutMs: number }): HandoffAdapter {
  return {
    name: 'http',
    async send(req: HandoffRequest): Promise<AdapterAnswer> {
      const peer = peerOf(deps.peers, req)
      if ('kind' in peer) return peer
      const body = JSON.stringify({
        handoffId: req.handoffId,
        attempt: req.attempt,
        topic: req.topic,
        activityId: req.activityId,
        businessKey: req.businessKey,
        procedureCode: req.procedureCode,
        agency: req.agency,
        callbackPath: `/api/handoffs/${req.handoffId}/callback`,
        variables: req.variables,
      })
      const sent = await postSigned(peer.url, peer, req, body, deps)
      if ('kind' in sent) return sent
      const { res, text } = sent
      let json: unknown
      try {
        json = text ? JSON.parse(text) : null
      } catch {
        json = null
      }
      const vars = isObject(json) && isObject(json.variables) ? json.variables : {}
      if (res.status === 200) return { kind: 'complete', variables: vars }
      if (res.status === 202) return { kind: 'accepted' }
      if (res.status === 422 && isObject(json) && typeof json.errorCode === 'string' && json.errorCode)
        return {
          kind: 'bpmnError',
          errorCode: json.errorCode,
          errorMessage: typeof json.errorMessage === 'string' ? json.errorMessage : null,
          variables: vars,
        }
      return { kind: 'failure', message: `Hệ thống của ${req.receivingAgency} trả lời HTTP ${res.status}`, details: text.slice(0, 2000) }
    },
  }
}
