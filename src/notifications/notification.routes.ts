import type { Api } from '../http/schemas.ts'
import type { NotificationRow } from './notification.repository.ts'
import { listNotificationsSchema } from './notification.schemas.ts'
import type { NotificationService } from './notification.service.ts'

const dto = (n: NotificationRow) => ({
  id: String(n.id),
  kind: n.kind,
  message: n.message,
  dossierId: n.dossier_id,
  taskId: n.task_id,
  groups: n.groups,
  userId: n.user_id,
  createdAt: n.created_at,
})

export async function notificationRoutes(app: Api, opts: { notifications: NotificationService }) {
  app.get('/notifications', { schema: listNotificationsSchema }, async (req) => {
    const { dossierId, limit, cursor } = req.query
    const page = await opts.notifications.list(req.principal, { dossierId, limit, beforeId: cursor ? Number(cursor) : undefined })
    return { items: page.items.map(dto), nextCursor: page.nextCursor }
  })
}
