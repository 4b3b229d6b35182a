import { dossierDto } from '../dossiers/dossier.routes.ts'
import type { Api } from '../http/schemas.ts'
import { boardRoutes } from './board.routes.ts'
import { deadlinesSchema, indicatorsSchema } from './supervision.schemas.ts'
import type { SupervisionService } from './supervision.service.ts'

export async function supervisionRoutes(app: Api, opts: { supervision: SupervisionService }) {
  app.get('/supervision/indicators', { schema: indicatorsSchema }, async (req) => opts.supervision.indicators(req.principal, req.query))

  app.get('/supervision/deadlines', { schema: deadlinesSchema }, async (req) => {
    const q = req.query
    const page = await opts.supervision.deadlines(req.principal, { ...q, states: q.state === 'all' ? ['overdue', 'due_soon'] : [q.state] })
    return {
      items: page.items.map((i) => ({
        ...dossierDto(i.dossier),
        workingMinutesLeft: Math.round(i.workingMinutesLeft),
        openTasks: i.openTasks,
      })),
      nextCursor: page.nextCursor,
    }
  })

  boardRoutes(app, { board: opts.supervision.board, supervision: opts.supervision })
}
