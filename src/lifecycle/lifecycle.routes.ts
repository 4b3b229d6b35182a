import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { AppError } from '../errors.ts'
import { taskDto } from '../tasks/task.dto.ts'
import { ACTION_BODIES, isLifecycleAction } from './actions.ts'
import type { LifecycleService } from './lifecycle.service.ts'

const IdParam = Type.Object({ id: Type.String({ format: 'uuid' }) })
const Reason = Type.Object({ reason: Type.String({ minLength: 5, maxLength: 2000 }) }, { additionalProperties: false })

/** Lifecycle actions on a dossier (thao tác nghiệp vụ một cửa). */
export async function lifecycleRoutes(app: FastifyInstance, opts: { lifecycle: LifecycleService }) {
  const { lifecycle } = opts

  app.get('/dossiers/:id/actions', { schema: { tags: ['lifecycle'], summary: 'Actions the caller can take on the dossier now', params: IdParam } }, async (req) => {
    return { items: await lifecycle.available(req.principal, (req.params as { id: string }).id) }
  })

  app.post('/dossiers/:id/actions/:action', {
    schema: {
      tags: ['lifecycle'],
      summary: `Lifecycle action: ${Object.keys(ACTION_BODIES).join(', ')}. Completes the open task that offers it.`,
      params: Type.Object({ id: Type.String({ format: 'uuid' }), action: Type.String({ maxLength: 64 }) }),
    },
  }, async (req) => {
    const { id, action } = req.params as { id: string; action: string }
    if (!isLifecycleAction(action)) throw new AppError('ROUTE_NOT_FOUND', `Không có thao tác "${action}"; các thao tác: ${Object.keys(ACTION_BODIES).join(', ')}`)
    const r = await lifecycle.act(req.principal, id, action, req.body)
    return { dossierId: r.dossierId, dossierStatus: r.dossierStatus, processEnded: r.processEnded, nextTasks: r.nextTasks.map(taskDto) }
  })

  app.post('/dossiers/:id/supplement', {
    schema: {
      tags: ['lifecycle'],
      summary: 'The applicant hands in the requested items (nộp bổ sung hồ sơ)',
      params: IdParam,
      body: Type.Object({ note: Type.Optional(Type.String({ maxLength: 2000 })), documentIds: Type.Optional(Type.Array(Type.String({ format: 'uuid' }), { maxItems: 50, uniqueItems: true })) }, { additionalProperties: false }),
    },
  }, async (req) => {
    const r = await lifecycle.submitSupplement(req.principal, (req.params as { id: string }).id, req.body as { note?: string; documentIds?: string[] })
    return { dossierId: r.dossierId, dossierStatus: r.dossierStatus, nextTasks: r.nextTasks.map(taskDto) }
  })

  app.post('/dossiers/:id/withdraw', {
    schema: {
      tags: ['lifecycle'],
      summary: "Withdrawal (rút hồ sơ, status 7): by the applicant, or by a one-stop officer with the applicant's written request uploaded to the dossier (requestDocumentId)",
      params: IdParam,
      body: Type.Object({ reason: Type.String({ minLength: 5, maxLength: 2000 }), requestDocumentId: Type.Optional(Type.String({ format: 'uuid' })) }, { additionalProperties: false }),
    },
  }, async (req) => {
    const body = req.body as { reason: string; requestDocumentId?: string }
    return lifecycle.end(req.principal, (req.params as { id: string }).id, 'withdraw', body.reason, { requestDocumentId: body.requestDocumentId })
  })

  app.post('/dossiers/:id/stop', { schema: { tags: ['lifecycle'], summary: 'Stop the processing (dừng xử lý, status 8): leaders and supervisors', params: IdParam, body: Reason } }, async (req) => {
    return lifecycle.end(req.principal, (req.params as { id: string }).id, 'stop', (req.body as { reason: string }).reason)
  })
}
