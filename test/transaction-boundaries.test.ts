import t from 'tap'
import pg from 'pg'
import { freshDatabase } from './helpers/context.ts'
import { recordPostgresMessages } from './helpers/pg-messages.ts'
import { StatementBatch } from '../src/db/statement-batch.ts'
import type { Db } from '../src/db/knex.ts'

// Every message node-pg sends to Postgres.
const sent = recordPostgresMessages(t)

async function probeTable(db: Db) {
  await db.schema.createTable('begin_probe', (b) => {
    b.integer('id').primary()
    b.text('label').notNullable()
  })
  await db('begin_probe').insert({ id: 1, label: 'có sẵn' })
}

/** A connection of its own, outside the pool: it sees only what is committed. */
async function anotherSession(t: { teardown(fn: () => unknown): void }, db: Db): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: (db.client.config.connection as { connectionString: string }).connectionString })
  await client.connect()
  t.teardown(() => client.end())
  return client
}

t.test("a transaction's BEGIN goes with its first statement, in the same message", async (t) => {
  const { db } = await freshDatabase(t)
  await probeTable(db)
  sent.length = 0
  const rows = await db.transaction(async (tx) => {
    const batch = new StatementBatch()
    const lock = batch.read(tx('begin_probe').where({ id: 1 }).forUpdate().select('*'))
    batch.add(tx('begin_probe').insert({ id: 2, label: 'mới' }))
    return (await batch.flush(tx))[lock]
  })
  t.same(rows, [{ id: 1, label: 'có sẵn' }], "the first statement's rows, not BEGIN's")
  t.equal(sent.length, 2, 'two messages: BEGIN + the batch, then COMMIT')
  t.match(sent[0], /^BEGIN;\nselect \* from "begin_probe" where "id" = '1' for update;\ninsert/)
  t.equal(sent[1], 'COMMIT;')
  t.same(await db('begin_probe').orderBy('id').pluck('label'), ['có sẵn', 'mới'], 'committed')

  sent.length = 0
  const one = await db.transaction(
    async (tx) => await new StatementBatch().add(tx('begin_probe').where({ id: 2 }).update({ label: 'đổi' })).flush(tx),
  )
  t.same(one, [[]], 'a batch of one statement answers as before')
  t.equal(sent.length, 2)
})

t.test('atomicity is unchanged: a failure after the first statement rolls everything back', async (t) => {
  const { db } = await freshDatabase(t)
  await probeTable(db)
  await t.rejects(
    db.transaction(async (tx) => {
      await new StatementBatch().add(tx('begin_probe').insert({ id: 10, label: 'lô' })).flush(tx)
      await tx('begin_probe').insert({ id: 11, label: 'tham số' }) // parameters: the extended protocol
      throw new Error('huỷ')
    }),
    /huỷ/,
  )
  t.same(await db('begin_probe').pluck('id'), [1], 'neither row is kept')

  await t.rejects(
    db.transaction(async (tx) => {
      await tx('begin_probe').insert({ id: 12, label: 'tham số trước' }) // first statement with parameters
      await tx('begin_probe').insert({ id: 1, label: 'trùng khoá' })
    }),
    /duplicate key/,
  )
  t.same(await db('begin_probe').pluck('id'), [1], 'a first statement with parameters is inside the transaction too')

  await t.rejects(
    db.transaction(async (tx) => {
      await new StatementBatch().add(tx('begin_probe').insert({ id: 1, label: 'trùng ngay câu đầu' })).flush(tx)
    }),
    /duplicate key/,
  )
  // Every pooled connection still works and is outside any transaction: these commit on their own.
  await Promise.all([20, 21, 22, 23, 24].map((id) => db('begin_probe').insert({ id, label: 'sau lỗi' })))
  const other = await anotherSession(t, db)
  t.same(
    (await other.query('select id from begin_probe order by id')).rows.map((r) => r.id),
    [1, 20, 21, 22, 23, 24],
    'visible to another session at once',
  )
})

t.test('a transaction without statements commits or rolls back without a round trip and leaves nothing open', async (t) => {
  const { db } = await freshDatabase(t)
  await probeTable(db)
  sent.length = 0
  t.equal(await db.transaction(async () => 'không làm gì'), 'không làm gì')
  await t.rejects(
    db.transaction(async () => {
      throw new Error('bỏ')
    }),
    /bỏ/,
  )
  t.same(sent, [], 'nothing sent')
  await db('begin_probe').insert({ id: 30, label: 'tự chốt' })
  const other = await anotherSession(t, db)
  t.same(
    (await other.query('select label from begin_probe where id = 30')).rows,
    [{ label: 'tự chốt' }],
    'the next statement on the connection commits by itself',
  )
})

