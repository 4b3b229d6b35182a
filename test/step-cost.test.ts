import fs from 'node:fs'
import path from 'node:path'
import { Broker } from 'smqp'
import t from 'tap'
import { deserializeSourceContext, parseDiagram } from '../src/engine/definition.ts'
import { runStep } from '../src/engine/runtime.ts'
import { LIFECYCLE_ACTIONS } from '../src/procedures/lifecycle-actions.ts'
import { DossierStatus } from '../src/records/statuses.ts'
import { auth, fixture, testContext } from './helpers/context.ts'
import { recordPostgresMessages } from './helpers/pg-messages.ts'

/**
 * What a step costs a diagram that uses none of the constructs the runtime's extra glue serves
 * (event sub-processes, BPMN errors and escalations, handoffs): nothing of that glue. The benchmark
 * (docs/performance.md) measures the time; these count the work, which does not drift with the
 * machine's load.
 */

const sent = recordPostgresMessages(t)
const FIXTURES = path.join(import.meta.dirname, 'fixtures')
const submission = { procedureCode: 'TEST.3STEP', applicant: { name: 'Hộ kinh doanh A', idNumber: '001099001234' }, channel: 1, data: {} }

async function sourceContextOf(file: string) {
  const xml = fs.readFileSync(path.join(FIXTURES, file), 'utf8')
  const parsed = await parseDiagram(xml, { allowedScripts: new Set(), statuses: Object.values(DossierStatus), actions: LIFECYCLE_ACTIONS })
  if (!('sourceContext' in parsed)) throw new Error(`${file} did not deploy`)
  return deserializeSourceContext(parsed.sourceContext)
}

/** The engine-level subscriptions a step makes for itself (consumer tags `_step-…`). */
function recordStepSubscriptions(t: { teardown(fn: () => void): void }): string[] {
  const tags: string[] = []
  const original = Broker.prototype.subscribeTmp
  Broker.prototype.subscribeTmp = function (this: Broker, ...args: Parameters<Broker['subscribeTmp']>) {
    const tag = (args[3] as { consumerTag?: string } | undefined)?.consumerTag
    if (tag?.startsWith('_step-')) tags.push(tag)
    return original.apply(this, args)
  }
  t.teardown(() => {
    Broker.prototype.subscribeTmp = original
  })
  return tags
}

t.test('a completion on a diagram without error or escalation events does not track thrown errors', async (t) => {
  const tags = recordStepSubscriptions(t)
  const plain = await sourceContextOf('three-step-procedure.bpmn')
  const started = await runStep(plain, null, { kind: 'start', variables: {} })
  const task = started.waiting.find((w) => w.activityId === 'Receive')!
  tags.length = 0
  const done = await runStep(plain, JSON.parse(JSON.stringify(started.state)), {
    kind: 'signal',
    activityId: 'Receive',
    executionId: task.executionId,
    variables: { valid: true },
  })
  t.same(
    done.waiting.map((w) => w.activityId),
    ['Appraise'],
    'the process moved on',
  )
  t.same(tags.sort(), ['_step-reached', '_step-timeouts'], 'only what every step needs')

  // A diagram with an error end event still has its throws followed (a called procedure hands them to its caller).
  const withError = await sourceContextOf('bpmn/uncaught-error-end.bpmn')
  const s = await runStep(withError, null, { kind: 'start', variables: {} })
  const inner = s.waiting.find((w) => w.activityId === 'T')!
  tags.length = 0
  const thrown = await runStep(withError, JSON.parse(JSON.stringify(s.state)), {
    kind: 'signal',
    activityId: 'T',
    executionId: inner.executionId,
    variables: {},
  })
  t.ok(tags.includes('_step-activity.throw'), 'throws are followed')
  t.same(
    thrown.uncaught?.map((u) => [u.kind, u.code, u.activityId]),
    [['error', 'E1', 'EE']],
    'and the uncaught error is reported',
  )
})

t.test('a step of a procedure without handoffs sends no handoff statement to Postgres', async (t) => {
  const ctx = await testContext(t)
  await ctx.deploy(fixture('three-step-procedure.bpmn'))
  const officer = await auth(ctx, { roles: ['officer'], groups: ['one-stop', 'specialists', 'leaders'], agency: 'UBND-XA-DEMO' })
  const post = (url: string, payload: unknown) => ctx.app.inject({ method: 'POST', url, headers: officer, payload: payload as object })
  sent.length = 0
  const s = await post('/api/dossiers', submission)
  t.equal(s.statusCode, 201)
  const c = await post(`/api/tasks/${s.json().tasks[0].id}/complete`, { variables: { valid: true } })
  t.equal(c.statusCode, 200)
  t.equal(c.json().nextTasks[0].activityId, 'Appraise', 'the process moved on')
  t.notOk(
    sent.some((m) => /\bhandoffs\b/i.test(m)),
    'neither the submission nor the completion writes or cancels handoffs',
  )
})
