import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { manualClock } from '../src/clock.ts'
import { FIXTURES, testContext, type Teardown, type TestContext } from './helpers/context.ts'
import { caller, type Caller } from './helpers/api.ts'

/**
 * Multi-instance user tasks and sub-processes (hoạt động đa thể hiện) as Camunda 7 runs them: one
 * task per instance with its own assignee or candidates, the loop variables (element variable,
 * loopCounter, nrOfInstances, nrOfActiveInstances, nrOfCompletedInstances) visible to expressions,
 * and a completion condition that cancels the instances still open.
 */
const diagram = (name: string) => fs.readFileSync(path.join(FIXTURES, 'bpmn', name), 'utf8')

interface World {
  ctx: TestContext
  supervisor: Caller
  reception: Caller
  as: (userId: string, groups?: string[]) => Promise<Caller>
}

async function world(t: Teardown, ...fixtures: string[]): Promise<World> {
  const ctx = await testContext(t, { clock: manualClock('2026-11-23T02:00:00Z') })
  for (const f of fixtures) {
    const r = await ctx.deploy(diagram(f))
    if (r.status !== 201) throw new Error(`${f}: ${JSON.stringify(r.body)}`)
  }
  return {
    ctx,
    supervisor: await caller(ctx, { userId: 'lanh-dao', roles: ['supervisor'] }),
    reception: await caller(ctx, { userId: 'mot-cua', roles: ['officer'], groups: ['one-stop'] }),
    as: (userId, groups = []) => caller(ctx, { userId, roles: ['officer'], groups }),
  }
}

async function submit(w: World, procedureCode: string, data: Record<string, unknown>) {
  const r = await w.reception.post('/api/dossiers', {
    procedureCode,
    applicant: { name: 'Trần Văn Bình', idNumber: '001090012345' },
    channel: 1,
    data,
  })
  if (r.status !== 201) throw new Error(JSON.stringify(r.body))
  return r.body as { dossier: { id: string }; tasks: Task[] }
}

interface Task {
  id: string
  activityId: string
  name: string
  assignee: string | null
  candidateGroups: string[]
  status: string
}

/** The dossier's open tasks, oldest first. */
async function openTasks(w: World, dossierId: string): Promise<Task[]> {
  return (await w.supervisor.get(`/api/dossiers/${dossierId}`)).body.tasks.filter(
    (x: Task) => x.status === 'open' && !x.activityId.startsWith('tthc:'),
  )
}

async function complete(who: Caller, taskId: string, variables: Record<string, unknown> = {}) {
  const r = await who.post(`/api/tasks/${taskId}/complete`, { variables })
  if (r.status !== 200) throw new Error(JSON.stringify(r.body))
  return r.body as { processEnded: boolean; nextTasks: Task[] }
}

async function variables(w: World, dossierId: string): Promise<Record<string, unknown>> {
  const inst = await w.ctx.db('process_instances').where({ dossier_id: dossierId }).first()
  return inst.state.definitions[0].execution.processes[0].environment.variables
}

const REVIEWERS = ['an', 'binh', 'chi']

t.test(
  'parallel collection: 3 reviewers get a task each at once, assigned by ${reviewer}; two opinions complete the round and cancel the third',
  async (t) => {
    const w = await world(t, 'multi-instance-review.bpmn')
    const { dossier, tasks } = await submit(w, 'ParallelReview', { reviewers: REVIEWERS })
    t.same(
      tasks.map((x) => [x.activityId, x.assignee, x.candidateGroups]),
      [
        ['Review', 'an', ['vong-1-3']],
        ['Review', 'binh', ['vong-2-3']],
        ['Review', 'chi', ['vong-3-3']],
      ],
      'one row per element, each with its own assignee; loopCounter and nrOfInstances in the candidate group',
    )
    const rows = await w.ctx.db('tasks').where({ dossier_id: dossier.id, activity_id: 'Review' })
    t.equal(new Set(rows.map((r) => r.execution_id)).size, 3, 'each instance has its own execution id')

    const binh = tasks.find((x) => x.assignee === 'binh')!
    t.equal(
      (await (await w.as('an')).post(`/api/tasks/${binh.id}/complete`, { variables: {} })).body.error.code,
      'TASK_NOT_FOUND',
      "an does not see binh's task",
    )
    const first = await complete(await w.as('binh'), binh.id, { opinionBinh: 'Đồng ý' })
    t.same(first.nextTasks.map((x) => x.assignee).sort(), ['an', 'chi'], 'after one opinion, the other two still wait')
    t.equal((await variables(w, dossier.id)).opinionBinh, 'Đồng ý', 'the completion sets its variables on the process instance at once')

    const second = await complete(await w.as('chi'), tasks.find((x) => x.assignee === 'chi')!.id, { opinionChi: 'Đồng ý có điều kiện' })
    t.same(
      second.nextTasks.map((x) => x.activityId),
      ['Summarize'],
      'nrOfCompletedInstances >= 2 completes the multi-instance activity',
    )
    const an = await w.ctx
      .db('tasks')
      .where({ id: tasks.find((x) => x.assignee === 'an')!.id })
      .first()
    t.equal(an.status, 'cancelled', "the remaining instance's task is cancelled")
    t.match(await variables(w, dossier.id), { opinionBinh: 'Đồng ý', opinionChi: 'Đồng ý có điều kiện' })
    const summarize = await complete(await w.as('so', ['specialists']), second.nextTasks[0]!.id)
    t.equal(summarize.processEnded, true)
  },
)

