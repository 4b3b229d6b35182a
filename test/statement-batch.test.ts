import t from 'tap'
import { freshDatabase } from './helpers/context.ts'
import { StatementBatch, inlineBindings } from '../src/db/statement-batch.ts'
import { createDb } from '../src/db/knex.ts'
import { MAX_PREPARING_MESSAGE, settled } from '../src/db/plan-cache.ts'

// Values that break naive quoting: quotes, backslashes, knex's `?`, `$1` inside text, NUL-free unicode, JSON with escapes.
const NASTY = [
  "O'Brien; DROP TABLE history; --",
  'C:\\Users\\cán bộ\\hồ sơ',
  "Hồ sơ hợp lệ? $1 $2 ?? \\? '",
  '"quoted" and \'single\' and $$dollar$$',
  '',
  'Ủy ban nhân dân xã — đăng ký hộ kinh doanh 🇻🇳',
]

t.test('a batch writes every value exactly as node-pg parameters would, in one round trip', async (t) => {
  const { db } = await freshDatabase(t)
  await db.schema.createTable('batch_probe', (b) => {
    b.increments('id')
    b.text('label')
    b.jsonb('doc')
    b.specificType('tags', 'text[]')
    b.timestamp('at', { useTz: true })
    b.integer('n')
    b.boolean('flag')
  })
  const at = new Date('2026-11-23T08:30:00.123Z')
  let roundTrips = 0
  db.on('query', () => {
    roundTrips++
  })
  await db.transaction(async (tx) => {
    roundTrips = 0
    const batch = new StatementBatch()
    for (const [i, label] of NASTY.entries()) {
      batch.add(
        tx('batch_probe').insert({
          label,
          doc: JSON.stringify({ label, nested: [label, i], backslash: '\\"' }),
          tags: [label, 'một cửa', 'a,b', '{x}'],
          at,
          n: i,
          flag: i % 2 === 0,
        }),
      )
    }
    batch.add(tx('batch_probe').where({ n: 0 }).update({ label: 'first updated' }))
    t.equal(batch.size, NASTY.length + 1)
    await batch.flush(tx)
    t.equal(roundTrips, 0, 'the flush does not go through knex query by query')
    t.equal(batch.size, 0, 'a flushed batch is empty')
  })
  const rows = await db('batch_probe').orderBy('id')
  t.equal(rows.length, NASTY.length)
  for (const [i, label] of NASTY.entries()) {
    const r = rows[i]
    t.equal(r.label, i === 0 ? 'first updated' : label, `label ${i} round-trips (later statements see earlier ones)`)
    t.same(r.doc, { label, nested: [label, i], backslash: '\\"' }, `json ${i} round-trips`)
    t.same(r.tags, [label, 'một cửa', 'a,b', '{x}'], `array ${i} round-trips`)
    t.equal(new Date(r.at).toISOString(), at.toISOString(), 'timestamps keep their instant and milliseconds')
    t.equal(r.n, i)
    t.equal(r.flag, i % 2 === 0)
  }
})

t.test('a row-count check fails the flush, and the transaction with it', async (t) => {
  const { db } = await freshDatabase(t)
  await db.schema.createTable('batch_probe', (b) => {
    b.integer('id').primary()
    b.integer('version')
  })
  await db('batch_probe').insert({ id: 1, version: 3 })
  const failure = db.transaction(async (tx) => {
    await new StatementBatch()
      .add(tx('batch_probe').insert({ id: 2, version: 0 }))
      .add(tx('batch_probe').where({ id: 1, version: 2 }).update({ version: 3 }), {
        expectRows: 1,
        onMismatch: () => new Error('stale version'),
      })
      .flush(tx)
  })
  await t.rejects(failure, { message: 'stale version' })
  t.same(await db('batch_probe').orderBy('id').select('id', 'version'), [{ id: 1, version: 3 }], 'nothing of the batch remains')

  const sqlError = db.transaction(async (tx) => {
    await new StatementBatch()
      .add(tx('batch_probe').insert({ id: 3, version: 0 }))
      .add(tx('batch_probe').insert({ id: 1, version: 0 }))
      .flush(tx)
  })
  await t.rejects(sqlError, { code: '23505' }, 'a failing statement surfaces its Postgres error')
  t.equal((await db('batch_probe')).length, 1, 'and the statements before it are rolled back')
})

