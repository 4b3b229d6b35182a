import { AppError } from '../errors.ts'
import type { Principal } from '../auth/principal.ts'
import type { Api } from '../http/schemas.ts'
import type { PaymentService } from './payment.service.ts'
import { listPaymentsSchema, paymentCallbackSchema, requestPaymentSchema, simulatePaymentSchema } from './payment.schemas.ts'

/** Payments for citizens and officers (under /api, with a JWT). */
export async function paymentRoutes(app: Api, opts: { payments: PaymentService; simulator: boolean }) {
  const { payments } = opts
  app.post('/dossiers/:id/payments', { schema: requestPaymentSchema }, async (req, reply) => {
    return reply.status(201).send(await payments.request(req.principal, req.params.id))
  })
  app.get('/dossiers/:id/payments', { schema: listPaymentsSchema }, async (req) => {
    return { items: await payments.list(req.principal, req.params.id) }
  })
  if (opts.simulator) {
    app.post('/payment-simulator/:reference/pay', { schema: simulatePaymentSchema }, async (req) => {
      const { reference } = req.params
      const row = await visiblePayment(req.principal, reference)
      const callback = payments.simulatedCallback(reference, row.amount, req.body?.resultCode ?? '00')
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
export async function paymentCallbackRoutes(app: Api, opts: { payments: PaymentService }) {
  app.post('/payments/callback', { schema: paymentCallbackSchema }, async (req) => {
    return opts.payments.callback(req.body)
  })
}