t.test("a batch can end its transaction: COMMIT in the same message, knex's COMMIT costs nothing", async (t) => {
  const { db } = await freshDatabase(t)
  await probeTable(db)
  sent.length = 0
  const rows = await db.transaction(async (tx) => {
    const batch = new StatementBatch()
    const lock = batch.read(tx('begin_probe').where({ id: 1 }).forUpdate().select('label'))
    batch.add(tx('begin_probe').insert({ id: 40, label: 'một chuyến' }))
    return (await batch.flush(tx, { commit: true }))[lock]
  })
  t.same(rows, [{ label: 'có sẵn' }], 'the rows of the statements, not of BEGIN or COMMIT')
  t.equal(sent.length, 1, 'BEGIN, the statements and COMMIT in one message')
  t.match(sent[0], /^BEGIN;\n[\s\S]*;\nCOMMIT$/)
  t.same(await db('begin_probe').orderBy('id').pluck('id'), [1, 40], 'committed')

  // Two statements' worth of work after the message that committed: refused, the transaction fails.
  await t.rejects(
    db.transaction(async (tx) => {
      await new StatementBatch().add(tx('begin_probe').insert({ id: 41, label: 'đã chốt' })).flush(tx, { commit: true })
      await tx('begin_probe').insert({ id: 42, label: 'quá muộn' })
    }),
    /already committed/,
  )
  t.same(
    await db('begin_probe').orderBy('id').pluck('id'),
    [1, 40, 41],
    'what the batch committed stays; nothing ran outside a transaction',
  )
  await db('begin_probe').insert({ id: 43, label: 'kết nối vẫn dùng được' })
  t.equal((await db('begin_probe').where({ id: 43 }).first()).label, 'kết nối vẫn dùng được')
})

t.test('a failure in a committing batch commits nothing of it', async (t) => {
  const { db } = await freshDatabase(t)
  await db.schema.createTable('versioned_probe', (b) => {
    b.integer('id').primary()
    b.integer('version')
  })
  await db('versioned_probe').insert({ id: 1, version: 3 })
  await t.rejects(
    db.transaction(async (tx) => {
      await new StatementBatch()
        .add(tx('versioned_probe').insert({ id: 2, version: 0 }))
        .add(tx('versioned_probe').where({ id: 1, version: 2 }).update({ version: 3 }), {
          expectRows: 1,
          onMismatch: () => new Error('phiên bản cũ'),
        })
        .add(tx('versioned_probe').insert({ id: 3, version: 0 }))
        .flush(tx, { commit: true })
    }),
    { message: 'phiên bản cũ' },
    'a stale version check fails the message before its COMMIT',
  )
  await t.rejects(
    db.transaction(async (tx) => {
      await new StatementBatch()
        .add(tx('versioned_probe').insert({ id: 4, version: 0 }))
        .add(tx('versioned_probe').insert({ id: 1, version: 0 }))
        .flush(tx, { commit: true })
    }),
    { code: '23505' },
  )
  t.same(await db('versioned_probe').pluck('id'), [1], 'neither batch left a row')
  await db.transaction(async (tx) => {
    await new StatementBatch()
      .add(tx('versioned_probe').where({ id: 1, version: 3 }).update({ version: 4 }), {
        expectRows: 1,
        onMismatch: () => new Error('không mong đợi'),
      })
      .flush(tx, { commit: true })
  })
  t.equal((await db('versioned_probe').where({ id: 1 }).first()).version, 4, 'a check that holds commits')
})

t.test('the first statement takes its locks inside the transaction and holds them to the end', async (t) => {
  const { db } = await freshDatabase(t)
  await probeTable(db)
  let release!: () => void
  const held = new Promise<void>((r) => {
    release = r
  })
  let locked!: () => void
  const isLocked = new Promise<void>((r) => {
    locked = r
  })
  const first = db.transaction(async (tx) => {
    await new StatementBatch().add(tx('begin_probe').where({ id: 1 }).forUpdate().select('*')).flush(tx)
    locked()
    await held
    await tx('begin_probe').where({ id: 1 }).update({ label: 'bên giữ khoá' })
  })
  await isLocked
  await t.rejects(
    db.transaction((tx) => tx.raw('select * from begin_probe where id = 1 for update nowait')),
    /could not obtain lock/,
    'another transaction cannot take the lock',
  )
  release()
  await first
  t.equal((await db('begin_probe').where({ id: 1 }).first()).label, 'bên giữ khoá')
})