t.test('a checked write is checked by Postgres and cannot carry RETURNING of its own', async (t) => {
  const { db } = await freshDatabase(t)
  await db.schema.createTable('batch_probe', (b) => {
    b.integer('id').primary()
    b.integer('version')
  })
  await db.transaction(async (tx) => {
    t.throws(
      () =>
        new StatementBatch().add(tx('batch_probe').where({ id: 1 }).update({ version: 1 }, ['id']), {
          expectRows: 1,
          onMismatch: () => new Error('x'),
        }),
      /RETURNING/,
    )
    await tx('batch_probe').insert({ id: 1, version: 0 })
    // Text that looks like the clause inside a value is data, not SQL.
    const [rows] = await new StatementBatch()
      .add(tx('batch_probe').where({ id: 1 }).whereRaw('? is not null', ['returning 1']).update({ version: 1 }), {
        expectRows: 1,
        onMismatch: () => new Error('x'),
      })
      .flush(tx)
    t.same(rows, [{ batch_expect_rows: 1 }])
  })
})

t.test('inlining leaves quoted text alone and refuses a placeholder without a binding', async (t) => {
  t.equal(inlineBindings(`select '$1', "$1", $1, $2`, ['a', null]), `select '$1', "$1", 'a', NULL`)
  t.equal(inlineBindings(`select 'it''s $1', $1`, [`it's`]), `select 'it''s $1', 'it''s'`)
  t.throws(() => inlineBindings('select $2', ['only one']), /placeholder \$2/)
  t.throws(() => inlineBindings(`select 'open`, []), /unterminated/)
})

t.test('a statement sent again runs from the plan its connection keeps; one Postgres cannot prepare stays inlined', async (t) => {
  const { url, db: owner } = await freshDatabase(t)
  await owner.schema.createTable('plan_probe', (b) => {
    b.integer('id').primary()
    b.text('label')
  })
  await owner('plan_probe').insert([
    { id: 1, label: 'một' },
    { id: 2, label: "hai 'hai'" },
  ])
  const db = createDb(url, 1) // one connection: every transaction below runs on it
  t.teardown(() => db.destroy())
  const prepared = () => db('pg_prepared_statements').orderBy('name').select('name', 'statement', 'from_sql')
  const run = (id: number) =>
    db.transaction(async (tx) => {
      const batch = new StatementBatch()
      const read = batch.read(tx('plan_probe').where({ id }).select('label'))
      // `? is null`: nothing tells Postgres the type of this parameter, so PREPARE refuses the shape.
      const untyped = batch.read(tx.raw('select ? is null as v', [`giá trị ${id}`]))
      const rows = await batch.flush(tx)
      return { label: (rows[read] as Array<{ label: string }>)[0]!.label, v: (rows[untyped] as Array<{ v: boolean }>)[0]!.v }
    })

  t.same(await run(1), { label: 'một', v: false }, 'first time: inlined, as before')
  await settled()
  t.same(await run(2), { label: "hai 'hai'", v: false }, 'then prepared on the connection and executed with its values')
  t.same(await run(1), { label: 'một', v: false }, 'and executed again from the same plan')
  const statements = (await prepared()).filter((p: { from_sql: boolean }) => p.from_sql)
  t.equal(statements.length, 1, 'one statement prepared on the connection')
  // Postgres shows the message that prepared it: the plan's statement, its EXECUTE, and the refused shape inlined.
  t.match(
    statements[0].statement,
    /PREPARE dvc_plan_\d+ AS select "label" from "plan_probe" where "id" = \$1;\nEXECUTE dvc_plan_\d+\('2'\)/,
  )
  t.match(statements[0].statement, /select 'giá trị 2' is null as v/, 'the shape Postgres refused is sent with its value inlined')

  // A batch that prepares a statement and then fails: the next one prepares it again and runs.
  await settled()
  const failing = db.transaction(async (tx) => {
    await new StatementBatch()
      .add(tx('plan_probe').insert({ id: 3, label: 'ba' }))
      .add(tx('plan_probe').insert({ id: 1, label: 'trùng' }))
      .flush(tx)
  })
  await t.rejects(failing, { code: '23505' })
  await settled()
  await db.transaction(async (tx) => {
    await new StatementBatch().add(tx('plan_probe').insert({ id: 3, label: 'ba' })).flush(tx)
  })
  await db.transaction(async (tx) => {
    await new StatementBatch().add(tx('plan_probe').insert({ id: 4, label: 'bốn' })).flush(tx)
  })
  t.same(
    (await owner('plan_probe').orderBy('id')).map((r: { label: string }) => r.label),
    ['một', "hai 'hai'", 'ba', 'bốn'],
    'the failed batch left nothing; the later ones wrote their rows',
  )
})

