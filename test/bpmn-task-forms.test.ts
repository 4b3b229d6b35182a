import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { manualClock } from '../src/clock.ts'
import { FIXTURES, testContext, type Teardown, type TestContext } from './helpers/context.ts'
import { caller, type Caller } from './helpers/api.ts'
import { submitAtCounter } from './helpers/bpmn-world.ts'

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

const submit = (w: World, procedureCode: string, data: Record<string, unknown>) =>
  submitAtCounter<Task>(w.reception, procedureCode, data, { name: 'Nguyễn Thị Hoa', idNumber: '001090054321' })

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

t.test('camunda:formData: the task shows its fields, a completion that breaks them is refused and changes nothing', async (t) => {
  const w = await world(t, 'task-form.bpmn')
  const d = await submit(w, 'FeeReview', {})
  const id = d.tasks[0]!.id
  const one = await w.reception.get(`/api/tasks/${id}`)
  t.equal(one.status, 200)
  t.same(
    one.body.form.fields.map((f: Record<string, unknown>) => [f.id, f.label, f.type, f.defaultValue]),
    [
      ['fee', 'Lệ phí (đồng)', 'long', null],
      ['approved', 'Đồng ý', 'boolean', true],
      ['note', 'Ghi chú', 'string', null],
      ['channel', 'Hình thức trả', 'enum', 'post'],
      ['visitDate', 'Ngày thẩm định', 'date', null],
    ],
    'id, label, type and default of each field, in order',
  )
  t.same(one.body.form.fields[0].constraints, [
    { name: 'required', config: null },
    { name: 'min', config: 0 },
    { name: 'max', config: 5000000 },
  ])
  t.same(one.body.form.fields[3].values, [
    { id: 'counter', name: 'Tại bộ phận một cửa' },
    { id: 'post', name: 'Qua bưu chính' },
  ])

  const refused: Array<[string, Record<string, unknown>, string, string]> = [
    ['a required field missing', { note: 'x' }, 'fee', 'required'],
    ['a long given as text', { fee: 'một trăm' }, 'fee', 'type'],
    ['a long given as a fraction', { fee: 1.5 }, 'fee', 'type'],
    ['below min', { fee: -1 }, 'fee', 'min'],
    ['above max', { fee: 5000001 }, 'fee', 'max'],
    ['a boolean given as a number', { fee: 1000, approved: 1 }, 'approved', 'type'],
    ['longer than maxlength', { fee: 1000, note: 'x'.repeat(21) }, 'note', 'maxlength'],
    ['an enum value not listed', { fee: 1000, channel: 'email' }, 'channel', 'type'],
    ['a date that is not ISO', { fee: 1000, visitDate: '31/12/2026' }, 'visitDate', 'type'],
  ]
  for (const [what, variables, field, reason] of refused) {
    const r = await w.reception.post(`/api/tasks/${id}/complete`, { variables })
    t.equal(r.status, 400, `${what}: 400`)
    t.equal(r.body.error.code, 'FORM_FIELD_INVALID', what)
    t.same(r.body.error.details, { field, reason }, `${what}: names the field`)
  }
  const still = await w.reception.get(`/api/tasks/${id}`)
  t.equal(still.body.status, 'open', 'nothing changed: the task is still open')
  const completions = await w.ctx.db('history').where({ dossier_id: d.dossier.id, action: 'task.completed' })
  t.equal(completions.length, 0, 'no completion in the history')

  const done = await w.reception.post(`/api/tasks/${id}/complete`, { variables: { fee: '150000', note: 'đủ hồ sơ' } })
  t.equal(done.status, 200, 'valid values complete the task')
  t.same(
    done.body.nextTasks.map((x: Task) => x.activityId),
    ['Deliver'],
    'the defaults approved=true and channel=post are applied: the gateway takes the delivery path',
  )
  const row = await w.ctx.db('tasks').where({ id }).first()
  t.same(
    row.variables,
    { fee: 150000, note: 'đủ hồ sơ', approved: true, channel: 'post' },
    'the values stored converted, with the defaults',
  )
})

t.test('camunda:formData: a sent value overrides the default and the gateway reads it', async (t) => {
  const w = await world(t, 'task-form.bpmn')
  const d = await submit(w, 'FeeReview', {})
  const done = await w.reception.post(`/api/tasks/${d.tasks[0]!.id}/complete`, {
    variables: { fee: 0, approved: 'false', visitDate: '2026-11-24' },
  })
  t.equal(done.status, 200)
  t.equal(done.body.processEnded, true, 'approved=false: the gateway ends the process')
})
