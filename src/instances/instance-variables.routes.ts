import type { Api } from '../http/schemas.ts'
import { modifyVariablesSchema } from './instance-variables.schemas.ts'
import type { InstanceVariablesService } from './instance-variables.service.ts'

/** Process instance variables from outside (Camunda 7 `/process-instance/{id}/variables`). */
export async function instanceVariablesRoutes(app: Api, opts: { variables: InstanceVariablesService }) {
  app.post('/process-instances/:id/variables', { schema: modifyVariablesSchema }, async (req) =>
    opts.variables.modify(req.principal, req.params.id, req.body),
  )
}
