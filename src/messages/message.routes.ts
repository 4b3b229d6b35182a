import type { Api } from '../http/schemas.ts'
import { correlateSchema } from './message.schemas.ts'
import type { MessageService } from './message.service.ts'

/** Messages from outside to waiting process instances (Camunda 7 `/message`). */
export async function messageRoutes(app: Api, opts: { messages: MessageService }) {
  app.post('/messages', { schema: correlateSchema }, async (req) => opts.messages.correlate(req.principal, req.body))
}
