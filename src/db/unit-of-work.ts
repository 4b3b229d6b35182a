import type { Db, Tx } from './knex.ts'
import type { Query, Write } from './query.ts'
import { DeferredFlushError, StatementBatch } from './statement-batch.ts'

/** The rows of a read added to a unit of work, available once the unit of work has flushed. */
export class Handle<Row> {
  private value: Row[] | null = null

  /** @internal Filled by the flush that sent the read. */
  fill(rows: unknown[]): void {
    this.value = rows as Row[]
  }

  get rows(): Row[] {
    if (!this.value) throw new Error('unit of work: a read is answered by the flush that sends it')
    return this.value
  }

  /** The first row, or null. */
  one(): Row | null {
    return this.rows[0] ?? null
  }
}

/** A row-count check of a write: Postgres fails the statement unless it changed exactly `expectRows` rows. */
export interface RowCheck {
  expectRows: number
  onMismatch: () => Error
}

declare const COMMITTED: unique symbol
/** What a transaction's callback returns: produced only by `uow.commit()` or `uow.finish()`, after which nothing runs. */
export interface Committed<T> {
  readonly [COMMITTED]: T
}

/**
 * The statements of one transaction, sent to Postgres a batch at a time (one round trip each) instead
 * of one round trip per statement (src/db/README.md). Reads give typed handles answered by the flush
 * that sends them; writes may carry a row-count check that Postgres itself enforces.
 *
 * A deferred unit of work keeps its writes to be appended to another one later (a timer firing prepared
 * ahead): it refuses reads and flushes, so a step that must read cannot be prepared.
 */
export class UnitOfWork {
  private readonly batch: StatementBatch
  private pending: Array<{ index: number; handle: Handle<unknown> }> = []
  private closed = false

  constructor(
    readonly tx: Tx,
    opts: { deferred?: boolean } = {},
  ) {
    this.batch = new StatementBatch({ deferred: opts.deferred })
  }

  get deferred(): boolean {
    return this.batch.deferred
  }

  /** Statements waiting for the next flush. */
  get size(): number {
    return this.batch.size
  }

  private open(): void {
    if (this.closed) throw new Error('unit of work: its transaction is committed, nothing may run after it')
  }

  /** Adds a read; its rows are on the handle after the next flush. Reads run in the order added (locks too). */
  read<Row>(query: Query<Row>): Handle<Row> {
    this.open()
    if (this.deferred) throw new DeferredFlushError()
    const handle = new Handle<Row>()
    this.pending.push({ index: this.batch.read(query.statement), handle: handle as Handle<unknown> })
    return handle
  }

  /** Adds a write; `null` (nothing to write) is ignored. */
  write(w: Write | null, check?: RowCheck): this {
    this.open()
    if (w) this.batch.add(w.statement, check)
    return this
  }

  /** Moves the writes of a deferred unit of work, with their row-count checks, to the end of this one. */
  append(other: UnitOfWork): this {
    this.open()
    this.batch.append(other.batch)
    return this
  }

  private async send(commit: boolean): Promise<void> {
    this.open()
    const pending = this.pending
    this.pending = []
    const rows = await this.batch.flush(this.tx, { commit })
    for (const p of pending) p.handle.fill(rows[p.index]!)
  }

  /** Sends every pending statement in one round trip; the transaction stays open. */
  async flush(): Promise<void> {
    await this.send(false)
  }

  /**
   * Sends every pending statement and the COMMIT in one message, and closes the unit of work: the
   * transaction is over, so `value` is all the callback has left to return.
   */
  async commit<T>(value: T): Promise<Committed<T>> {
    if (this.size) await this.send(true)
    this.closed = true
    return value as unknown as Committed<T>
  }

  /** Like `commit`, with an answer built from reads the COMMIT's message answered (e.g. a row read back after the writes). */
  async commitWith<T>(answer: () => T): Promise<Committed<T>> {
    if (this.size) await this.send(true)
    this.closed = true
    return answer() as unknown as Committed<T>
  }

  /** Sends every pending statement and closes the unit of work; knex's COMMIT follows in a message of its own. */
  async finish<T>(value: T): Promise<Committed<T>> {
    if (this.size) await this.send(false)
    this.closed = true
    return value as unknown as Committed<T>
  }
}

/**
 * Runs `fn` in a transaction with its unit of work. The callback ends with `return uow.commit(value)`
 * (or `commitWith`, `finish`): its type makes a transaction that does not end through its unit of
 * work (and so might leave statements unsent) fail to compile; after the commit the unit of work
 * refuses any statement.
 */
export async function transaction<T>(db: Db | Tx, fn: (uow: UnitOfWork) => Promise<Committed<T>>): Promise<T> {
  return (await db.transaction(async (tx) => fn(new UnitOfWork(tx)))) as unknown as T
}
