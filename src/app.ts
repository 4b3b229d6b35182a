import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { Logger } from 'pino'
import type { TokenService } from './auth/principal.ts'
import type { Config } from './config.ts'
import { peerRoutes } from './peers/peer.routes.ts'
import { calendarRoutes } from './calendar/calendar.routes.ts'
import { dossierRoutes } from './dossiers/dossier.routes.ts'
import { procedureRoutes } from './procedures/procedure.routes.ts'
import { taskRoutes } from './tasks/task.routes.ts'
import { documentRoutes } from './documents/document.routes.ts'
import { formRoutes } from './forms/form.routes.ts'
import { evaluationRoutes } from './evaluations/evaluation.routes.ts'
import { lookupRoutes } from './public/lookup.routes.ts'
import { citizenNotificationRoutes } from './notifications/citizen-notification.routes.ts'
import { lifecycleRoutes } from './lifecycle/lifecycle.routes.ts'
import { paymentCallbackRoutes, paymentRoutes } from './payments/payment.routes.ts'
import { notificationRoutes } from './notifications/notification.routes.ts'
import { supervisionRoutes } from './supervision/supervision.routes.ts'
import { messageRoutes } from './messages/message.routes.ts'
import { consoleRoutes } from './console/console.routes.ts'
import { instanceVariablesRoutes } from './instances/instance-variables.routes.ts'
import { handoffCallbackRoutes, incidentRoutes } from './handoffs/handoff.routes.ts'
import { postalTrackingRoutes } from './handoffs/postal.routes.ts'
import { engineRestRoutes, externalTaskRoutes } from './handoffs/external-task.routes.ts'
import type { System } from './system.ts'
import { authenticate } from './auth/authenticate.ts'
import { errorHandler } from './http/errors.ts'
import { ajvInputRules, checkInputs, type AjvLike } from './validation/input-rules.ts'
import { checkResponseSchemas } from './http/response-check.ts'
import { healthSchema, liveSchema, readySchema } from './http/health.schemas.ts'
import { createMetrics, type Metrics } from './metrics/metrics.ts'
import { registerMetrics } from './metrics/metrics.routes.ts'

const XML_TYPES = ['application/xml', 'text/xml', 'application/bpmn+xml']

/** The Fastify application: edge only (validation, auth, mapping); behaviour lives in the services. */
export async function buildApp(deps: {
  config: Config
  log: Logger
  tokens: TokenService
  system: System
  health: () => Promise<Record<string, string>>
  /** Prometheus metrics (main.ts passes them with the BullMQ queues); default: without queue figures. */
  metrics?: Metrics
}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log as unknown as FastifyBaseLogger,
    // JSON bodies; BPMN uploads (XML parser below) and documents keep their own, larger limits.
    bodyLimit: deps.config.jsonBodyLimit,
    ajv: {
      customOptions: { coerceTypes: 'array', removeAdditional: false, useDefaults: true, allErrors: false },
      onCreate: (ajv) => ajvInputRules(ajv as unknown as AjvLike),
    },
  })
  app.setErrorHandler(errorHandler)
  app.addHook('preHandler', checkInputs)
  if (deps.config.env !== 'production') checkResponseSchemas(app)
  app.setNotFoundHandler((req, reply) =>
    reply.status(404).send({ error: { code: 'ROUTE_NOT_FOUND', message: `Không có đường dẫn ${req.method} ${req.url}` } }),
  )
  app.addContentTypeParser(XML_TYPES, { parseAs: 'string', bodyLimit: deps.config.bodyLimit }, (_req, body, done) => done(null, body))

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Dịch vụ công BPMN API',
        version: '1.0.0',
        description: "Procedures as BPMN, dossiers, officers' task queues. Every /api route needs a bearer JWT.",
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
    },
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })

  // Liveness: the process answers. Readiness: it can serve requests (Postgres reachable; without Redis it
  // serves and the outbox holds jobs, reported as degraded). `/health`: every service is up.
  app.get('/health/live', { schema: liveSchema }, async () => ({ status: 'ok' }))
  app.get('/health/ready', { schema: readySchema }, async (_req, reply) => {
    const checks = await deps.health()
    const ready = checks.postgres === 'ok'
    const all = Object.values(checks).every((v) => v === 'ok')
    return reply.status(ready ? 200 : 503).send({ status: all ? 'ok' : ready ? 'degraded' : 'unavailable', checks })
  })
  app.get('/health', { schema: healthSchema }, async (_req, reply) => {
    const checks = await deps.health()
    const ok = Object.values(checks).every((v) => v === 'ok')
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'degraded', checks })
  })

  await app.register(consoleRoutes, { production: deps.config.env === 'production', tokens: deps.tokens })
  registerMetrics(app, {
    metrics: deps.metrics ?? createMetrics({ db: deps.system.db, clock: deps.system.clock }),
    tokens: deps.tokens,
    scrapeToken: deps.config.metricsToken,
  })

  await app.register(paymentCallbackRoutes, { payments: deps.system.payments })
  await app.register(handoffCallbackRoutes, { callbacks: deps.system.handoffCallbacks })
  await app.register(postalTrackingRoutes, { tracking: deps.system.postalTracking })
  await app.register(peerRoutes, { intake: deps.system.peerIntake, bodyLimit: deps.config.bodyLimit })
  await app.register(engineRestRoutes, { prefix: '/engine-rest', externalTasks: deps.system.externalTasks, tokens: deps.tokens })
  app.addHook('onClose', () => deps.system.fetchWake.close())
  await app.register(lookupRoutes, { lookup: deps.system.lookup, clock: deps.system.clock, perMinute: deps.config.lookupRatePerMinute })

  await app.register(
    async (api) => {
      api.addHook('onRequest', authenticate(deps.tokens))
      await api.register(procedureRoutes, { procedures: deps.system.procedures })
      await api.register(dossierRoutes, { dossiers: deps.system.dossiers, extensions: deps.system.extensions })
      await api.register(taskRoutes, { tasks: deps.system.tasks, queue: deps.system.taskQueue })
      await api.register(lifecycleRoutes, { lifecycle: deps.system.lifecycle })
      await api.register(documentRoutes, { documents: deps.system.documents, maxBytes: deps.config.maxDocumentBytes })
      await api.register(formRoutes, { forms: deps.system.forms })
      await api.register(evaluationRoutes, { evaluations: deps.system.evaluations })
      await api.register(paymentRoutes, { payments: deps.system.payments, simulator: deps.config.paymentSimulator })
      await api.register(calendarRoutes, { calendar: deps.system.calendar })
      await api.register(notificationRoutes, { notifications: deps.system.notifications })
      await api.register(citizenNotificationRoutes, { citizenNotifications: deps.system.citizenNotifications })
      await api.register(supervisionRoutes, { supervision: deps.system.supervision })
      await api.register(messageRoutes, { messages: deps.system.messages })
      await api.register(instanceVariablesRoutes, { variables: deps.system.instanceVariables })
      await api.register(incidentRoutes, { incidents: deps.system.incidents, views: deps.system.handoffViews })
      await api.register(externalTaskRoutes, { externalTasks: deps.system.externalTasks })
    },
    { prefix: '/api' },
  )

  return app
}
