import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { manualClock } from '../src/clock.ts'
import { FIXTURES, testContext, type Teardown, type TestContext } from './helpers/context.ts'
import { caller, type Caller } from './helpers/api.ts'

/**
 * What a user task carries beside its assignment, as Camunda 7 reads it: the follow-up date
 * (camunda:followUpDate) stored and filterable like the due date, and the embedded form
 * (camunda:formData) shown on the task and enforced when it is completed.
 */
const diagram = (name: string) => fs.readFileSync(path.join(FIXTURES, 'bpmn', name), 'utf8')

interface Task {
  id: string
  activityId: string
  status: string
  due: string | null
  followUp: string | null
  form?: { fields: Array<Record<string, unknown>> } | null
}
interface World {
  ctx: TestContext
  reception: Caller
}

async function world(t: Teardown, fixture: string): Promise<World> {
  const ctx = await testContext(t, { clock: manualClock('2026-11-23T02:00:00Z') })
  const r = await ctx.deploy(diagram(fixture))
  if (r.status !== 201) throw new Error(`${fixture}: ${JSON.stringify(r.body)}`)
  return { ctx, reception: await caller(ctx, { userId: 'mot-cua', roles: ['officer'], groups: ['one-stop'] }) }
}

async function submit(w: World, procedureCode: string, data: Record<string, unknown>) {
  const r = await w.reception.post('/api/dossiers', {
    procedureCode,
    applicant: { name: 'Nguyễn Thị Hoa', idNumber: '001090054321' },
    channel: 1,
    data,
  })
  if (r.status !== 201) throw new Error(JSON.stringify(r.body))
  return r.body as { dossier: { id: string }; tasks: Task[] }
}

t.test('camunda:followUpDate is stored on the task, computed like the due date, and filters and sorts the queue', async (t) => {
  const w = await world(t, 'task-follow-up.bpmn')
  const d = await submit(w, 'FollowUp', { remindAt: '2026-11-24T03:00:00Z' })
  const byActivity = Object.fromEntries(d.tasks.map((x) => [x.activityId, x]))
  t.equal(byActivity.Check?.followUp, '2026-11-25T02:00:00.000Z', 'P2D from the submission')
  t.equal(byActivity.Remind?.followUp, '2026-11-24T03:00:00.000Z', 'the expression ${remindAt} gives the date')
  t.equal(byActivity.Check?.due, null, 'the follow-up date is not a due date')
  const one = await w.reception.get(`/api/tasks/${byActivity.Check!.id}`)
  t.equal(one.body.followUp, '2026-11-25T02:00:00.000Z', 'GET /api/tasks/:id shows it')

  const before = await w.reception.get('/api/tasks?followUpBefore=2026-11-25T00:00:00Z')
  t.same(
    before.body.items.map((x: Task) => x.activityId),
    ['Remind'],
    'followUpBefore: only the task to look at before then',
  )
  const after = await w.reception.get('/api/tasks?followUpAfter=2026-11-25T00:00:00Z')
  t.same(
    after.body.items.map((x: Task) => x.activityId),
    ['Check'],
    'followUpAfter',
  )
  const sorted = await w.reception.get('/api/tasks?sortBy=followUp&sortOrder=desc')
  t.same(
    sorted.body.items.map((x: Task) => x.activityId),
    ['Check', 'Remind'],
    'sortBy=followUp',
  )
  const page = await w.reception.get('/api/tasks?sortBy=followUp&limit=1')
  const next = await w.reception.get(`/api/tasks?sortBy=followUp&limit=1&cursor=${page.body.nextCursor}`)
  t.same(
    [...page.body.items, ...next.body.items].map((x: Task) => x.activityId),
    ['Remind', 'Check'],
    'the cursor pages in follow-up order',
  )
  const bad = await w.reception.get('/api/tasks?followUpBefore=tomorrow')
  t.equal(bad.status, 400, 'a follow-up filter that is not a date is refused')
})