t.test('a query with parameters is parsed once per connection and planned from then on', async (t) => {
  const { url } = await freshDatabase(t)
  const db = createDb(url, 1)
  t.teardown(() => db.destroy())
  for (const id of [1, 2, 3]) t.same(await db.raw('select ?::int + 1 as n', [id]).then((r) => r.rows), [{ n: id + 1 }])
  const named = await db('pg_prepared_statements')
    .where({ from_sql: false })
    .whereLike('statement', '%+ 1 as n')
    .select('name', 'statement')
  t.same(
    named.map((p: { statement: string }) => p.statement),
    ['select $1::int + 1 as n'],
    'one named statement on the connection, whatever the values',
  )
})

t.test(
  'a table changed under kept plans (a migration while the server runs): one statement fails, the connection goes on unprepared',
  async (t) => {
    const { url, db: owner } = await freshDatabase(t)
    await owner.schema.createTable('plan_probe', (b) => {
      b.integer('id').primary()
      b.text('label')
    })
    await owner('plan_probe').insert({ id: 1, label: 'một' })
    const db = createDb(url, 1)
    t.teardown(() => db.destroy())
    const alone = () => db('plan_probe').where({ id: 1 }).select('*')
    const batched = () =>
      db.transaction(async (tx) => {
        const batch = new StatementBatch()
        const i = batch.read(tx('plan_probe').where({ id: 1 }).select('*'))
        return (await batch.flush(tx))[i]
      })
    for (let i = 0; i < 3; i++) {
      await alone()
      await batched()
      await settled()
    }
    await owner.schema.alterTable('plan_probe', (b) => b.text('added').defaultTo('thêm'))

    const first = await alone().then(
      (rows) => ({ rows }),
      (err: { code?: string }) => ({ code: err.code }),
    )
    t.same(first, { code: '0A000' }, 'the statement that meets the change fails, as Postgres refuses its kept plan')
    t.same(await alone(), [{ id: 1, label: 'một', added: 'thêm' }], 'the next one runs unprepared and sees the new column')
    t.same(await batched(), [{ id: 1, label: 'một', added: 'thêm' }], 'and so does a batch on that connection')
  },
)

t.test('a statement is prepared only in a small message: a PREPARE keeps the whole message as its source', async (t) => {
  const { url, db: owner } = await freshDatabase(t)
  await owner.schema.createTable('plan_size_probe', (b) => {
    b.integer('id').primary()
    b.text('label')
  })
  const db = createDb(url, 1)
  t.teardown(() => db.destroy())
  const write = (id: number, label: string) =>
    db.transaction(async (tx) => {
      await new StatementBatch().add(tx('plan_size_probe').insert({ id, label })).flush(tx)
    })
  const prepared = () => db('pg_prepared_statements').where({ from_sql: true }).select('statement')

  // A shape no other test sends, so that its verification starts here.
  await write(1, 'một')
  await settled()
  const large = 'x'.repeat(MAX_PREPARING_MESSAGE)
  await write(2, large)
  t.same(await prepared(), [], 'a message larger than the limit prepares nothing: its shape is sent inlined')
  await write(3, 'ba')
  const kept = await prepared()
  t.equal(kept.length, 1, 'the next small message prepares it')
  t.ok(kept[0].statement.length <= MAX_PREPARING_MESSAGE, 'and the source Postgres keeps for it is that small message')
  await write(4, large)
  t.same(
    (await owner('plan_size_probe').orderBy('id').select('id', 'label')).map((r: { id: number; label: string }) => [r.id, r.label.length]),
    [
      [1, 3],
      [2, MAX_PREPARING_MESSAGE],
      [3, 2],
      [4, MAX_PREPARING_MESSAGE],
    ],
    'every row written, the large ones too (from the kept plan once it exists)',
  )
})

t.test('a batch writes the values as they were when each statement was added', async (t) => {
  const { url, db: owner } = await freshDatabase(t)
  await owner.schema.createTable('plan_probe', (b) => {
    b.integer('id').primary()
    b.jsonb('state')
  })
  const db = createDb(url, 1)
  t.teardown(() => db.destroy())
  const state = { step: 'Tiếp nhận', tasks: ['a'] }
  await db.transaction(async (tx) => {
    const batch = new StatementBatch().add(tx('plan_probe').insert({ id: 1, state }))
    state.step = 'Thẩm định'
    state.tasks.push('b')
    await batch.flush(tx)
  })
  t.same((await owner('plan_probe').first()).state, { step: 'Tiếp nhận', tasks: ['a'] }, 'not the object as changed after `add`')
})
