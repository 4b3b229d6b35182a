import type { Knex } from 'knex'
import pg from 'pg'
import pgUtils from 'pg/lib/utils.js'
import type { Tx } from './knex.ts'
import { forget, MAX_PREPARING_MESSAGE, planned, staleAfter } from './plan-cache.ts'
import { committedByBatch } from './transaction-boundaries.ts'

/** What the batch accepts: any knex query or raw statement, not yet run (knex runs a builder only when awaited). */
export interface Compilable {
  toSQL(): { toNative(): { sql: string; bindings: readonly unknown[] } }
}

interface Statement {
  /** Compiled, with `$n` placeholders (the shape whose plan a connection keeps). */
  shape: string
  /**
   * The bindings as SQL literals, rendered when the statement is added: the values as they were then
   * (a caller may change an object afterwards), and a deferred batch's rendering is done while it is
   * prepared, not on the path of the transaction that later sends it.
   */
  literals: readonly string[]
  /** About the characters it adds to the message (its shape and literals). */
  size: number
  /** A row-count check: its id in Postgres's error, and the error the flush throws instead. */
  check?: { id: number; onMismatch: () => Error }
}

function statement(shape: string, literals: string[]): Statement {
  return { shape, literals, size: literals.reduce((n, l) => n + l.length, shape.length) }
}

/** Ids of row-count checks, unique in the process (statements move between batches with `append`). */
let nextCheckId = 1
const CHECK_FAILED = /^statement batch: statement (\d+) changed/

/** A value as node-pg would send it as a parameter, written as a SQL literal. */
function literal(value: unknown): string {
  const prepared = pgUtils.prepareValue(value) as string | Buffer | null
  if (prepared === null) return 'NULL'
  if (Buffer.isBuffer(prepared)) return `'\\x${prepared.toString('hex')}'::bytea`
  return pg.escapeLiteral(prepared)
}