t.test('sequential collection (camunda:collection as a variable name): one task at a time, in the order of the list', async (t) => {
  const w = await world(t, 'multi-instance-sequential.bpmn')
  const { dossier, tasks } = await submit(w, 'SequentialReview', { reviewers: REVIEWERS })
  t.same(
    tasks.map((x) => [x.activityId, x.assignee, x.candidateGroups]),
    [['Review', 'an', ['vong-1-3']]],
    'only the first reviewer has a task',
  )
  const second = await complete(await w.as('an'), tasks[0]!.id)
  t.same(
    second.nextTasks.map((x) => [x.assignee, x.candidateGroups]),
    [['binh', ['vong-2-3']]],
    'then the second, with loopCounter 1',
  )
  t.same(
    (await openTasks(w, dossier.id)).map((x) => x.assignee),
    ['binh'],
  )
  const third = await complete(await w.as('binh'), second.nextTasks[0]!.id)
  t.same(
    third.nextTasks.map((x) => x.assignee),
    ['chi'],
  )
  const done = await complete(await w.as('chi'), third.nextTasks[0]!.id)
  t.same(
    done.nextTasks.map((x) => x.activityId),
    ['Summarize'],
    'the activity completes after the last element',
  )
  const history = await w.ctx.db('history').where({ dossier_id: dossier.id, action: 'task.completed', activity_id: 'Review' }).orderBy('id')
  t.same(
    history.map((h) => h.actor),
    REVIEWERS,
    'completed in the order of the list',
  )
})

t.test(
  'loopCardinality: three council members in parallel; a veto while others still vote ends the round (nrOfActiveInstances) and takes the refusal path',
  async (t) => {
    const w = await world(t, 'multi-instance-cardinality.bpmn')
    const { dossier, tasks } = await submit(w, 'CouncilVote', {})
    t.same(
      tasks.map((x) => x.candidateGroups),
      [['hoi-dong-0'], ['hoi-dong-1'], ['hoi-dong-2']],
      'three instances, candidates from loopCounter',
    )
    const r1 = await complete(await w.as('tv1', ['hoi-dong-1']), tasks[1]!.id, { veto: false })
    t.equal(r1.nextTasks.length, 2, 'no veto: the others still vote')
    const r2 = await complete(await w.as('tv0', ['hoi-dong-0']), tasks[0]!.id, { veto: true })
    t.same(
      r2.nextTasks.map((x) => x.activityId),
      ['Refuse'],
      'the veto ends the round; the gateway after it reads the variable',
    )
    t.equal((await w.ctx.db('tasks').where({ id: tasks[2]!.id }).first()).status, 'cancelled')
    t.same(
      (await openTasks(w, dossier.id)).map((x) => x.activityId),
      ['Refuse'],
    )
  },
)

t.test(
  'a saved instance recovers: completing the other parallel instances after a restart (engine cache cleared) still works',
  async (t) => {
    const w = await world(t, 'multi-instance-review.bpmn')
    const { dossier, tasks } = await submit(w, 'ParallelReview', { reviewers: REVIEWERS })
    w.ctx.system.engine.clear()
    await complete(await w.as('an'), tasks[0]!.id, { opinionAn: 'Đồng ý' })
    w.ctx.system.engine.clear()
    t.same(
      (await openTasks(w, dossier.id)).map((x) => x.assignee).sort(),
      ['binh', 'chi'],
      'recovered from Postgres, the two other instances still wait',
    )
    const r = await complete(await w.as('chi'), tasks[2]!.id)
    t.same(
      r.nextTasks.map((x) => x.activityId),
      ['Summarize'],
      'the second completion after a restart still counts the first one',
    )
    t.equal((await w.ctx.db('tasks').where({ id: tasks[1]!.id }).first()).status, 'cancelled')
    t.equal((await variables(w, dossier.id)).opinionAn, 'Đồng ý')
  },
)

