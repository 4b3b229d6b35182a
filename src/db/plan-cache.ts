import pg from 'pg'

/**
 * Plans kept per connection for the statements batches send again and again (see README.md).
 *
 * Postgres plans every statement it receives as text, and planning costs about as much as running the
 * step's short statements (more on tables with many partial indexes). A statement sent as
 * `EXECUTE name(literals)` of a `PREPARE name AS <compiled SQL with $n>` made earlier on the same
 * connection is planned once per connection (Postgres keeps a generic plan when it costs no more than
 * the custom ones, and plans each time otherwise).
 *
 * A statement's shape (its compiled SQL with placeholders) is prepared in a batch only once Postgres
 * has accepted it on a side connection of this cache: a shape it cannot prepare (a parameter whose type
 * nothing determines) then never fails a transaction, it is sent with its values inlined as before.
 * PREPARE is not transactional: a statement prepared in a batch that later fails may or may not exist
 * on the connection, so its name is forgotten and a fresh one used next time.
 *
 * A PREPARE keeps the text of the whole message it came in as its source, and every later EXECUTE of it
 * copies that text: a shape prepared in a 750 KB batch (a hundred timer firings committed together)
 * made each of its EXECUTEs copy 750 KB, for the connection's lifetime. So shapes are prepared only in
 * messages of at most `MAX_PREPARING_MESSAGE` characters; a larger message sends them inlined, and a
 * later small one prepares them.
 */

/** A statement's compiled SQL with `$n` placeholders. */
type Shape = string

/** Statements PREPARE accepts. */
const PREPARABLE = /^\s*(select|insert|update|delete|with)\b/i
/** Shapes remembered in the process (beyond, statements are inlined). */
const MAX_SHAPES = 2000
/** Statements prepared on one connection (each holds a plan in its Postgres backend). */
const MAX_PER_CONNECTION = 300
/** The largest message (in characters) a PREPARE is sent in: each EXECUTE of it copies that message. */
export const MAX_PREPARING_MESSAGE = 32 * 1024

const verdicts = new Map<Shape, 'ok' | 'no'>()
/** Shapes seen and not verified yet, with the database to verify them on. */
const waiting = new Map<Shape, pg.ClientConfig>()

interface Prepared {
  names: Map<Shape, string>
  next: number
}
const connections = new WeakMap<object, Prepared>()

/** Marks the side connection, whose messages are no request's (tests that count round trips skip them). */
export const SIDE_CONNECTION = Symbol('plan-cache side connection')

function preparedOn(connection: object): Prepared {
  let p = connections.get(connection)
  if (!p) connections.set(connection, (p = { names: new Map(), next: 1 }))
  return p
}

/** What a batch sends for one statement: `EXECUTE` of a plan already on the connection, or a fresh PREPARE and its EXECUTE. */
export interface PlannedText {
  text: string
  /** Results this text gives before the statement's own (a PREPARE's). */
  extraResults: number
  /** Set when this text prepares the shape: forget it if the batch fails. */
  fresh?: Shape
}

/**
 * The text that runs `shape` with `args` (SQL literals, in placeholder order) on `connection`, or null
 * when it must be inlined (not preparable, not verified yet, the connection holds enough plans, or not
 * prepared yet and `mayPrepare` is false: the message is too large to prepare in).
 */
export function planned(connection: object, shape: Shape, args: readonly string[], mayPrepare: boolean): PlannedText | null {
  if (spoiled.has(connection)) return null
  const prepared = preparedOn(connection)
  const execute = (name: string) => (args.length ? `EXECUTE ${name}(${args.join(', ')})` : `EXECUTE ${name}`)
  const name = prepared.names.get(shape)
  if (name) return { text: execute(name), extraResults: 0 }
  const verdict = verdicts.get(shape)
  if (verdict === undefined) {
    const params = (connection as { connectionParameters?: pg.ClientConfig }).connectionParameters
    if (params && PREPARABLE.test(shape) && verdicts.size + waiting.size < MAX_SHAPES && !waiting.has(shape)) {
      waiting.set(shape, params)
      verifySoon()
    }
    return null
  }
  if (verdict === 'no' || !mayPrepare || prepared.names.size >= MAX_PER_CONNECTION) return null
  const fresh = `dvc_plan_${prepared.next++}`
  prepared.names.set(shape, fresh)
  return { text: `PREPARE ${fresh} AS ${shape};\n${execute(fresh)}`, extraResults: 1, fresh: shape }
}

/** A batch failed: the statements it prepared may not exist on the connection; prepare them again under new names. */
export function forget(connection: object, shapes: Shape[]): void {
  const prepared = preparedOn(connection)
  for (const s of shapes) prepared.names.delete(s)
}

