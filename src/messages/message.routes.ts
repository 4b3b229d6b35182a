import type { Api } from '../http/schemas.ts'
import { correlateSchema, signalSchema } from './message.schemas.ts'
import type { MessageService } from './message.service.ts'

/** Messages and signals from outside to waiting process instances (Camunda 7 `/message`, `/signal`). */
export async function messageRoutes(app: Api, opts: { messages: MessageService }) {
  app.post('/messages', { schema: correlateSchema }, async (req) => opts.messages.correlate(req.principal, req.body))
  app.post('/signals', { schema: signalSchema }, async (req) => opts.messages.signal(req.principal, req.body))
}
