import type { Knex } from 'knex'
import pg from 'pg'
import pgUtils from 'pg/lib/utils.js'
import type { Tx } from './knex.ts'

/** What the batch accepts: any knex query or raw statement, not yet run (knex runs a builder only when awaited). */
export interface Compilable {
  toSQL(): { toNative(): { sql: string; bindings: readonly unknown[] } }
}

interface Statement {
  sql: string
  /** When set, the statement must affect exactly this many rows or the flush fails with `onMismatch`. */
  expectRows?: number
  onMismatch?: () => Error
}

/** A value as node-pg would send it as a parameter, written as a SQL literal. */
function literal(value: unknown): string {
  const prepared = pgUtils.prepareValue(value) as string | Buffer | null
  if (prepared === null) return 'NULL'
  if (Buffer.isBuffer(prepared)) return `'\\x${prepared.toString('hex')}'::bytea`
  return pg.escapeLiteral(prepared)
}

/** Replaces `$n` placeholders with the literals of their bindings, leaving quoted text and identifiers alone. */
export function inlineBindings(sql: string, bindings: readonly unknown[]): string {
  let out = ''
  let i = 0
  while (i < sql.length) {
    const c = sql[i]!
    if (c === "'" || c === '"') {
      const end = closingQuote(sql, i, c)
      out += sql.slice(i, end)
      i = end
    } else if (c === '$' && /[0-9]/.test(sql[i + 1] ?? '')) {
      let j = i + 1
      while (j < sql.length && /[0-9]/.test(sql[j]!)) j++
      const n = Number(sql.slice(i + 1, j))
      if (n < 1 || n > bindings.length) throw new Error(`statement batch: placeholder $${n} has no binding`)
      out += literal(bindings[n - 1])
      i = j
    } else {
      out += c
      i++
    }
  }
  return out
}

/** Index just past the quote that closes the one at `start` (a doubled quote is an escaped quote). */
function closingQuote(sql: string, start: number, q: string): number {
  let i = start + 1
  for (;;) {
    const k = sql.indexOf(q, i)
    if (k < 0) throw new Error('statement batch: unterminated quote in compiled SQL')
    if (sql[k + 1] === q) { i = k + 2; continue }
    return k + 1
  }
}

/**
 * The writes of one step, sent to Postgres in a single round trip at the end of the step instead of
 * one round trip each. Statements run in the order they were added, inside the caller's transaction,
 * so each sees the effects of the ones before it; if one fails, the transaction fails with it.
 *
 * Bindings are written as literals exactly as node-pg would send them as parameters (its own
 * `prepareValue` and `escapeLiteral`), because only the simple query protocol carries several
 * statements in one message. Reads never go through a batch: a read that must see the batch's
 * writes calls `flush` first.
 */
/** A deferred batch was asked to run: its step needs a read of its own writes and cannot be prepared ahead. */
export class DeferredFlushError extends Error {
  constructor() {
    super('statement batch: this batch is deferred and cannot be flushed mid-step')
  }
}

export class StatementBatch {
  private statements: Statement[] = []
  /** Deferred: the statements are kept to be sent later in another transaction (`append`); `flush` refuses. */
  readonly deferred: boolean

  constructor(opts: { deferred?: boolean } = {}) {
    this.deferred = opts.deferred ?? false
  }

  /** Adds a write; `null` (nothing to write) is ignored. */
  add(query: Compilable | null, check?: { expectRows: number; onMismatch: () => Error }): this {
    if (!query) return this
    const { sql, bindings } = query.toSQL().toNative()
    this.statements.push({ sql: inlineBindings(sql, bindings), ...check })
    return this
  }

  /**
   * Adds a read (e.g. a `SELECT … FOR UPDATE`); its rows are `flush(tx)[index]`. Several locking
   * reads in one batch take their locks in the order they were added, in one round trip.
   */
  read(query: Compilable): number {
    this.add(query)
    return this.statements.length - 1
  }

  get size(): number { return this.statements.length }

  /** Moves the statements of another (deferred) batch, with their row-count checks, to the end of this one. */
  append(other: StatementBatch): this {
    this.statements.push(...other.statements)
    other.statements = []
    return this
  }

  /** Runs every pending statement in one round trip on the transaction's connection; the rows of each, in order. */
  async flush(tx: Tx): Promise<unknown[][]> {
    if (this.deferred) throw new DeferredFlushError()
    if (!this.statements.length) return []
    const statements = this.statements
    this.statements = []
    // Inside a transaction, knex hands out the transaction's own connection.
    const connection = (await (tx as unknown as { client: Knex.Client }).client.acquireConnection()) as pg.ClientBase
    const res = await connection.query(statements.map((s) => s.sql).join(';\n'))
    const results = (Array.isArray(res) ? res : [res]) as pg.QueryResult[]
    statements.forEach((s, k) => {
      if (s.expectRows !== undefined && results[k]?.rowCount !== s.expectRows) throw s.onMismatch!()
    })
    return results.map((r) => r.rows)
  }
}
