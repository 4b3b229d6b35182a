import type { FastifyRequest } from 'fastify'
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from './signature.ts'
import type { Api } from '../http/schemas.ts'

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: string
  }
}

/**
 * For a scope of routes authenticated by a signature over the raw body (other systems' callbacks, peer
 * requests): keeps the body's text as `req.rawBody` beside the parsed JSON; unparsable JSON is a 400.
 */
export function keepRawJson(app: Api, bodyLimit?: number) {
  app.addContentTypeParser('application/json', { parseAs: 'string', ...(bodyLimit ? { bodyLimit } : {}) }, (req, body, done) => {
    req.rawBody = body as string
    try {
      done(null, JSON.parse(body as string))
    } catch (err) {
      ;(err as { statusCode?: number }).statusCode = 400
      done(err as Error, undefined)
    }
  })
}

/** The signed request's raw body and its timestamp and signature headers (absent when not one string). */
export function signedParts(req: FastifyRequest) {
  const header = (name: string) => (typeof req.headers[name] === 'string' ? (req.headers[name] as string) : undefined)
  return { raw: req.rawBody ?? '', headers: { timestamp: header(TIMESTAMP_HEADER), signature: header(SIGNATURE_HEADER) } }
}
