import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { manualClock } from '../src/clock.ts'
import { FIXTURES, testContext, type Teardown, type TestContext } from './helpers/context.ts'
import { caller, type Caller } from './helpers/api.ts'

/**
 * camunda:inputOutput as Camunda 7 maps variables: input parameters are the task's local variables
 * (its assignee expression reads them, the process never sees them), output parameters set process
 * variables when it ends (the gateway after it reads them), evaluated with the completion's
 * variables and the task's locals.
 */
const diagram = (name: string) => fs.readFileSync(path.join(FIXTURES, 'bpmn', name), 'utf8')

interface Task {
  id: string
  activityId: string
  assignee: string | null
}

async function world(t: Teardown): Promise<{ ctx: TestContext; reception: Caller; officer: Caller }> {
  const ctx = await testContext(t, { clock: manualClock('2026-11-23T02:00:00Z') })
  const r = await ctx.deploy(diagram('input-output.bpmn'))
  if (r.status !== 201) throw new Error(JSON.stringify(r.body))
  return {
    ctx,
    reception: await caller(ctx, { userId: 'mot-cua', roles: ['officer'], groups: ['one-stop'] }),
    officer: await caller(ctx, { userId: 'can-bo-tham-dinh', roles: ['officer'], groups: ['appraisal'] }),
  }
}

async function start(w: { reception: Caller }) {
  const r = await w.reception.post('/api/dossiers', {
    procedureCode: 'Appraisal',
    applicant: { name: 'Nguyễn Thị Hoa', idNumber: '001090054321' },
    channel: 1,
    data: { leadOfficer: 'can-bo-tham-dinh' },
  })
  if (r.status !== 201) throw new Error(JSON.stringify(r.body))
  return r.body as { dossier: { id: string }; tasks: Task[] }
}

const processVariables = async (ctx: TestContext, dossierId: string) => {
  const inst = await ctx.db('process_instances').where({ dossier_id: dossierId }).first()
  return inst.state.definitions[0].execution.processes[0].environment.variables as Record<string, unknown>
}

t.test('an input parameter is the task assignee expression’s local variable, and stays out of the process', async (t) => {
  const w = await world(t)
  const d = await start(w)
  t.same(
    d.tasks.map((x) => [x.activityId, x.assignee]),
    [['Appraise', 'can-bo-tham-dinh']],
    'camunda:assignee="${reviewer}" reads the input parameter reviewer = ${leadOfficer}',
  )
  const vars = await processVariables(w.ctx, d.dossier.id)
  t.notOk('reviewer' in vars, 'the local variable is not a process variable')
  t.notOk('grade' in vars)
})

t.test('an output parameter sets a process variable when the task ends; the gateway after it reads it', async (t) => {
  const w = await world(t)
  const good = await start(w)
  const done = await w.officer.post(`/api/tasks/${good.tasks[0]!.id}/complete`, { variables: { score: 7 } })
  t.equal(done.status, 200, JSON.stringify(done.body))
  t.same(
    done.body.nextTasks.map((x: Task) => x.activityId),
    ['Sign'],
    'passed = ${score >= 5} is true: the signing path',
  )
  const vars = await processVariables(w.ctx, good.dossier.id)
  t.same(
    vars.summary,
    { grade: 'A', by: 'can-bo-tham-dinh', items: ['can-bo-tham-dinh', 'giấy tờ'] },
    'a map output built from the locals (text, expression and list inputs)',
  )
  t.notOk('reviewer' in vars, 'the inputs stay local after the end too')

  const weak = await start(w)
  const redo = await w.officer.post(`/api/tasks/${weak.tasks[0]!.id}/complete`, { variables: { score: 3 } })
  t.same(
    redo.body.nextTasks.map((x: Task) => x.activityId),
    ['Redo'],
    'score 3: passed is false, the other path',
  )
})

t.test('the locals survive a recovery from the saved state: outputs still read them in a later step', async (t) => {
  const w = await world(t)
  const d = await start(w)
  w.ctx.system.engine.clear() // a restart: the completion recovers the task from Postgres
  const done = await w.officer.post(`/api/tasks/${d.tasks[0]!.id}/complete`, { variables: { score: 9 } })
  t.equal(done.status, 200)
  const vars = await processVariables(w.ctx, d.dossier.id)
  t.same((vars.summary as { by: string }).by, 'can-bo-tham-dinh')
})

t.test('a parameter that cannot be evaluated fails the step with 422 and changes nothing, never hangs', async (t) => {
  const ctx = await testContext(t, { clock: manualClock('2026-11-23T02:00:00Z') })
  const xml = diagram('input-output.bpmn').replace('${score &gt;= 5}', '${score.constructor}')
  t.equal((await ctx.deploy(xml)).status, 201)
  const w = {
    ctx,
    reception: await caller(ctx, { userId: 'mot-cua', roles: ['officer'], groups: ['one-stop'] }),
    officer: await caller(ctx, { userId: 'can-bo-tham-dinh', roles: ['officer'], groups: ['appraisal'] }),
  }
  const d = await start(w)
  const r = await w.officer.post(`/api/tasks/${d.tasks[0]!.id}/complete`, { variables: { score: 7 } })
  t.equal(r.status, 422)
  t.equal(r.body.error.code, 'PROCESS_STEP_FAILED')
  t.match(r.body.error.message, /tham số ra của "Appraise"/, 'the message names the activity')
  const again = await w.officer.get(`/api/tasks/${d.tasks[0]!.id}`)
  t.equal(again.body.status, 'open', 'the task is still open')

  await ctx.deploy(xml.replace('${leadOfficer}</camunda:inputParameter>', '${leadOfficer.constructor}</camunda:inputParameter>'))
  const refused = await w.reception.post('/api/dossiers', {
    procedureCode: 'Appraisal',
    applicant: { name: 'Nguyễn Thị Hoa', idNumber: '001090054321' },
    channel: 1,
    data: { leadOfficer: 'can-bo-tham-dinh' },
  })
  t.equal(refused.status, 422, 'an input parameter that fails refuses the submission')
  t.match(refused.body.error.message, /tham số vào của "Appraise"/)
})
