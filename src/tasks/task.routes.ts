import { requireRole } from '../auth/authenticate.ts'
import type { Api } from '../http/schemas.ts'
import { taskDto } from './task.dto.ts'
import {
  bpmnErrorTaskSchema,
  bpmnEscalationTaskSchema,
  claimTaskSchema,
  completeTaskSchema,
  getTaskSchema,
  listTasksSchema,
  taskQueueSchema,
  unclaimTaskSchema,
} from './task.schemas.ts'
import { decodeCursor, type TaskService } from './task.service.ts'
import type { TaskQueue } from './queue.ts'

/** Officers' task queues, in Camunda's REST style: list, claim, unclaim, complete. */
export async function taskRoutes(app: Api, opts: { tasks: TaskService; queue: TaskQueue }) {
  const { tasks } = opts

  app.get('/tasks/queue', { schema: taskQueueSchema }, async (req) => {
    const page = await opts.queue.page(req.principal, req.query)
    return {
      items: page.items.map((i) => ({ ...taskDto(i.task), dossierCode: i.dossierCode, workingMinutesLeft: i.workingMinutesLeft })),
      nextCursor: page.nextCursor,
    }
  })

  app.get('/tasks', { schema: listTasksSchema }, async (req) => {
    const { dueBefore, dueAfter, followUpBefore, followUpAfter, cursor, ...q } = req.query
    const page = await tasks.list(req.principal, {
      ...q,
      dueBefore: dueBefore ? new Date(dueBefore) : undefined,
      dueAfter: dueAfter ? new Date(dueAfter) : undefined,
      followUpBefore: followUpBefore ? new Date(followUpBefore) : undefined,
      followUpAfter: followUpAfter ? new Date(followUpAfter) : undefined,
      after: cursor ? decodeCursor(cursor) : undefined,
    })
    return { items: page.items.map(taskDto), nextCursor: page.nextCursor }
  })

  app.get('/tasks/:id', { schema: getTaskSchema }, async (req) => {
    const { task, form } = await tasks.getWithForm(req.principal, req.params.id)
    return { ...taskDto(task), form }
  })

  app.post('/tasks/:id/claim', { schema: claimTaskSchema }, async (req) => {
    requireRole(req, 'officer', 'supervisor', 'admin')
    return taskDto(await tasks.claim(req.principal, req.params.id))
  })

  app.post('/tasks/:id/unclaim', { schema: unclaimTaskSchema }, async (req) => {
    requireRole(req, 'officer', 'supervisor', 'admin')
    return taskDto(await tasks.unclaim(req.principal, req.params.id))
  })

  app.post(
    '/tasks/:id/complete',
    {
      schema: completeTaskSchema,
      // An empty POST means "no variables".
      preValidation: async (req) => {
        if (req.body === undefined || req.body === null) req.body = { variables: {} }
      },
    },
    async (req) => {
      requireRole(req, 'officer', 'supervisor', 'admin')
      const r = await tasks.complete(req.principal, req.params.id, req.body.variables)
      return { dossierId: r.dossierId, dossierStatus: r.dossierStatus, processEnded: r.processEnded, nextTasks: r.nextTasks.map(taskDto) }
    },
  )

  app.post('/tasks/:id/bpmn-error', { schema: bpmnErrorTaskSchema }, async (req) => {
    requireRole(req, 'officer', 'supervisor', 'admin')
    const { errorCode, errorMessage, variables } = req.body
    const r = await tasks.bpmnError(req.principal, req.params.id, { errorCode, errorMessage: errorMessage ?? null, variables })
    return { dossierId: r.dossierId, dossierStatus: r.dossierStatus, processEnded: r.processEnded, nextTasks: r.nextTasks.map(taskDto) }
  })

  app.post('/tasks/:id/bpmn-escalation', { schema: bpmnEscalationTaskSchema }, async (req) => {
    requireRole(req, 'officer', 'supervisor', 'admin')
    const { escalationCode, variables } = req.body
    const r = await tasks.bpmnEscalation(req.principal, req.params.id, { escalationCode, variables })
    return { dossierId: r.dossierId, dossierStatus: r.dossierStatus, processEnded: r.processEnded, nextTasks: r.nextTasks.map(taskDto) }
  })
}
