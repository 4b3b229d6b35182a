import type { Knex } from 'knex'
import type { Compilable } from './statement-batch.ts'

/** A knex query or raw statement, not yet run: awaiting runs it, a unit of work compiles it into its batch. */
type Statement = Compilable & PromiseLike<unknown>

/** The rows of a statement as knex answers it alone: an array (builders) or node-pg's result (raw). */
function rowsOf<Row>(result: unknown): Row[] {
  if (Array.isArray(result)) return result as Row[]
  if (result && typeof result === 'object' && Array.isArray((result as { rows?: unknown }).rows)) return (result as { rows: Row[] }).rows
  return result === undefined || result === null ? [] : [result as Row]
}

/**
 * One read, typed by its rows: built by a repository on a connection or transaction, not yet run.
 * `await query` (or `query.one()`) runs it alone; `uow.read(query)` sends it with the other
 * statements of a unit of work and gives a typed handle. `Row` is carried by the type only.
 */
export class Query<Row> implements PromiseLike<Row[]> {
  /** Never set: the row type travels with the query (`Handle<Row>` after a unit of work's flush). */
  declare readonly row: Row
  constructor(readonly statement: Statement) {}

  /** Runs the query alone; its rows. */
  async rows(): Promise<Row[]> {
    return rowsOf<Row>(await this.statement)
  }

  /** Runs the query alone; its first row, or null. */
  async one(): Promise<Row | null> {
    return (await this.rows())[0] ?? null
  }

  then<A = Row[], B = never>(
    ok?: ((rows: Row[]) => A | PromiseLike<A>) | null,
    fail?: ((err: unknown) => B | PromiseLike<B>) | null,
  ): PromiseLike<A | B> {
    return this.rows().then(ok, fail)
  }
}

/**
 * One write (insert, update, delete), not yet run. `await write` runs it alone and gives the number
 * of rows it changed; `uow.write(write)` adds it to a unit of work (with an optional row-count check).
 */
export class Write implements PromiseLike<number> {
  constructor(readonly statement: Statement) {}

  then<A = number, B = never>(
    ok?: ((changed: number) => A | PromiseLike<A>) | null,
    fail?: ((err: unknown) => B | PromiseLike<B>) | null,
  ): PromiseLike<A | B> {
    return Promise.resolve(this.statement)
      .then((r) => (typeof r === 'number' ? r : ((r as { rowCount?: number | null } | undefined)?.rowCount ?? 0)))
      .then(ok, fail)
  }
}

/** A typed read from a knex builder or raw statement. */
export const read = <Row>(statement: Knex.QueryBuilder | Knex.Raw): Query<Row> => new Query<Row>(statement as unknown as Statement)

/** A write from a knex builder or raw statement; `null` (nothing to write) stays null and is ignored by a unit of work. */
export function write(statement: Knex.QueryBuilder | Knex.Raw): Write
export function write(statement: Knex.QueryBuilder | Knex.Raw | null): Write | null
export function write(statement: Knex.QueryBuilder | Knex.Raw | null): Write | null {
  return statement ? new Write(statement as unknown as Statement) : null
}
