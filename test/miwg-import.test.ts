import t from 'tap'
import { clockOf } from './helpers/clock.ts'
import fs from 'node:fs'
import path from 'node:path'
import { testContext } from './helpers/context.ts'
import { caller } from './helpers/api.ts'

const DIR = path.resolve(import.meta.dirname, 'fixtures/miwg')
const FILES = fs
  .readdirSync(DIR)
  .filter((f) => f.endsWith('.bpmn'))
  .sort()

t.test('the 21 MIWG reference diagrams: each deploys or is refused with findings, never a 500', async (t) => {
  const ctx = await testContext(t)
  t.equal(FILES.length, 21)
  const outcome: Record<string, string> = {}
  for (const f of FILES) {
    const r = await ctx.deploy(fs.readFileSync(path.join(DIR, f), 'utf8'))
    t.ok(r.status === 201 || r.status === 422, `${f}: ${r.status}`)
    if (r.status === 422) {
      t.equal(r.body.error.code, 'BPMN_INVALID')
      t.ok(
        r.body.error.details.findings.length > 0 &&
          r.body.error.details.findings.every((x: any) => typeof x.code === 'string' && typeof x.message === 'string' && 'elementId' in x),
        `${f}: findings name a code, a message and an element`,
      )
    }
    outcome[f] = r.status === 201 ? 'deployed' : r.body.error.details.findings.map((x: { code: string }) => x.code).join(',')
    if (r.status === 422)
      t.notMatch(
        JSON.stringify(r.body.error.details),
        /TypeError|Cannot read|is not a function|undefined \(reading/,
        `${f}: no JavaScript error text`,
      )
  }
  // Descriptive and interchange-only models (no executable process) are told so, not half-run.
  for (const f of ['A.1.0.bpmn', 'A.4.0.bpmn', 'B.2.0.bpmn', 'C.2.0.bpmn', 'C.6.0.bpmn']) t.equal(outcome[f], 'NO_EXECUTABLE_PROCESS', f)
  t.match(outcome['C.9.0.bpmn'], /CALLED_ELEMENT_UNKNOWN/, 'a call to a process in another file is named, not ignored')
  t.match(outcome['C.9.0.bpmn'], /SERVICE_TASK_UNSUPPORTED/, 'service tasks without an implementation are refused, not passed through')
  // C.9.1's send tasks are external tasks (type="external"): they deploy as handoffs that external
  // workers fetch by topic (docs/handoffs.md); its receive task's message is delivered by POST /api/messages.
  t.equal(outcome['C.9.1.bpmn'], 'deployed', 'the external send tasks of the Camunda Modeler diagram deploy as handoffs')
  t.notMatch(outcome['C.9.1.bpmn'], /MESSAGE_UNDELIVERABLE/, 'its receive task waits for a message POST /api/messages delivers')
  const deployed = Object.values(outcome).filter((o) => o === 'deployed').length
  t.equal(Number((await ctx.db('procedure_versions').count('* as n'))[0]!.n), deployed, 'refused diagrams stored nothing')
})

t.test('MIWG C.9.1 (Camunda Modeler, timer boundary events) runs from the API to its first wait state', async (t) => {
  const ctx = await testContext(t, { now: '2026-11-23T02:00:00Z' })
  // What deploy refuses in the original (above) made runnable: the send tasks evaluate an expression
  // instead of calling an e-mail service, and the receive task waits for a message this system delivers.
  const xml = fs
    .readFileSync(path.join(DIR, 'C.9.1.bpmn'), 'utf8')
    .replaceAll('camunda:type="external" camunda:topic="emailService"', 'camunda:expression="${true}"')
    .replace('name="MESSAGE_documentReceived"', 'name="SupplementSubmitted"')
  const dep = await ctx.deploy(xml)
  t.equal(dep.status, 201)
  const code = dep.body.version?.procedureCode ?? dep.body.procedureCode ?? dep.body.code
  const admin = await caller(ctx, { userId: 'admin-1', roles: ['admin'], agency: ctx.config.defaultAgency })
  const r = await admin.post('/api/dossiers', {
    procedureCode: code,
    applicant: { name: 'Khách hàng', idNumber: '001199005555' },
    channel: 1,
    data: {},
  })
  t.equal(r.status, 201, JSON.stringify(r.body))
  const id = r.body.dossier.id
  t.same(r.body.tasks, [], 'it waits on the receive task, not in an officer queue')
  const timers = await ctx.db('timers').where({ dossier_id: id, status: 'pending' }).orderBy('due_at')
  t.ok(timers.length >= 2, 'the reminder cycle and the deadline on the receive task are durable timers')
  // Let time pass: fire every timer as it comes due until the interrupting one sends the case to a person.
  for (let i = 0; i < 10; i++) {
    const next = await ctx.db('timers').where({ dossier_id: id, status: 'pending' }).orderBy('due_at').first()
    if (!next) break
    clockOf(ctx).set(next.due_at)
    await ctx.system.timers.fire(next.id)
    if ((await ctx.db('tasks').where({ dossier_id: id, status: 'open' })).length) break
  }
  const open = await ctx.db('tasks').where({ dossier_id: id, status: 'open' })
  t.match(open, [{ activity_id: 'UserTask_CallCustomer' }], 'the interrupting timer moved the case to "call customer"')
})
