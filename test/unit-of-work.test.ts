import t from 'tap'
import { freshDatabase } from './helpers/context.ts'
import { recordPostgresMessages } from './helpers/pg-messages.ts'
import { read, write } from '../src/db/query.ts'
import { DeferredFlushError } from '../src/db/statement-batch.ts'
import { transaction, UnitOfWork } from '../src/db/unit-of-work.ts'
import type { Db } from '../src/db/knex.ts'

// Every message node-pg sends to Postgres.
const sent = recordPostgresMessages(t)

interface Probe {
  id: number
  label: string
}

async function probeTable(db: Db) {
  await db.schema.createTable('uow_probe', (b) => {
    b.integer('id').primary()
    b.text('label').notNullable()
  })
  await db('uow_probe').insert([
    { id: 1, label: 'một' },
    { id: 2, label: 'hai' },
  ])
}

const find = (q: Db, id: number) => read<Probe>(q('uow_probe').where({ id }).select('*'))
const rename = (q: Db, id: number, label: string) => write(q('uow_probe').where({ id }).update({ label }))

t.test('a unit of work: typed reads answered by one message with the BEGIN, the writes and the COMMIT in another', async (t) => {
  const { db } = await freshDatabase(t)
  await probeTable(db)
  sent.length = 0
  const labels = await transaction(db, async (uow) => {
    const one = uow.read(find(uow.tx, 1))
    const two = uow.read(find(uow.tx, 2))
    const none = uow.read(find(uow.tx, 3))
    t.throws(() => one.rows, /answered by the flush/, 'a handle has no rows before its flush')
    await uow.flush()
    uow.write(rename(uow.tx, 1, `${one.one()!.label} (đổi)`)).write(null)
    return uow.commit([one.one()!.label, two.rows.map((r) => r.label)[0], none.one()])
  })
  t.same(labels, ['một', 'hai', null], 'rows of each read, null for no row')
  t.equal(sent.length, 2, `two messages (${sent.map((m) => m.slice(0, 30)).join(' | ')})`)
  t.match(sent[0], /^BEGIN;\nselect/)
  t.match(sent[1], /^update .*;\nCOMMIT$/)
  t.equal((await find(db, 1).one())!.label, 'một (đổi)', 'committed')
  t.same(await find(db, 2), [{ id: 2, label: 'hai' }], 'a query awaited alone gives its rows')
  t.equal(await rename(db, 2, 'hai (đổi)'), 1, 'a write awaited alone gives the rows it changed')
})

t.test('after its COMMIT a unit of work refuses statements; a deferred one refuses reads and flushes', async (t) => {
  const { db } = await freshDatabase(t)
  await probeTable(db)
  await transaction(db, async (uow) => {
    const done = await uow.write(rename(uow.tx, 1, 'đã chốt')).commit('ok')
    t.throws(() => uow.write(rename(uow.tx, 2, 'sau COMMIT')), /committed/, 'no write after the commit')
    t.throws(() => uow.read(find(uow.tx, 2)), /committed/, 'no read either')
    return done
  })
  t.equal((await find(db, 2).one())!.label, 'hai', 'nothing ran after the commit')

  await db.transaction(async (tx) => {
    const deferred = new UnitOfWork(tx, { deferred: true })
    const refusal = (fn: () => unknown) => {
      try {
        fn()
        return null
      } catch (err) {
        return err
      }
    }
    t.ok(refusal(() => deferred.read(find(tx, 1))) instanceof DeferredFlushError, 'no read: it could only be answered by a flush')
    deferred.write(rename(tx, 2, 'hoãn'))
    t.ok(
      (await deferred.flush().then(
        () => null,
        (err: unknown) => err,
      )) instanceof DeferredFlushError,
      'no flush',
    )
    // Its writes go with another unit of work.
    await new UnitOfWork(tx).append(deferred).flush()
  })
  t.equal((await find(db, 2).one())!.label, 'hoãn', 'the deferred writes ran where they were appended')
})
