import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { isDatabaseUnavailable } from '../db/unavailable.ts'
import { AppError } from '../errors.ts'
import { VARIABLES_KEYWORD } from '../validation/input-rules.ts'

/** Seconds a client should wait before retrying during an outage. */
const RETRY_AFTER_SECONDS = 5

const FASTIFY_CODES: Record<string, { status: number; code: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'PAYLOAD_TOO_LARGE' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'VALIDATION_FAILED' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'VALIDATION_FAILED' },
  FST_ERR_CTP_EMPTY_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
}

/** One error shape for every 4xx/5xx: `{ error: { code, message, details? } }`. 5xx details stay in the log. */
export function errorHandler(err: FastifyError | AppError | Error, req: FastifyRequest, reply: FastifyReply) {
  if (err instanceof AppError) {
    return reply
      .status(err.status)
      .send({ error: { code: err.code, message: err.message, ...(err.details !== undefined ? { details: err.details } : {}) } })
  }
  const fe = err as FastifyError
  if (fe.validation) {
    const code = fe.validation.some((v) => v.keyword === VARIABLES_KEYWORD) ? 'INPUT_LIMIT_EXCEEDED' : 'VALIDATION_FAILED'
    return reply.status(400).send({
      error: {
        code,
        message: `Dữ liệu không hợp lệ: ${fe.message}`,
        details: fe.validation.map((v) => ({
          path: v.instancePath || v.params?.missingProperty || '',
          message: v.message,
          ...(v.keyword === VARIABLES_KEYWORD ? { limit: v.params } : {}),
        })),
      },
    })
  }
  const mapped = fe.code ? FASTIFY_CODES[fe.code] : undefined
  if (mapped) return reply.status(mapped.status).send({ error: { code: mapped.code, message: fe.message } })
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    const code = fe instanceof SyntaxError || /JSON/.test(fe.message) ? 'VALIDATION_FAILED' : 'BAD_REQUEST'
    return reply.status(fe.statusCode).send({ error: { code, message: fe.message } })
  }
  if (isDatabaseUnavailable(err)) {
    req.log.warn({ err }, 'database unavailable')
    return reply
      .status(503)
      .header('retry-after', String(RETRY_AFTER_SECONDS))
      .send({ error: { code: 'SERVICE_UNAVAILABLE', message: 'Hệ thống tạm thời gián đoạn, vui lòng thử lại sau ít phút' } })
  }
  req.log.error({ err }, 'unhandled error')
  return reply.status(500).send({ error: { code: 'INTERNAL_ERROR', message: 'Lỗi hệ thống, vui lòng thử lại sau' } })
}
