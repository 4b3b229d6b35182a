import { isDeepStrictEqual } from 'node:util'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

const expected = new WeakMap<FastifyRequest, string>()

/** Turns the answer into a 500 that names the mismatch (never in production). */
function fail(req: FastifyRequest, reply: FastifyReply, message: string): string {
  req.log.error({ route: req.routeOptions.url, status: reply.statusCode }, message)
  reply.code(500).header('content-type', 'application/json; charset=utf-8')
  return JSON.stringify({
    error: { code: 'INTERNAL_ERROR', message: 'Lỗi hệ thống, vui lòng thử lại sau', details: { responseCheck: message } },
  })
}

/**
 * Outside production, every answer is checked against its route's documented responses (`/docs`):
 * - its status must be one the route declares, so the OpenAPI document lists every status it returns;
 * - a JSON answer is also written with plain `JSON.stringify` and the two must match, so a response
 *   schema never silently drops a field or turns a value into another type.
 * A failed check turns the answer into a 500 naming the mismatch. Tests exercise every route, so a
 * schema that falls behind its handler fails a test.
 */
export function checkResponseSchemas(app: FastifyInstance) {
  app.addHook('preSerialization', async (req, _reply, payload) => {
    expected.set(req, JSON.stringify(payload))
    return payload
  })
  app.addHook('onSend', async (req, reply, payload) => {
    const plain = expected.get(req)
    expected.delete(req)
    const declared = req.routeOptions.schema?.response as Record<string, unknown> | undefined
    const status = String(reply.statusCode)
    if (declared && !(status in declared) && !(`${status[0]}XX` in declared) && status !== '500') {
      return fail(
        req,
        reply,
        `${req.method} ${req.routeOptions.url} answered ${status}, which its schema does not declare (${Object.keys(declared).join(', ')})`,
      )
    }
    if (plain === undefined || typeof payload !== 'string') return payload
    if (!isDeepStrictEqual(JSON.parse(payload), JSON.parse(plain))) {
      return fail(
        req,
        reply,
        `the response schema of ${req.method} ${req.routeOptions.url} (${status}) changes the answer: handler ${plain.slice(0, 2000)} → sent ${payload.slice(0, 2000)}`,
      )
    }
    return payload
  })
}
