import { createHash, timingSafeEqual } from 'node:crypto'

/**
 * The payment platform's message authentication (docs/domain.md#online-payment):
 * MaXacThuc = SHA-256(field1|field2|…|secret), hex. Field order is part of the contract.
 */
export function signFields(fields: ReadonlyArray<string | number>, secret: string): string {
  return createHash('sha256')
    .update([...fields.map(String), secret].join('|'), 'utf8')
    .digest('hex')
}

export function verifyFields(fields: ReadonlyArray<string | number>, secret: string, mac: string): boolean {
  if (!/^[0-9a-f]{64}$/i.test(mac)) return false
  const expected = Buffer.from(signFields(fields, secret), 'hex')
  return timingSafeEqual(expected, Buffer.from(mac.toLowerCase(), 'hex'))
}

/** yyyyMMddHHmmss in Vietnam time (ThoiGianGD). */
export function gatewayTime(t: Date): string {
  const l = new Date(t.getTime() + 7 * 3_600_000)
  const p = (n: number, w = 2) => String(n).padStart(w, '0')
  return `${l.getUTCFullYear()}${p(l.getUTCMonth() + 1)}${p(l.getUTCDate())}${p(l.getUTCHours())}${p(l.getUTCMinutes())}${p(l.getUTCSeconds())}`
}

/** Fields of a payment result callback, in signature order. */
export interface PaymentCallback {
  MaDoiTac: string
  MaThamChieu: string
  MaGiaoDich: string
  SoTien: number
  MaKetQua: string
  ThoiGianGD: string
  MaXacThuc: string
}

export const callbackFields = (c: Omit<PaymentCallback, 'MaXacThuc'>) => [
  c.MaDoiTac,
  c.MaThamChieu,
  c.MaGiaoDich,
  c.SoTien,
  c.MaKetQua,
  c.ThoiGianGD,
]
