import t from 'tap'
import { manualClock } from '../src/clock.ts'
import { auth, fixture, testContext } from './helpers/context.ts'

const vn = (s: string) => new Date(`${s}+07:00`)
const local = (d: Date | string) => new Date(new Date(d).getTime() + 7 * 3600_000).toISOString().slice(0, 16).replace('T', ' ')

t.test('a cycle R2/PT1H on a non-interrupting boundary timer fires twice, each once, then stops', async (t) => {
  const clock = manualClock(vn('2026-11-23T08:00'))
  const ctx = await testContext(t, { clock })
  t.equal((await ctx.deploy(fixture('cycle-timers.bpmn'))).status, 201)
  const officer = await auth(ctx, { roles: ['officer'], groups: ['one-stop', 'leaders'] })
  const s = await ctx.app.inject({
    method: 'POST',
    url: '/api/dossiers',
    headers: officer,
    payload: { procedureCode: 'CycleDemo', applicant: { name: 'A', idNumber: '001099001234' }, channel: 1, data: {} },
  })
  t.equal(s.statusCode, 201, s.body)
  const pending = async () =>
    (await ctx.db('timers').where({ status: 'pending' }).orderBy('due_at')).map((x) => `${x.activity_id}@${local(x.due_at)}`)
  const open = async () => (await ctx.db('tasks').where({ status: 'open' })).map((x) => x.activity_id).sort()
  t.same(await pending(), ['Nudge@2026-11-23 09:00'])
  const fired: string[] = []
  for (const at of ['08:59', '09:00', '09:30', '10:00', '11:00', '12:00']) {
    clock.set(vn(`2026-11-23T${at}`))
    const n = await ctx.system.timers.fireDue()
    if (n) fired.push(`${at}×${n}`)
    if (at === '09:00') t.same(await pending(), ['Nudge@2026-11-23 10:00'], 'the next repetition is a new durable timer')
  }
  t.same(fired, ['09:00×1', '10:00×1'], 'R2: at 09:00 and 10:00, never early, never a third time')
  t.same(await pending(), [], 'no repetition beyond R2')
  t.same(await open(), ['Handle', 'Nudged'], 'the reminder path started; Handle stays open (non-interrupting)')
  // bpmn-engine runs one execution of an activity at a time: the second reminder waits for the first.
  const nudged = await ctx.db('tasks').where({ activity_id: 'Nudged', status: 'open' }).first()
  const c = await ctx.app.inject({ method: 'POST', url: `/api/tasks/${nudged.id}/complete`, headers: officer, payload: { variables: {} } })
  t.same(
    c
      .json()
      .nextTasks.map((x: any) => x.activityId)
      .sort(),
    ['Handle', 'Nudged'],
    'the second reminder follows',
  )
})

t.test('an event sub-process with a timer start deploys (it runs: test/bpmn-event-subprocesses.test.ts)', async (t) => {
  const ctx = await testContext(t)
  const dep = await ctx.deploy(fixture('event-subprocess-timer.bpmn'))
  t.equal(dep.status, 201, JSON.stringify(dep.body))
})
