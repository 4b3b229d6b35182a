import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import type { TokenService } from '../auth/principal.ts'
import { authenticate } from '../auth/authenticate.ts'
import { isDatabaseUnavailable } from '../db/unavailable.ts'
import { AppError } from '../errors.ts'
import type { Api } from '../http/schemas.ts'
import type { ExternalTaskService } from './external-task.service.ts'
import {
  bpmnErrorSchema,
  completeSchema,
  engineRest,
  extendLockSchema,
  failureSchema,
  fetchSchema,
  getSchema,
  listSchema,
  unlockSchema,
} from './external-task.schemas.ts'

/** Aborted when the client goes away (a long poll stops waiting for nobody). */
function clientGone(req: FastifyRequest): AbortSignal {
  const ac = new AbortController()
  req.raw.on('close', () => ac.abort())
  return ac.signal
}

/** The external-task API under /api (JWT; role `worker` with its topics). */
export async function externalTaskRoutes(app: Api, opts: { externalTasks: ExternalTaskService }) {
  const s = opts.externalTasks
  app.post('/external-tasks/fetch-and-lock', { schema: fetchSchema }, async (req) =>
    s.fetchAndLock(req.principal, req.body, clientGone(req)),
  )
  app.post('/external-tasks/:id/complete', { schema: completeSchema }, async (req) => s.complete(req.principal, req.params.id, req.body))
  app.post('/external-tasks/:id/failure', { schema: failureSchema }, async (req) => s.failure(req.principal, req.params.id, req.body))
  app.post('/external-tasks/:id/bpmn-error', { schema: bpmnErrorSchema }, async (req) =>
    s.bpmnError(req.principal, req.params.id, req.body),
  )
  app.post('/external-tasks/:id/extend-lock', { schema: extendLockSchema }, async (req) =>
    s.extendLock(req.principal, req.params.id, req.body),
  )
  app.post('/external-tasks/:id/unlock', { schema: unlockSchema }, async (req) => s.unlock(req.principal, req.params.id))
  app.get('/external-tasks', { schema: listSchema }, async (req) => {
    const { cursor, ...q } = req.query
    return s.list(req.principal, { ...q, ...(cursor ? { cursor } : {}) })
  })
  app.get('/external-tasks/:id', { schema: getSchema }, async (req) => s.get(req.principal, req.params.id))
}

/** Camunda 7's error shape for the /engine-rest paths, which camunda-external-task-client-js reads. */
function camundaErrors(err: FastifyError | AppError | Error, req: FastifyRequest, reply: FastifyReply) {
  const send = (status: number, type: string, code: string, message: string) => reply.status(status).send({ type, message, code })
  if (err instanceof AppError) return send(err.status, err.status < 500 ? 'RestException' : 'ProcessEngineException', err.code, err.message)
  const fe = err as FastifyError
  if (fe.validation || (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500))
    return send(fe.statusCode ?? 400, 'InvalidRequestException', 'VALIDATION_FAILED', `Dữ liệu không hợp lệ: ${fe.message}`)
  if (isDatabaseUnavailable(err)) return send(503, 'ProcessEngineException', 'SERVICE_UNAVAILABLE', 'Hệ thống tạm thời gián đoạn')
  req.log.error({ err }, 'unhandled error')
  return send(500, 'ProcessEngineException', 'INTERNAL_ERROR', 'Lỗi hệ thống, vui lòng thử lại sau')
}

/**
 * The Camunda 7 REST paths camunda-external-task-client-js calls (base URL `…/engine-rest`), on the
 * same service: the same bearer JWT, Camunda's answers (204 without a body, `{type, message, code}` errors).
 */
export async function engineRestRoutes(app: Api, opts: { externalTasks: ExternalTaskService; tokens: TokenService }) {
  const s = opts.externalTasks
  app.addHook('onRequest', authenticate(opts.tokens))
  app.setErrorHandler(camundaErrors)
  // The client parses a body only when its content type is exactly `application/json` (Camunda's), without a charset.
  app.addHook('onSend', async (_req, reply, payload) => {
    if (String(reply.getHeader('content-type') ?? '').startsWith('application/json')) void reply.header('content-type', 'application/json')
    return payload
  })
  app.setNotFoundHandler((req, reply) =>
    reply
      .status(404)
      .header('content-type', 'application/json')
      .send({ type: 'RestException', code: 'ROUTE_NOT_FOUND', message: `Không có đường dẫn ${req.method} ${req.url}` }),
  )
  app.post('/external-task/fetchAndLock', { schema: engineRest.fetch }, async (req) => {
    return s.fetchAndLock(req.principal, req.body, clientGone(req))
  })
  const noContent = (reply: FastifyReply) => reply.status(204).send()
  app.post('/external-task/:id/complete', { schema: engineRest.complete }, async (req, reply) => {
    await s.complete(req.principal, req.params.id, req.body)
    return noContent(reply)
  })
  app.post('/external-task/:id/failure', { schema: engineRest.failure }, async (req, reply) => {
    await s.failure(req.principal, req.params.id, req.body)
    return noContent(reply)
  })
  app.post('/external-task/:id/bpmnError', { schema: engineRest.bpmnError }, async (req, reply) => {
    await s.bpmnError(req.principal, req.params.id, req.body)
    return noContent(reply)
  })
  app.post('/external-task/:id/extendLock', { schema: engineRest.extendLock }, async (req, reply) => {
    await s.extendLock(req.principal, req.params.id, req.body)
    return noContent(reply)
  })
  app.post('/external-task/:id/unlock', { schema: engineRest.unlock }, async (req, reply) => {
    await s.unlock(req.principal, req.params.id)
    return noContent(reply)
  })
}
