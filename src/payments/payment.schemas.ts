import { Type } from '@fastify/type-provider-typebox'
import {
  AUTH,
  errorResponses,
  IdParam,
  INPUT,
  JSON_BODY,
  NullableString,
  NullableTimestamp,
  OpenObject,
  STEP,
  Timestamp,
} from '../http/schemas.ts'

export const CallbackBody = Type.Object(
  {
    MaDoiTac: Type.String({ minLength: 1, maxLength: 64 }),
    MaThamChieu: Type.String({ minLength: 1, maxLength: 100 }),
    MaGiaoDich: Type.String({ minLength: 1, maxLength: 100 }),
    SoTien: Type.Integer({ minimum: 0, maximum: 1_000_000_000_000 }),
    MaKetQua: Type.String({ pattern: '^[0-9]{2}$' }),
    ThoiGianGD: Type.String({ pattern: '^[0-9]{14}$' }),
    MaXacThuc: Type.String({ minLength: 1, maxLength: 128 }),
  },
  { additionalProperties: false },
)

const Payment = Type.Object({
  reference: Type.String({ description: 'MaThamChieu' }),
  purpose: Type.Union([Type.Literal('fee'), Type.Literal('obligation')]),
  amount: Type.Number({ description: 'VND' }),
  status: Type.Union([Type.Literal('pending'), Type.Literal('paid'), Type.Literal('cancelled')]),
  createdAt: Timestamp,
  paidAt: NullableTimestamp,
  transactionId: NullableString,
  receiptNo: { ...NullableString, description: 'Số biên lai điện tử' },
})

const CallbackResult = Type.Object({
  result: Type.Union([Type.Literal('paid'), Type.Literal('duplicate'), Type.Literal('failed')]),
  reference: Type.String(),
  receiptNo: NullableString,
})

/** What a verified callback can still refuse, including the step it delivers to the waiting procedure. */
const CALLBACK_ERRORS = [
  'PAYMENT_NOT_FOUND',
  'PAYMENT_ALREADY_SETTLED',
  'PAYMENT_AMOUNT_MISMATCH',
  'DOSSIER_CLOSED',
  'NOT_WAITING_FOR_MESSAGE',
  STEP,
] as const

export const requestPaymentSchema = {
  tags: ['payments'],
  summary: 'Payment request for what the dossier owes now (fee or financial obligation); idempotent',
  params: IdParam,
  response: {
    201: Type.Object({ payment: Payment, init: OpenObject('The signed INIT message for the national payment platform') }),
    ...errorResponses(AUTH, INPUT, JSON_BODY, 'DOSSIER_NOT_FOUND', 'PAYMENT_NOT_DUE'),
  },
}

export const listPaymentsSchema = {
  tags: ['payments'],
  summary: 'Payments of a dossier with their e-receipt numbers',
  params: IdParam,
  response: { 200: Type.Object({ items: Type.Array(Payment) }), ...errorResponses(AUTH, INPUT, 'DOSSIER_NOT_FOUND') },
}

export const simulatePaymentSchema = {
  tags: ['payments'],
  summary: 'Local payment-gateway simulator (development and tests): pays and sends the signed callback',
  params: Type.Object({ reference: Type.String({ maxLength: 100 }) }),
  body: Type.Object({ resultCode: Type.Optional(Type.String({ pattern: '^[0-9]{2}$' })) }, { additionalProperties: false }),
  response: {
    200: Type.Object({ callback: CallbackBody, result: CallbackResult }),
    ...errorResponses(AUTH, INPUT, JSON_BODY, 'PAYMENT_SIGNATURE_INVALID', ...CALLBACK_ERRORS),
  },
}

export const paymentCallbackSchema = {
  tags: ['payments'],
  summary: 'Payment platform result callback (signed)',
  security: [],
  body: CallbackBody,
  response: { 200: CallbackResult, ...errorResponses(INPUT, JSON_BODY, 'PAYMENT_SIGNATURE_INVALID', ...CALLBACK_ERRORS) },
}
