import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { manualClock } from '../src/clock.ts'
import { FIXTURES, testContext, type Teardown, type TestContext } from './helpers/context.ts'
import { caller, type Caller } from './helpers/api.ts'
import { submitAtCounter } from './helpers/bpmn-world.ts'

/**
 * Constructs the engine runs as Camunda 7 does: a `camunda:expression` service task evaluated in the
 * safe evaluator, its `camunda:resultVariable` read by the gateway after it; an inclusive gateway
 * join that waits for every branch the split took and fires once.
 */
const diagram = (name: string) => fs.readFileSync(path.join(FIXTURES, 'bpmn', name), 'utf8')

interface Task {
  id: string
  activityId: string
  status: string
}
interface World {
  ctx: TestContext
  supervisor: Caller
  reception: Caller
  officer: (groups: string[]) => Promise<Caller>
}

async function world(t: Teardown, fixture: string): Promise<World> {
  const ctx = await testContext(t, { clock: manualClock('2026-11-23T02:00:00Z') })
  const r = await ctx.deploy(diagram(fixture))
  if (r.status !== 201) throw new Error(`${fixture}: ${JSON.stringify(r.body)}`)
  return {
    ctx,
    supervisor: await caller(ctx, { userId: 'lanh-dao', roles: ['supervisor'] }),
    reception: await caller(ctx, { userId: 'mot-cua', roles: ['officer'], groups: ['one-stop'] }),
    officer: (groups) => caller(ctx, { userId: `can-bo-${groups[0]}`, roles: ['officer'], groups }),
  }
}

const submit = (w: World, procedureCode: string, data: Record<string, unknown>) =>
  submitAtCounter(w.reception, procedureCode, data, { name: 'Nguyễn Thị Hoa', idNumber: '001090054321' })

async function complete(who: Caller, taskId: string) {
  const r = await who.post(`/api/tasks/${taskId}/complete`, { variables: {} })
  if (r.status !== 200) throw new Error(JSON.stringify(r.body))
  return r.body as { processEnded: boolean; nextTasks: Task[] }
}

t.test(
  'a camunda:expression service task sets camunda:resultVariable and the gateway after it takes the path the result says',
  async (t) => {
    const w = await world(t, 'service-expression.bpmn')
    const elderly = await submit(w, 'FeeCheck', { age: 65 })
    t.same(
      elderly.tasks.map((x) => x.activityId),
      ['Approve'],
      'age 65: ${age >= 60 || disabled == true} is true, the exemption path',
    )
    const young = await submit(w, 'FeeCheck', { age: 30 })
    t.same(
      young.tasks.map((x) => x.activityId),
      ['CollectFee'],
      'age 30, not disabled: the fee path',
    )
    const inst = await w.ctx.db('process_instances').where({ dossier_id: young.dossier.id }).first()
    t.equal(inst.state.definitions[0].execution.processes[0].environment.variables.exempt, false, 'the result is a process variable')
    const done = await complete(await w.officer(['one-stop']), young.tasks[0]!.id)
    t.equal(done.processEnded, true)
  },
)

t.test('inclusive gateway: a split to 3 branches taking 2, each a user task, joins once after both tasks', async (t) => {
  const w = await world(t, 'inclusive-join.bpmn')
  const { dossier, tasks } = await submit(w, 'Appraisal', { land: true, building: false, fire: true })
  t.same(tasks.map((x) => x.activityId).sort(), ['Fire', 'Land'], 'the two branches whose condition holds')
  const land = await complete(await w.officer(['dat-dai']), tasks.find((x) => x.activityId === 'Land')!.id)
  t.same(
    land.nextTasks.map((x) => x.activityId),
    ['Fire'],
    'after the first branch, the join still waits for the other',
  )
  const fire = await complete(await w.officer(['pccc']), tasks.find((x) => x.activityId === 'Fire')!.id)
  t.same(
    fire.nextTasks.map((x) => x.activityId),
    ['Decide'],
    'after the second, the join fires',
  )
  const decide = await w.ctx.db('tasks').where({ dossier_id: dossier.id, activity_id: 'Decide' })
  t.equal(decide.length, 1, 'the process goes on once: one task after the join')
  const end = await complete(await w.officer(['specialists']), decide[0]!.id)
  t.equal(end.processEnded, true, 'and ends once')
  const open = (await w.ctx.db('tasks').where({ dossier_id: dossier.id, status: 'open' })).map((x) => x.activity_id)
  t.same(
    open.filter((a: string) => !a.startsWith('tthc:')),
    [],
    "no diagram task is left open (only the runtime's return step)",
  )
})

t.test('inclusive join after a restart (engine recovered from Postgres between the branches) still fires once', async (t) => {
  const w = await world(t, 'inclusive-join.bpmn')
  const { dossier, tasks } = await submit(w, 'Appraisal', { land: true, building: true, fire: false })
  w.ctx.system.engine.clear()
  const first = await complete(await w.officer(['xay-dung']), tasks.find((x) => x.activityId === 'Building')!.id)
  t.same(
    first.nextTasks.map((x) => x.activityId),
    ['Land'],
  )
  w.ctx.system.engine.clear()
  const second = await complete(await w.officer(['dat-dai']), tasks.find((x) => x.activityId === 'Land')!.id)
  t.same(
    second.nextTasks.map((x) => x.activityId),
    ['Decide'],
  )
  t.equal((await w.ctx.db('tasks').where({ dossier_id: dossier.id, activity_id: 'Decide' })).length, 1)
})
