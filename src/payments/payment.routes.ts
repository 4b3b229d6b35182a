import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { AppError } from '../errors.ts'
import type { Principal } from '../auth/principal.ts'
import type { PaymentCallback } from './signature.ts'
import type { PaymentService } from './payment.service.ts'

const IdParam = Type.Object({ id: Type.String({ format: 'uuid' }) })

export const CallbackBody = Type.Object({
  MaDoiTac: Type.String({ minLength: 1, maxLength: 64 }),
  MaThamChieu: Type.String({ minLength: 1, maxLength: 100 }),
  MaGiaoDich: Type.String({ minLength: 1, maxLength: 100 }),
  SoTien: Type.Integer({ minimum: 0, maximum: 1_000_000_000_000 }),
  MaKetQua: Type.String({ pattern: '^[0-9]{2}$' }),
  ThoiGianGD: Type.String({ pattern: '^[0-9]{14}$' }),
  MaXacThuc: Type.String({ minLength: 1, maxLength: 128 }),
}, { additionalProperties: false })

/** Payments for citizens and officers (under /api, with a JWT). */
export async function paymentRoutes(app: FastifyInstance, opts: { payments: PaymentService; simulator: boolean }) {
  const { payments } = opts
  app.post('/dossiers/:id/payments', { schema: { tags: ['payments'], summary: 'Payment request for what the dossier owes now (fee or financial obligation); idempotent', params: IdParam } }, async (req, reply) => {
    return reply.status(201).send(await payments.request(req.principal, (req.params as { id: string }).id))
  })
  app.get('/dossiers/:id/payments', { schema: { tags: ['payments'], summary: 'Payments of a dossier with their e-receipt numbers', params: IdParam } }, async (req) => {
    return { items: await payments.list(req.principal, (req.params as { id: string }).id) }
  })
  if (opts.simulator) {
    app.post('/payment-simulator/:reference/pay', {
      schema: {
        tags: ['payments'],
        summary: 'Local payment-gateway simulator (development and tests): pays and sends the signed callback',
        params: Type.Object({ reference: Type.String({ maxLength: 100 }) }),
        body: Type.Object({ resultCode: Type.Optional(Type.String({ pattern: '^[0-9]{2}$' })) }, { additionalProperties: false }),
      },
    }, async (req) => {
      const { reference } = req.params as { reference: string }
      const row = await visiblePayment(req.principal, reference)
      const callback = payments.simulatedCallback(reference, row.amount, (req.body as { resultCode?: string })?.resultCode ?? '00')
      return { callback, result: await payments.callback(callback) }
    })
  }
  /**
   * The caller's payment with this reference. A missing reference and one of a dossier the caller
   * may not read get the same answer, so references cannot be probed.
   */
  async function visiblePayment(p: Principal, reference: string) {
    const notFound = () => new AppError('PAYMENT_NOT_FOUND', `Không có yêu cầu thanh toán ${reference}`)
    const id = await payments.dossierIdOf(reference)
    if (!id) throw notFound()
    const rows = await payments.list(p, id).catch((err) => {
      if (err instanceof AppError && err.code === 'DOSSIER_NOT_FOUND') throw notFound()
      throw err
    })
    const row = rows.find((r) => r.reference === reference)
    if (!row) throw notFound()
    return row
  }
}

/** The platform's callback: no JWT, authenticated by its signature (MaXacThuc). */
export async function paymentCallbackRoutes(app: FastifyInstance, opts: { payments: PaymentService }) {
  app.post('/payments/callback', { schema: { tags: ['payments'], summary: 'Payment platform result callback (signed)', security: [], body: CallbackBody } }, async (req) => {
    return opts.payments.callback(req.body as PaymentCallback)
  })
}
