import { AppError } from '../errors.ts'
import type { Api } from '../http/schemas.ts'
import { taskDto } from '../tasks/task.dto.ts'
import { ACTION_BODIES, isLifecycleAction } from './actions.ts'
import { actSchema, availableActionsSchema, stopSchema, supplementSchema, withdrawSchema } from './lifecycle.schemas.ts'
import type { LifecycleService } from './lifecycle.service.ts'

/** Lifecycle actions on a dossier (thao tác nghiệp vụ một cửa). */
export async function lifecycleRoutes(app: Api, opts: { lifecycle: LifecycleService }) {
  const { lifecycle } = opts

  app.get('/dossiers/:id/actions', { schema: availableActionsSchema }, async (req) => {
    return { items: await lifecycle.available(req.principal, req.params.id) }
  })

  app.post('/dossiers/:id/actions/:action', { schema: actSchema }, async (req) => {
    const { id, action } = req.params
    if (!isLifecycleAction(action))
      throw new AppError('ROUTE_NOT_FOUND', `Không có thao tác "${action}"; các thao tác: ${Object.keys(ACTION_BODIES).join(', ')}`)
    const r = await lifecycle.act(req.principal, id, action, req.body)
    return { dossierId: r.dossierId, dossierStatus: r.dossierStatus, processEnded: r.processEnded, nextTasks: r.nextTasks.map(taskDto) }
  })

  app.post('/dossiers/:id/supplement', { schema: supplementSchema }, async (req) => {
    const r = await lifecycle.submitSupplement(req.principal, req.params.id, req.body)
    return { dossierId: r.dossierId, dossierStatus: r.dossierStatus, nextTasks: r.nextTasks.map(taskDto) }
  })

  app.post('/dossiers/:id/withdraw', { schema: withdrawSchema }, async (req) => {
    return lifecycle.end(req.principal, req.params.id, 'withdraw', req.body.reason, { requestDocumentId: req.body.requestDocumentId })
  })

  app.post('/dossiers/:id/stop', { schema: stopSchema }, async (req) => {
    return lifecycle.end(req.principal, req.params.id, 'stop', req.body.reason)
  })
}
