import knexFactory, { type Knex } from 'knex'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { deferBegin } from './transaction-boundaries.ts'

// Return BIGINT (int8) columns as numbers: our bigserial ids stay far below 2^53.
pg.types.setTypeParser(20, (v: string) => Number(v))

export type Db = Knex
export type Tx = Knex.Transaction
/** A connection or an open transaction: repositories accept either. */
export type Queryable = Knex | Knex.Transaction
/** A key, or a subquery that selects it: a batch can then lock rows found through another row in the same round trip. */
export type KeyOrSubquery = string | Knex.QueryBuilder

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations')

export function createDb(url: string, poolMax = 20): Db {
  return knexFactory({
    client: 'pg',
    connection: { connectionString: url, application_name: 'dvc-bpmn' },
    // Each transaction's BEGIN travels with its first statement (one round trip less per transaction).
    pool: {
      min: 0,
      max: poolMax,
      afterCreate: (conn: pg.Client, done: (err: Error | null, conn: pg.Client) => void) => done(null, deferBegin(conn)),
    },
    migrations: { directory: MIGRATIONS_DIR, loadExtensions: ['.ts'], tableName: 'knex_migrations' },
  })
}

export async function migrateLatest(db: Db): Promise<void> {
  await db.migrate.latest()
}
