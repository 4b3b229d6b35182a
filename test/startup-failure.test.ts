import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { freePort } from '../src/infra/free-port.ts'

const ROOT = path.resolve(import.meta.dirname, '..')

t.test('a start whose embedded Postgres port is taken says why, and the port is configurable', async (t) => {
  const port = await freePort()
  const holder = net.createServer()
  await new Promise<void>((r) => holder.listen(port, '127.0.0.1', r))
  t.teardown(() => new Promise((r) => holder.close(r)))
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dvc-start-'))
  fs.chmodSync(dataDir, 0o777) // initdb may run as another user when the tests run as root
  t.teardown(() => fs.rmSync(dataDir, { recursive: true, force: true }))
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    DATA_DIR: dataDir,
    LOCAL_POSTGRES_PORT: String(port),
    REDIS_URL: 'redis://127.0.0.1:1',
    NODE_ENV: 'test',
  }
  delete env.DATABASE_URL
  // spawnSync keeps the event loop busy: the port holder still refuses no one (the kernel accepts).
  const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/main.ts')], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    timeout: 120_000,
  })
  t.equal(run.status, 1, 'the process exits with an error')
  t.notMatch(run.stderr.trim(), /^undefined$/m, 'not the single word "undefined"')
  t.match(run.stderr, new RegExp(`port ${port}`), 'names the port it tried')
  t.match(run.stderr, /Address already in use|could not bind|could not create any TCP\/IP sockets/i, 'and the cause Postgres gave')
  t.match(run.stderr, /LOCAL_POSTGRES_PORT/, 'and how to choose another port')
})
