import { AppError } from '../errors.ts'
import type { Api } from '../http/schemas.ts'
import { SubmitBody } from '../dossiers/dossier.schemas.ts'
import { VARIABLES_KEYWORD } from '../validation/input-rules.ts'
import { correlateSchema, signalSchema } from './message.schemas.ts'
import type { MessageService } from './message.service.ts'

/** Messages and signals from outside to waiting process instances (Camunda 7 `/message`, `/signal`). */
export async function messageRoutes(app: Api, opts: { messages: MessageService }) {
  app.post('/messages', { schema: correlateSchema }, async (req) =>
    opts.messages.correlate(req.principal, req.body, (body) => {
      // A dossier started by a message is checked by POST /api/dossiers' own schema and validator.
      const validate = req.compileValidationSchema(SubmitBody, 'body')
      if (validate(body)) return
      const errors = validate.errors ?? []
      const limit = errors.some((e) => e.keyword === VARIABLES_KEYWORD)
      const where = (e: (typeof errors)[number]) =>
        `/processVariables${e.instancePath.replace(/^\/data(?=\/|$)/, '')}${e.params?.missingProperty ? `/${String(e.params.missingProperty)}` : ''}`
      throw new AppError(
        limit ? 'INPUT_LIMIT_EXCEEDED' : 'VALIDATION_FAILED',
        `Dữ liệu hồ sơ không hợp lệ: ${errors.map((e) => `${where(e)} ${e.message ?? ''}`).join('; ')}`,
        errors.map((e) => ({ path: where(e), message: e.message })),
      )
    }),
  )
  app.post('/signals', { schema: signalSchema }, async (req) => opts.messages.signal(req.principal, req.body))
}
