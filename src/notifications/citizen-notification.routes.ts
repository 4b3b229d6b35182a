import type { Api } from '../http/schemas.ts'
import type { CitizenNotificationRow } from './citizen-notification.repository.ts'
import { listCitizenNotificationsSchema, retryCitizenNotificationSchema } from './citizen-notification.schemas.ts'
import { maskAddress, type CitizenNotificationService } from './citizen-notification.service.ts'

const dto = (n: CitizenNotificationRow) => ({
  id: n.id,
  event: n.event,
  channel: n.channel,
  address: maskAddress(n.channel, n.address),
  state: n.state,
  attempts: n.attempts,
  retriesLeft: n.retries_left,
  nextAttemptAt: n.next_attempt_at,
  sentAt: n.sent_at,
  lastError: n.last_error,
  createdAt: n.created_at,
})

/** Messages to applicants (thông báo cho người nộp): what was sent, and a retry of what failed. */
export async function citizenNotificationRoutes(app: Api, opts: { citizenNotifications: CitizenNotificationService }) {
  app.get('/dossiers/:id/notifications', { schema: listCitizenNotificationsSchema }, async (req) => ({
    items: (await opts.citizenNotifications.list(req.principal, req.params.id)).map(dto),
  }))
  app.post('/citizen-notifications/:id/retry', { schema: retryCitizenNotificationSchema }, async (req) =>
    dto(await opts.citizenNotifications.retry(req.principal, req.params.id)),
  )
}
