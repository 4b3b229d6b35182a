import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * Requests between peer systems are signed with the peer's shared key (docs/handoffs.md):
 * `X-Tthc-Signature` = hex HMAC-SHA256 over `<X-Tthc-Timestamp>.<raw body>`, the timestamp in Unix seconds.
 */
export const SIGNATURE_HEADER = 'x-tthc-signature'
export const TIMESTAMP_HEADER = 'x-tthc-timestamp'
export const IDEMPOTENCY_HEADER = 'idempotency-key'

export function signBody(key: string, timestamp: string, body: string): string {
  return createHmac('sha256', key).update(`${timestamp}.${body}`, 'utf8').digest('hex')
}

export function verifyBody(key: string, timestamp: string, body: string, signature: string): boolean {
  if (!/^[0-9a-f]{64}$/i.test(signature)) return false
  return timingSafeEqual(Buffer.from(signBody(key, timestamp, body), 'hex'), Buffer.from(signature.toLowerCase(), 'hex'))
}
