import { Type } from '@fastify/type-provider-typebox'
import { AUTH, errorResponses, IdParam, INPUT, JSON_BODY, NullableString, NullableTimestamp, Timestamp } from '../http/schemas.ts'
import { CITIZEN_EVENTS, type CitizenEvent } from './citizen-templates.ts'

export const CitizenNotification = Type.Object({
  id: Type.String({ format: 'uuid' }),
  event: Type.Unsafe<CitizenEvent>({
    type: 'string',
    enum: [...CITIZEN_EVENTS],
    description: 'The template: receipt, supplement_request, result_ready, apology (Mẫu 04), payment_request',
  }),
  channel: Type.Union([Type.Literal('email'), Type.Literal('sms'), Type.Literal('webhook'), Type.Literal('none')]),
  address: Type.Union([Type.String(), Type.Null()], { description: 'Masked (ng***@example.com, *******567); null for channel none' }),
  state: Type.Union([Type.Literal('pending'), Type.Literal('sent'), Type.Literal('failed'), Type.Literal('no_address')]),
  attempts: Type.Integer(),
  retriesLeft: Type.Integer(),
  nextAttemptAt: NullableTimestamp,
  sentAt: NullableTimestamp,
  lastError: NullableString,
  createdAt: Timestamp,
})

export const listCitizenNotificationsSchema = {
  tags: ['notifications'],
  summary: 'What was sent to the applicant of a dossier (email, SMS, webhook), oldest first',
  params: IdParam,
  response: {
    200: Type.Object({ items: Type.Array(CitizenNotification) }),
    ...errorResponses(AUTH, INPUT, 'DOSSIER_NOT_FOUND'),
  },
}

export const retryCitizenNotificationSchema = {
  tags: ['notifications'],
  summary: 'Send a failed notification again (with a fresh set of retries)',
  params: IdParam,
  response: {
    200: CitizenNotification,
    ...errorResponses(AUTH, INPUT, JSON_BODY, 'FORBIDDEN', 'NOTIFICATION_NOT_FOUND', 'NOTIFICATION_NOT_RETRYABLE'),
  },
}
