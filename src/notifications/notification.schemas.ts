import { Type } from '@fastify/type-provider-typebox'
import { AUTH, errorResponses, INPUT, NullableString, Timestamp } from '../http/schemas.ts'

const Notification = Type.Object({
  id: Type.String(),
  kind: Type.String({ description: 'deadline.due_soon, deadline.overdue, …' }),
  message: Type.String(),
  dossierId: Type.String({ format: 'uuid' }),
  taskId: NullableString,
  groups: Type.Array(Type.String()),
  userId: NullableString,
  createdAt: Timestamp,
})

export const listNotificationsSchema = {
  tags: ['notifications'],
  summary: "The caller's deadline notifications, newest first",
  querystring: Type.Object(
    {
      dossierId: Type.Optional(Type.String({ format: 'uuid' })),
      limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
      cursor: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,17}$' })),
    },
    { additionalProperties: false },
  ),
  response: {
    200: Type.Object({ items: Type.Array(Notification), nextCursor: NullableString }),
    ...errorResponses(AUTH, INPUT, 'FORBIDDEN'),
  },
}