const statementNames = new Map<Shape, string>()
const namedOn = new WeakMap<object, number>()
/** Connections whose kept plans went stale (see `staleAfter`): they prepare nothing more. */
const spoiled = new WeakSet<object>()

/**
 * A statement failed on `connection`. When a table changed under a kept plan (a migration added a
 * column to a `select *`), Postgres refuses to run it ever again on that connection ("cached plan must
 * not change result type"): the connection's kept plans are dropped and it prepares nothing more, so
 * only the statement that met the change fails (its transaction, as if the table had changed under it).
 */
export function staleAfter(connection: object, err: unknown): void {
  const e = err as { code?: unknown; message?: unknown }
  if (e?.code !== '0A000' || typeof e.message !== 'string' || !/cached plan must not change result type/.test(e.message)) return
  spoiled.add(connection)
  connections.delete(connection)
}

/**
 * A query with parameters (the extended protocol, one statement) as a named statement: node-pg parses
 * it once per connection and Postgres keeps its plan. A statement Postgres cannot parse fails the same
 * way named or not, so these need no verification. Returns the config unchanged past the limits.
 */
export function withStatementName<C extends { text: string; name?: string }>(connection: object, config: C): C {
  if (config.name || spoiled.has(connection) || !PREPARABLE.test(config.text)) return config
  let name = statementNames.get(config.text)
  if (!name) {
    if (statementNames.size >= MAX_SHAPES) return config
    statementNames.set(config.text, (name = `dvc_q_${statementNames.size + 1}`))
  }
  const parsed = (connection as { connection?: { parsedStatements?: Record<string, string> } }).connection?.parsedStatements
  if (!parsed?.[name]) {
    const count = namedOn.get(connection) ?? 0
    if (count >= MAX_PER_CONNECTION) return config
    namedOn.set(connection, count + 1)
  }
  return { ...config, name }
}

/** Resolves once every shape seen so far has its verdict (for tests). */
export async function settled(): Promise<void> {
  while (verifying || waiting.size) await new Promise((r) => setTimeout(r, 5))
}

/** SQLSTATE classes of a shape Postgres cannot prepare (syntax or analysis), as opposed to a lost connection. */
const REFUSED = /^(42|0A|22)/

/** The side connections, one per database the process uses, closed after 5 s without a shape to verify. */
const sides = new Map<string, { client: pg.Client; ready: Promise<unknown> }>()
let verifying = false
let idle: NodeJS.Timeout | null = null

const databaseOf = (p: pg.ClientConfig) => `${p.user}@${p.host}:${p.port}/${p.database}`

/** Asks Postgres (on a side connection to the same database) whether each waiting shape can be prepared. */
function verifySoon(): void {
  if (verifying) return
  verifying = true
  setImmediate(() => void verify())
}

function sideFor(params: pg.ClientConfig) {
  const key = databaseOf(params)
  let side = sides.get(key)
  if (!side) {
    const client = new pg.Client({
      user: params.user,
      host: params.host,
      port: params.port,
      database: params.database,
      password: params.password,
      application_name: 'dvc-plan-check',
    })
    ;(client as unknown as Record<symbol, boolean>)[SIDE_CONNECTION] = true
    const created = {
      client,
      // Its socket never keeps the process alive.
      ready: client.connect().then(() => (client as unknown as { connection: { stream: { unref(): void } } }).connection.stream.unref()),
    }
    client.on('error', () => {
      if (sides.get(key) === created) sides.delete(key)
    })
    sides.set(key, (side = created))
  }
  return side
}

async function verify(): Promise<void> {
  if (idle) clearTimeout(idle)
  try {
    for (const [shape, params] of waiting) {
      waiting.delete(shape)
      const side = sideFor(params)
      try {
        await side.ready
        await side.client.query(`PREPARE dvc_plan_check AS ${shape};\nDEALLOCATE dvc_plan_check`)
        verdicts.set(shape, 'ok')
      } catch (err) {
        const code = (err as { code?: unknown }).code
        if (typeof code === 'string' && REFUSED.test(code)) verdicts.set(shape, 'no')
        else {
          // The database is away (restarting, or a test's database gone): verified when next seen.
          sides.delete(databaseOf(params))
          void side.client.end().catch(() => {})
        }
      }
    }
  } finally {
    verifying = false
  }
  idle = setTimeout(closeSides, 5000)
  idle.unref()
}

function closeSides(): void {
  for (const s of sides.values()) void s.client.end().catch(() => {})
  sides.clear()
}
