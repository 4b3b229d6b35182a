import { timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type } from '@fastify/type-provider-typebox'
import type { TokenService } from '../auth/principal.ts'
import { authorize } from '../auth/policy.ts'
import { AppError } from '../errors.ts'
import { AUTH, errorResponses } from '../http/schemas.ts'
import { requestFacts, type Metrics, type RequestFacts } from './metrics.ts'

const metricsSchema = {
  tags: ['system'],
  summary: 'Prometheus metrics (text exposition format): an admin JWT, or the METRICS_TOKEN scrape token, as a bearer token',
  response: {
    200: { description: 'Prometheus text format', content: { 'text/plain': { schema: Type.String() } } },
    ...errorResponses(AUTH, 'FORBIDDEN'),
  },
}

/** Log levels at which Fastify's "request completed" line (info) is not written. */
const ABOVE_INFO = new Set(['warn', 'error', 'fatal', 'silent'])

const sameSecret = (a: string, b: string) => {
  const x = Buffer.from(a),
    y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

/**
 * Request facts, latency and `/metrics`, on the root instance (every route): each request runs with its
 * own facts (the procedure and dossier its step ran for, the task of a task route), which label its
 * latency and are added to its log lines (the request id is Fastify's `reqId`).
 */
export function registerMetrics(app: FastifyInstance, opts: { metrics: Metrics; tokens: TokenService; scrapeToken?: string }) {
  app.addHook('onRequest', (_req, _reply, done) => requestFacts.run({}, done))
  app.addHook('preHandler', async (req: FastifyRequest) => {
    const id = (req.params as { id?: unknown } | undefined)?.id
    if (typeof id === 'string' && req.routeOptions.url?.startsWith('/api/tasks/:id')) {
      const facts = requestFacts.getStore()
      if (facts) facts.taskId = id
      req.log = req.log.child({ taskId: id })
    }
  })
  app.addHook('onSend', async (_req, reply, payload) => {
    // Above info (LOG_LEVEL=warn) that line is not written: a child logger would cost every request for nothing.
    if (ABOVE_INFO.has(reply.log.level)) return payload
    const facts: RequestFacts = requestFacts.getStore() ?? {}
    const bindings = Object.fromEntries(Object.entries(facts).filter(([, v]) => v !== undefined))
    // Fastify's "request completed" line is written with reply.log once the reply is sent.
    if (Object.keys(bindings).length) reply.log = reply.log.child(bindings)
    return payload
  })
  app.addHook('onResponse', async (req, reply) => {
    opts.metrics.observeRequest({
      method: req.method,
      route: req.routeOptions.url ?? 'unmatched',
      statusCode: reply.statusCode,
      procedure: requestFacts.getStore()?.procedure,
      seconds: reply.elapsedTime / 1000,
    })
  })

  app.get('/metrics', { schema: metricsSchema }, async (req, reply) => {
    const header = req.headers.authorization
    if (!header || !/^Bearer\s+\S+$/i.test(header))
      throw new AppError('UNAUTHENTICATED', 'Thiếu bearer token (Authorization: Bearer <JWT hoặc METRICS_TOKEN>)')
    const token = header.replace(/^Bearer\s+/i, '')
    if (!(opts.scrapeToken && sameSecret(token, opts.scrapeToken))) {
      const principal = await opts.tokens.verify(token)
      authorize('metrics.read', principal, { agency: principal.agency })
    }
    return reply.header('content-type', opts.metrics.contentType).send(await opts.metrics.render())
  })
}
