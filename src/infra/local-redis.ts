import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import { Redis } from 'ioredis'

export interface LocalRedis {
  readonly url: string
  stop(): Promise<void>
}

export const REDIS_MISSING_HINT =
  'redis-server not found: install it (Debian/Ubuntu: `sudo apt-get install -y redis-server`, macOS: `brew install redis`) or set REDIS_URL.'

export class RedisMissingError extends Error {
  readonly code = 'REDIS_SERVER_MISSING'
  constructor() {
    super(REDIS_MISSING_HINT)
  }
}

function findRedisServer(): string | null {
  const r = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' })
  const found = r.stdout.trim()
  return found || null
}

/**
 * Starts a private `redis-server` with append-only persistence in `dataDir`
 * (BullMQ needs `maxmemory-policy noeviction`).
 */
export async function startLocalRedis(opts: { dataDir: string; port: number; persistent: boolean }): Promise<LocalRedis> {
  const bin = findRedisServer()
  if (!bin) throw new RedisMissingError()
  fs.mkdirSync(opts.dataDir, { recursive: true })
  const args = [
    '--port',
    String(opts.port),
    '--bind',
    '127.0.0.1',
    '--dir',
    opts.dataDir,
    '--appendonly',
    opts.persistent ? 'yes' : 'no',
    '--save',
    '',
    '--maxmemory-policy',
    'noeviction',
    '--protected-mode',
    'yes',
    '--daemonize',
    'no',
  ]
  const child: ChildProcess = spawn(bin, args, { stdio: 'ignore' })
  let exited = false
  child.once('exit', () => {
    exited = true
  })
  const url = `redis://127.0.0.1:${opts.port}`
  const deadline = Date.now() + 10_000
  for (;;) {
    if (exited) throw new Error(`redis-server exited at start (port ${opts.port} in use?)`)
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
    probe.on('error', () => {})
    try {
      await probe.connect()
      await probe.ping()
      probe.disconnect()
      break
    } catch {
      probe.disconnect()
      if (Date.now() > deadline) {
        child.kill('SIGKILL')
        throw new Error('redis-server did not start within 10 s')
      }
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}
