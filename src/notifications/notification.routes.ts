import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { NotificationRow } from './notification.repository.ts'
import type { NotificationService } from './notification.service.ts'

const ListQuery = Type.Object({
  dossierId: Type.Optional(Type.String({ format: 'uuid' })),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  cursor: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,17}$' })),
}, { additionalProperties: false })

const dto = (n: NotificationRow) => ({ id: String(n.id), kind: n.kind, message: n.message, dossierId: n.dossier_id, taskId: n.task_id, groups: n.groups, userId: n.user_id, createdAt: n.created_at })

export async function notificationRoutes(app: FastifyInstance, opts: { notifications: NotificationService }) {
  app.get('/notifications', { schema: { tags: ['notifications'], summary: 'The caller\'s deadline notifications, newest first', querystring: ListQuery } }, async (req) => {
    const q = req.query as { dossierId?: string; limit: number; cursor?: string }
    const page = await opts.notifications.list(req.principal, { dossierId: q.dossierId, limit: q.limit, beforeId: q.cursor ? Number(q.cursor) : undefined })
    return { items: page.items.map(dto), nextCursor: page.nextCursor }
  })
}
