import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { requireRole } from '../auth/authenticate.ts'
import { variablesLimits } from '../validation/input-rules.ts'
import { taskDto } from './task.dto.ts'
import { decodeCursor, type TaskService } from './task.service.ts'

const IdParam = Type.Object({ id: Type.String({ format: 'uuid' }) })

const ListQuery = Type.Object({
  candidateGroup: Type.Optional(Type.String({ maxLength: 100 })),
  assignee: Type.Optional(Type.String({ maxLength: 100 })),
  unassigned: Type.Optional(Type.Boolean()),
  procedureCode: Type.Optional(Type.String({ maxLength: 64 })),
  dossierId: Type.Optional(Type.String({ format: 'uuid' })),
  dueBefore: Type.Optional(Type.String({ format: 'date-time' })),
  dueAfter: Type.Optional(Type.String({ format: 'date-time' })),
  status: Type.Union([Type.Literal('open'), Type.Literal('completed'), Type.Literal('cancelled')], { default: 'open' }),
  sortBy: Type.Union([Type.Literal('created'), Type.Literal('due')], { default: 'created' }),
  sortOrder: Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'asc' }),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  cursor: Type.Optional(Type.String({ maxLength: 300 })),
}, { additionalProperties: false })

const CompleteBody = Type.Object({
  variables: Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' }), Type.Unknown(), { default: {}, ...variablesLimits }),
}, { additionalProperties: false })

/** Officers' task queues, in Camunda's REST style: list, claim, unclaim, complete. */
export async function taskRoutes(app: FastifyInstance, opts: { tasks: TaskService }) {
  const { tasks } = opts

  app.get('/tasks', { schema: { tags: ['tasks'], summary: 'Task queue, cursor-paginated', querystring: ListQuery } }, async (req) => {
    const q = req.query as any
    const page = await tasks.list(req.principal, {
      ...q,
      dueBefore: q.dueBefore ? new Date(q.dueBefore) : undefined,
      dueAfter: q.dueAfter ? new Date(q.dueAfter) : undefined,
      after: q.cursor ? decodeCursor(q.cursor) : undefined,
    })
    return { items: page.items.map(taskDto), nextCursor: page.nextCursor }
  })

  app.get('/tasks/:id', { schema: { tags: ['tasks'], params: IdParam } }, async (req) => {
    return taskDto(await tasks.get(req.principal, (req.params as { id: string }).id))
  })

  app.post('/tasks/:id/claim', { schema: { tags: ['tasks'], params: IdParam } }, async (req) => {
    requireRole(req, 'officer', 'supervisor', 'admin')
    return taskDto(await tasks.claim(req.principal, (req.params as { id: string }).id))
  })

  app.post('/tasks/:id/unclaim', { schema: { tags: ['tasks'], params: IdParam } }, async (req) => {
    requireRole(req, 'officer', 'supervisor', 'admin')
    return taskDto(await tasks.unclaim(req.principal, (req.params as { id: string }).id))
  })

  app.post('/tasks/:id/complete', {
    schema: { tags: ['tasks'], summary: 'Complete a task with variables; returns the dossier\'s next open tasks', params: IdParam, body: CompleteBody },
    // An empty POST means "no variables".
    preValidation: async (req) => { if (req.body === undefined || req.body === null) req.body = {} },
  }, async (req) => {
    requireRole(req, 'officer', 'supervisor', 'admin')
    const body = (req.body ?? { variables: {} }) as { variables: Record<string, unknown> }
    const r = await tasks.complete(req.principal, (req.params as { id: string }).id, body.variables ?? {})
    return { dossierId: r.dossierId, dossierStatus: r.dossierStatus, processEnded: r.processEnded, nextTasks: r.nextTasks.map(taskDto) }
  })
}