/** Where inlining has something to do: a quote (text to skip) or a `$n` placeholder. */
const SPECIAL = /['"]|\$[0-9]/g

/** Replaces `$n` placeholders with the literals of their bindings, leaving quoted text and identifiers alone. */
export function inlineBindings(sql: string, bindings: readonly unknown[]): string {
  return inlineLiterals(sql, bindings.map(literal))
}

/** Replaces `$n` placeholders with SQL literals (`literals[n - 1]`), leaving quoted text and identifiers alone. */
function inlineLiterals(sql: string, literals: readonly string[]): string {
  let out = ''
  let copied = 0
  SPECIAL.lastIndex = 0
  for (let m = SPECIAL.exec(sql); m; m = SPECIAL.exec(sql)) {
    const i = m.index
    if (sql[i] !== '$') {
      SPECIAL.lastIndex = closingQuote(sql, i, sql[i]!)
      continue
    }
    let j = i + 1
    while (j < sql.length && sql.charCodeAt(j) >= 48 && sql.charCodeAt(j) <= 57) j++
    const n = Number(sql.slice(i + 1, j))
    if (n < 1 || n > literals.length) throw new Error(`statement batch: placeholder $${n} has no binding`)
    out += sql.slice(copied, i) + literals[n - 1]
    copied = j
    SPECIAL.lastIndex = j
  }
  return out + sql.slice(copied)
}

/** Index just past the quote that closes the one at `start` (a doubled quote is an escaped quote). */
function closingQuote(sql: string, start: number, q: string): number {
  let i = start + 1
  for (;;) {
    const k = sql.indexOf(q, i)
    if (k < 0) throw new Error('statement batch: unterminated quote in compiled SQL')
    if (sql[k + 1] === q) {
      i = k + 2
      continue
    }
    return k + 1
  }
}

/** A deferred batch was asked to run: its step needs a read of its own writes and cannot be prepared ahead. */
export class DeferredFlushError extends Error {
  constructor() {
    super('statement batch: this batch is deferred and cannot be flushed mid-step')
  }
}

/**
 * The statements of one step (its locking reads, then its writes), sent to Postgres in a single round
 * trip instead of one round trip each. Statements run in the order they were added, inside the
 * caller's transaction, so each sees the effects of the ones before it; if one fails, the transaction
 * fails with it. A read that must see the batch's writes calls `flush` first.
 *
 * Bindings are written as literals exactly as node-pg would send them as parameters (its own
 * `prepareValue` and `escapeLiteral`), because only the simple query protocol carries several
 * statements in one message. A transaction's BEGIN travels with its first batch, and its last batch
 * may carry the COMMIT (`src/db/transaction-boundaries.ts`).
 */
export class StatementBatch {
  private statements: Statement[] = []
  /** Deferred: the statements are kept to be sent later in another transaction (`append`); `flush` refuses. */
  readonly deferred: boolean

  constructor(opts: { deferred?: boolean } = {}) {
    this.deferred = opts.deferred ?? false
  }

  /**
   * Adds a write; `null` (nothing to write) is ignored. With `check`, the write must change exactly
   * `expectRows` rows: Postgres checks it (`batch_expect_rows`) and fails the statement otherwise, so
   * nothing after it runs (not even a COMMIT in the same message) and the flush throws `onMismatch()`.
   */
  add(query: Compilable | null, check?: { expectRows: number; onMismatch: () => Error }): this {
    if (!query) return this
    const { sql, bindings } = query.toSQL().toNative()
    if (!check) {
      this.statements.push(statement(sql, bindings.map(literal)))
      return this
    }
    // Tested on the compiled SQL, whose values are still placeholders.
    if (/\breturning\b/i.test(sql)) throw new Error('statement batch: a checked write cannot have a RETURNING clause of its own')
    const id = nextCheckId++
    const n = bindings.length
    this.statements.push({
      ...statement(
        `WITH changed AS (${sql} RETURNING 1) SELECT batch_expect_rows(count(*), $${n + 1}, $${n + 2}) FROM changed`,
        [...bindings, Number(check.expectRows), id].map(literal),
      ),
      check: { id, onMismatch: check.onMismatch },
    })
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

  get size(): number {
    return this.statements.length
  }

  /** Moves the statements of another (deferred) batch, with their row-count checks, to the end of this one. */
  append(other: StatementBatch): this {
    this.statements.push(...other.statements)
    other.statements = []
    return this
  }

  /**
   * Runs every pending statement in one round trip on the transaction's connection; the rows of each,
   * in order. With `commit`, the same message ends with COMMIT: the caller runs nothing else in this
   * transaction afterwards (the connection refuses it), and knex's own COMMIT costs no round trip.
   * If a statement fails, nothing after it runs and the transaction is left to roll back as before.
   */
  async flush(tx: Tx, opts: { commit?: boolean } = {}): Promise<unknown[][]> {
    if (this.deferred) throw new DeferredFlushError()
    if (!this.statements.length) return []
    const statements = this.statements
    this.statements = []
    // Inside a transaction, knex hands out the transaction's own connection.
    const connection = (await (tx as unknown as { client: Knex.Client }).client.acquireConnection()) as pg.ClientBase
    // Each statement as EXECUTE of a plan kept on the connection, or with its values inlined (plan-cache.ts).
    const texts: string[] = []
    const resultOf: number[] = []
    const fresh: string[] = []
    let next = 0
    // A PREPARE keeps the whole message as its source text, copied by each EXECUTE: prepare only in small ones.
    const mayPrepare = statements.reduce((n, s) => n + s.size, 0) <= MAX_PREPARING_MESSAGE
    for (const s of statements) {
      const p = planned(connection, s.shape, s.literals, mayPrepare)
      if (p?.fresh) fresh.push(p.fresh)
      texts.push(p ? p.text : inlineLiterals(s.shape, s.literals))
      next += p?.extraResults ?? 0
      resultOf.push(next++)
    }
    let res: unknown
    try {
      res = await connection.query(texts.join(';\n') + (opts.commit ? ';\nCOMMIT' : ''))
    } catch (err) {
      forget(connection, fresh)
      staleAfter(connection, err)
      const failed = (err as { code?: string }).code === 'P0004' ? CHECK_FAILED.exec((err as Error).message) : null
      const statement = failed ? statements.find((s) => s.check?.id === Number(failed[1])) : undefined
      throw statement ? statement.check!.onMismatch() : err
    }
    const results = (Array.isArray(res) ? res : [res]) as pg.QueryResult[]
    if (opts.commit) committedByBatch(connection)
    return resultOf.map((i) => results[i]!.rows)
  }
}