t.test('parallel multi-instance sub-process: one consultation per agency, its tasks assigned from the element variable', async (t) => {
  const w = await world(t, 'multi-instance-subprocess.bpmn')
  const agencies = ['so-tai-chinh', 'so-xay-dung', 'cong-an']
  const { dossier, tasks } = await submit(w, 'AgencyConsultation', { agencies })
  t.same(
    tasks.map((x) => [x.activityId, x.candidateGroups]),
    agencies.map((a) => ['Answer', [a]]),
    'one task row per element, candidates from ${agency}',
  )
  t.equal(new Set((await w.ctx.db('tasks').where({ dossier_id: dossier.id })).map((r) => r.execution_id)).size, 3)
  const byAgency = (a: string) => tasks.find((x) => x.candidateGroups[0] === a)!
  const xd = await complete(await w.as('xd', ['so-xay-dung']), byAgency('so-xay-dung').id)
  t.same(
    xd.nextTasks.map((x) => [x.activityId, x.assignee]).sort(),
    [
      ['Answer', null],
      ['Answer', null],
      ['Extra', 'lead-so-xay-dung'],
    ],
    'inside the instance, a condition on ${agency} and loopCounter took the extra step, for that agency only',
  )
  await complete(await w.as('tc', ['so-tai-chinh']), byAgency('so-tai-chinh').id)
  t.same(
    (await openTasks(w, dossier.id)).map((x) => x.activityId).sort(),
    ['Answer', 'Extra'],
    'completing one instance leaves the others alone',
  )
  await complete(await w.as('lead-so-xay-dung'), xd.nextTasks.find((x) => x.activityId === 'Extra')!.id)
  const last = await complete(await w.as('ca', ['cong-an']), byAgency('cong-an').id)
  t.same(
    last.nextTasks.map((x) => x.activityId),
    ['After'],
    'after every agency answered, the process goes on',
  )
})

t.test('multi-instance forms the runtime does not run as Camunda does are refused at deploy, with the element id', async (t) => {
  const ctx = await testContext(t)
  const base = diagram('multi-instance-review.bpmn')
  const variants: Array<[string, string, string]> = [
    [
      'no cardinality, no collection',
      base.replace(' camunda:collection="${reviewers}" camunda:elementVariable="reviewer"', ''),
      'MULTI_INSTANCE_WITHOUT_INPUT',
    ],
    [
      'collection neither a name nor an expression',
      base.replace('camunda:collection="${reviewers}"', 'camunda:collection="an, binh"'),
      'MULTI_INSTANCE_COLLECTION_INVALID',
    ],
    [
      'broken completion condition',
      base.replace('${nrOfCompletedInstances &gt;= 2}', '${nrOfCompletedInstances &gt;=}'),
      'EXPRESSION_INVALID',
    ],
    [
      'multi-instance receive task',
      base
        .replace(
          '<bpmn:userTask id="Review" name="Cho ý kiến" camunda:assignee="${reviewer}" camunda:candidateGroups="vong-${loopCounter + 1}-${nrOfInstances}">',
          '<bpmn:receiveTask id="Review" name="Cho ý kiến">',
        )
        .replace('</bpmn:userTask>\n    <bpmn:userTask id="Summarize"', '</bpmn:receiveTask>\n    <bpmn:userTask id="Summarize"'),
      'MULTI_INSTANCE_UNSUPPORTED',
    ],
    [
      'boundary event on a multi-instance task',
      base.replace(
        '<bpmn:endEvent id="End">',
        '<bpmn:boundaryEvent id="Late" attachedToRef="Review"><bpmn:outgoing>f9</bpmn:outgoing><bpmn:timerEventDefinition><bpmn:timeDuration>P1D</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent><bpmn:sequenceFlow id="f9" sourceRef="Late" targetRef="End"/>\n    <bpmn:endEvent id="End"><bpmn:incoming>f9</bpmn:incoming>',
      ),
      'MULTI_INSTANCE_BOUNDARY_UNSUPPORTED',
    ],
  ]
  for (const [name, xml, code] of variants) {
    t.not(xml, base, `${name}: the variant differs from the base diagram`)
    const res = await ctx.deploy(xml)
    t.equal(res.status, 422, `${name}: 422`)
    const f = res.body.error?.details?.findings?.find((x: { code: string }) => x.code === code)
    t.match(f, { elementId: 'Review', code, severity: 'error' }, `${name}: ${code} on the element`)
    t.notMatch(f?.message ?? '', /TypeError|undefined|Cannot read/, 'a message an analyst understands')
  }
  t.equal(Number((await ctx.db('procedure_versions').count('* as n'))[0]!.n), 0, 'nothing deployed')
})
