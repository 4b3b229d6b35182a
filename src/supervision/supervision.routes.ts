import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { dossierDto } from '../dossiers/dossier.routes.ts'
import type { SupervisionService } from './supervision.service.ts'
import type { Db } from '../db/knex.ts'
import { computeIndicators } from './indicators.ts'

const DeadlineQuery = Type.Object({
  state: Type.Union([Type.Literal('overdue'), Type.Literal('due_soon'), Type.Literal('all')], { default: 'overdue' }),
  procedureCode: Type.Optional(Type.String({ maxLength: 64 })),
  agency: Type.Optional(Type.String({ maxLength: 100 })),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  cursor: Type.Optional(Type.String({ maxLength: 300 })),
}, { additionalProperties: false })

export async function supervisionRoutes(app: FastifyInstance, opts: { supervision: SupervisionService; db: Db }) {
  app.get('/supervision/indicators', {
    schema: {
      tags: ['supervision'],
      summary: 'Decision 766 indicators for a period: on-time rate, online dossiers, level-4 procedures, paid online, electronic results, digitised, satisfaction',
      querystring: Type.Object({ from: Type.String({ format: 'date' }), to: Type.String({ format: 'date' }), agency: Type.Optional(Type.String({ maxLength: 100 })) }, { additionalProperties: false }),
    },
  }, async (req) => computeIndicators(opts.db, req.principal, req.query as { from: string; to: string; agency?: string }))

  app.get('/supervision/deadlines', {
    schema: { tags: ['supervision'], summary: 'Unfinished dossiers overdue (quá hạn) or due soon (sắp đến hạn), earliest appointment first', querystring: DeadlineQuery },
  }, async (req) => {
    const q = req.query as { state: 'overdue' | 'due_soon' | 'all'; procedureCode?: string; agency?: string; limit: number; cursor?: string }
    const states = q.state === 'all' ? ['overdue', 'due_soon'] : [q.state]
    const page = await opts.supervision.deadlines(req.principal, { ...q, states })
    return {
      items: page.items.map((i) => ({ ...dossierDto(i.dossier), workingMinutesLeft: Math.round(i.workingMinutesLeft), openTasks: i.openTasks })),
      nextCursor: page.nextCursor,
    }
  })
}
