import t from 'tap'
import { fixture, type TestContext } from './helpers/context.ts'
import { caller } from './helpers/api.ts'
import { activityIds, bpmnWorld, completeActivity, submitAtCounter } from './helpers/bpmn-world.ts'

/**
 * camunda:inputOutput beyond user tasks, as Camunda 7 maps it, over a real diagram: a service task's
 * input parameters are the local variables its expression reads and its outputs map the result out;
 * an embedded sub-process's inputs are local variables of everything inside it (a task's assignee
 * expression reads them) and never reach the process; its outputs are mapped out when it ends.
 */
const diagram = fixture('bpmn/input-output-activities.bpmn')

const processVariables = async (ctx: TestContext, dossierId: string) => {
  const inst = await ctx.db('process_instances').where({ dossier_id: dossierId }).first()
  return inst.state.definitions[0].execution.processes[0].environment.variables as Record<string, unknown>
}

t.test('input/output parameters on a service task: the expression reads its locals, outputs reach the process', async (t) => {
  const w = await bpmnWorld(t, diagram, { groups: ['leaders'] })
  const d = await submitAtCounter(w.officer, 'IoActivities', { area: 50, leadOfficer: 'can-bo-a' })
  const vars = await processVariables(w.ctx, d.dossier.id)
  t.equal(vars.fee, 100, 'the expression ${base * rate} read the input parameters: resultVariable set')
  t.equal(vars.total, 110, 'the output parameter, evaluated with the result and the locals')
  t.same(vars.feeLines, [50, 'phụ thu'], 'a list output')
  for (const local of ['base', 'rate', 'surcharge']) t.notOk(local in vars, `the input "${local}" stays local to the task`)
})

t.test('input/output parameters on an embedded sub-process: locals inside, outputs mapped out at its end', async (t) => {
  const w = await bpmnWorld(t, diagram, { groups: ['leaders'] })
  const d = await submitAtCounter<{ id: string; activityId: string; status: string; assignee: string | null }>(w.officer, 'IoActivities', {
    area: 50,
    leadOfficer: 'can-bo-a',
  })
  t.same(activityIds(d.tasks), ['Review'])
  t.equal(d.tasks[0]!.assignee, 'can-bo-a', "the task inside reads the sub-process's input parameter (its assignee)")
  let vars = await processVariables(w.ctx, d.dossier.id)
  t.notOk('reviewer' in vars || 'stage' in vars, "the sub-process's inputs never reach the process")
  w.ctx.system.engine.clear() // a restart: the completion recovers the sub-process from Postgres
  const reviewer = await caller(w.ctx, { userId: 'can-bo-a', roles: ['officer'], groups: [] })
  const r = await reviewer.post(`/api/tasks/${d.tasks[0]!.id}/complete`, { variables: { score: 8 } })
  t.equal(r.status, 200, JSON.stringify(r.body))
  t.same(activityIds(r.body.nextTasks), ['Sign'])
  vars = await processVariables(w.ctx, d.dossier.id)
  t.same(
    vars.appraisal,
    { by: 'can-bo-a', stage: 'thẩm định', score: 8 },
    'the output parameter (a map) read the locals and the task’s variables',
  )
  t.notOk('reviewer' in vars || 'stage' in vars, 'still no locals in the process')
  t.equal((await completeActivity(w, d.dossier.id, 'Sign')).processEnded, true)
})
