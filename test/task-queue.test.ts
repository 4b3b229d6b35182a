import t from 'tap'
import { auth, fixture, testContext } from './helpers/context.ts'

t.test('task queue: filters, sorting and cursor pagination', async (t) => {
  const ctx = await testContext(t)
  await ctx.deploy(fixture('camunda-modeler-leave.bpmn'))
  const officer = await auth(ctx, { roles: ['officer'], groups: ['one-stop'] })
  for (let i = 0; i < 7; i++) {
    await ctx.app.inject({
      method: 'POST',
      url: '/api/dossiers',
      headers: officer,
      payload: { procedureCode: 'PermitRequest', applicant: { name: `A${i}`, idNumber: `00109900${1000 + i}` }, channel: 1, data: {} },
    })
  }
  const seen: string[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const res: any = await ctx.app.inject({
      url: `/api/tasks?limit=3&procedureCode=PermitRequest${cursor ? `&cursor=${cursor}` : ''}`,
      headers: officer,
    })
    t.equal(res.statusCode, 200)
    seen.push(...res.json().items.map((x: any) => x.id))
    cursor = res.json().nextCursor
    pages++
  } while (cursor)
  t.equal(pages, 3)
  t.equal(new Set(seen).size, 7, 'every task once across pages')
  const desc = await ctx.app.inject({ url: '/api/tasks?sortOrder=desc&limit=50', headers: officer })
  t.same(
    desc.json().items.map((x: any) => x.id),
    [...seen].reverse(),
    'descending is the reverse order',
  )
  const supervisor = await auth(ctx, { roles: ['supervisor'] })
  t.equal((await ctx.app.inject({ url: '/api/tasks', headers: supervisor })).json().items.length, 7, "supervisor sees the agency's tasks")
  const otherAgency = await auth(ctx, { roles: ['supervisor'], agency: 'SO-TU-PHAP' })
  t.equal((await ctx.app.inject({ url: '/api/tasks', headers: otherAgency })).json().items.length, 0, 'another agency sees none')
  const none = await ctx.app.inject({ url: '/api/tasks?dueBefore=2000-01-01T00:00:00Z', headers: officer })
  t.equal(none.json().items.length, 0)
})
