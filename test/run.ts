/**
 * `npm test`: starts a private Postgres and redis-server (temporary data directories, free ports),
 * runs the tap suite against them, stops them, and prints one line `N passed, N failed`.
 * `npm test -- --fast` skips the slow tests (test/helpers/slow.ts: kill -9 restarts, 1,000 timers);
 * plain `npm test`, as CI runs it, runs everything. Other arguments are test files.
 */
import { spawn, spawnSync } from 'node:child_process'
import { freePort } from '../src/infra/free-port.ts'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { startLocalPostgres } from '../src/infra/local-postgres.ts'
import { RedisMissingError, startLocalRedis } from '../src/infra/local-redis.ts'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'dvc-test-'))
fs.chmodSync(root, 0o777)
let code: number
let pgStop: (() => Promise<void>) | null = null
let redisStop: (() => Promise<void>) | null = null
try {
  const [pgPort, redisPort] = [await freePort(), await freePort()]
  const pg = await startLocalPostgres({ dataDir: path.join(root, 'pg'), port: pgPort, persistent: false, database: 'postgres' })
  pgStop = pg.stop
  const redis = await startLocalRedis({ dataDir: path.join(root, 'redis'), port: redisPort, persistent: false })
  redisStop = redis.stop
  // tap compiles its plugin set (package.json "tap.plugin") on first use; do it before running.
  const TAP = path.resolve('node_modules/tap/dist/esm/run.mjs')
  spawnSync(process.execPath, [TAP, 'build'], { stdio: 'ignore' })
  const args = process.argv.slice(2)
  const fast = args.includes('--fast')
  const files = args.filter((a) => a !== '--fast')
  const child = spawn(process.execPath, [TAP, ...files], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, TEST_DATABASE_URL: pg.url, TEST_REDIS_URL: redis.url, NODE_ENV: 'test', TEST_FAST: fast ? '1' : '' },
  })
  let tail = ''
  child.stdout.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk)
    tail = (tail + chunk.toString()).slice(-4000)
  })
  code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)))
  const summary = /# \{ (total: \d+[^}]*)\}/.exec(tail)
  if (summary) {
    const counts = Object.fromEntries([...summary[1]!.matchAll(/(\w+): (\d+)/g)].map((m) => [m[1]!, Number(m[2])]))
    const pass = counts.pass ?? 0
    const fail = (counts.fail ?? 0) + (code !== 0 && !counts.fail ? 1 : 0)
    console.log(`${pass} passed, ${fail} failed${counts.skip ? `, ${counts.skip} skipped` : ''}`)
  } else {
    console.log(`0 passed, 1 failed`)
  }
} catch (err) {
  if (err instanceof RedisMissingError) console.error(err.message)
  else console.error(err)
  console.log('0 passed, 1 failed')
  code = 1
} finally {
  await redisStop?.().catch(() => {})
  await pgStop?.().catch(() => {})
  fs.rmSync(root, { recursive: true, force: true })
}
process.exit(code)
