import type pg from 'pg'
import { staleAfter, withStatementName } from './plan-cache.ts'

type Callback = (err: Error | null, res?: unknown) => void

const BEGIN = /^\s*BEGIN\s*;?\s*$/i
const ENDS = /^\s*(COMMIT|ROLLBACK)\s*;?\s*$/i

/** A result as node-pg gives it for a statement without rows (what knex expects back from BEGIN/COMMIT). */
const emptyResult = (command: string) => ({ command, rowCount: null, oid: null, rows: [], fields: [] })
/** The result of a COMMIT or ROLLBACK answered without sending it. */
const endResult = (text: string) => emptyResult(/COMMIT/i.test(text) ? 'COMMIT' : 'ROLLBACK')

/** What a connection holds back: a BEGIN not sent yet, or a transaction already ended by a batch's COMMIT. */
interface Boundaries {
  held: boolean
  committed: boolean
}
const boundaries = new WeakMap<object, Boundaries>()

/** A query node-pg sends with the simple protocol (text only), which may carry several statements. */
function simpleText(config: unknown, values: unknown): string | null {
  if (typeof config === 'string') return Array.isArray(values) && values.length ? null : config
  if (!config || typeof config !== 'object') return null
  const c = config as { text?: unknown; values?: unknown[]; name?: unknown; rows?: unknown; queryMode?: unknown; submit?: unknown }
  if (typeof c.submit === 'function' || typeof c.text !== 'string' || c.name || c.rows || c.queryMode === 'extended') return null
  if ((c.values && c.values.length) || (Array.isArray(values) && values.length)) return null
  return c.text
}

/**
 * Records that the transaction open on `client` was ended by the COMMIT at the end of a batch's
 * message (StatementBatch `flush(tx, { commit: true })`): knex's own COMMIT that follows is answered
 * at once. Until then the connection refuses any other statement, which would otherwise run outside
 * the transaction its caller believes it is in.
 */
export function committedByBatch(client: pg.ClientBase): void {
  // A connection without deferBegin gets knex's COMMIT for real: Postgres answers it with a warning only.
  const state = boundaries.get(client)
  if (state) state.committed = true
}

/**
 * Sends a transaction's BEGIN with its first statement instead of in a round trip of its own, and
 * lets a batch carry the COMMIT (see `committedByBatch`).
 *
 * knex opens every transaction with `BEGIN;` and waits for the answer before the first statement.
 * On this connection the BEGIN is answered at once and held; the next query carries it: a text
 * query (a StatementBatch, BEGIN/COMMIT of knex) goes as one message `BEGIN; <text>` and its BEGIN
 * result is removed from the answer; a query with parameters follows a BEGIN sent just before it,
 * as it would have been. A COMMIT or ROLLBACK of a transaction that never ran a statement has
 * nothing to end and is answered at once. Nothing changes for queries outside transactions.
 *
 * Semantics are those of an explicit transaction: BEGIN has no effect on the server until the first
 * statement runs (the snapshot and the locks are taken by statements), and if that statement fails
 * the transaction is open and aborted, so knex's ROLLBACK ends it as before.
 */
export function deferBegin(client: pg.Client): pg.Client {
  const send = client.query.bind(client) as (config: unknown, values?: unknown, callback?: Callback) => unknown
  const state: Boundaries = { held: false, committed: false }
  boundaries.set(client, state)

  function answer(result: Promise<unknown>, callback: Callback | undefined): unknown {
    if (!callback) return result
    result.then(
      (res) => callback(null, res),
      (err: Error) => callback(err),
    )
    return undefined
  }

  ;(client as unknown as { query: unknown }).query = function query(given: unknown, values?: unknown, callback?: Callback): unknown {
    const cb = typeof values === 'function' ? (values as Callback) : callback
    const args = typeof values === 'function' ? undefined : values
    const text = simpleText(given, args)
    // A query with parameters runs as a named statement, planned once per connection (plan-cache.ts).
    const config =
      text === null && given && typeof given === 'object' && typeof (given as { text?: unknown }).text === 'string'
        ? withStatementName(client, given as { text: string })
        : given
    if (config !== given) {
      // A named statement whose kept plan went stale: the connection stops naming (plan-cache.ts).
      const watch =
        (cb: Callback): Callback =>
        (err, res) => {
          if (err) staleAfter(client, err)
          cb(err, res)
        }
      if (typeof values === 'function') values = watch(values as Callback)
      else if (callback) callback = watch(callback)
      else {
        const sent = query(config, values) as Promise<unknown>
        sent.catch((err: unknown) => staleAfter(client, err))
        return sent
      }
    }
    if (state.committed) {
      if (text !== null && ENDS.test(text)) {
        // COMMIT: done already. ROLLBACK (the caller failed after its last batch): nothing is open to roll back.
        state.committed = false
        return answer(Promise.resolve(endResult(text)), cb)
      }
      return answer(Promise.reject(new Error('transaction already committed by its last statement batch: nothing may run after it')), cb)
    }
    if (text !== null && BEGIN.test(text) && !state.held) {
      state.held = true
      return answer(Promise.resolve(emptyResult('BEGIN')), cb)
    }
    if (!state.held) return send(config, values, callback)
    state.held = false
    if (text !== null && ENDS.test(text)) return answer(Promise.resolve(endResult(text)), cb)
    if (text !== null) {
      const merged = typeof config === 'string' ? `BEGIN;\n${config}` : { ...(config as object), text: `BEGIN;\n${text}` }
      const result = (send(merged) as Promise<unknown>).then((res) => {
        // Several statements give one result each: drop BEGIN's, and give one result for one statement as before.
        const rest = (res as unknown[]).slice(1)
        return rest.length === 1 ? rest[0] : rest
      })
      return answer(result, cb)
    }
    // Parameters need the extended protocol, which carries one statement: BEGIN goes just before, in order.
    const begun = send('BEGIN') as Promise<unknown>
    begun.catch(() => {}) // the statement queued behind it reports a broken connection itself
    return send(config, values, callback)
  }
  return client
}
