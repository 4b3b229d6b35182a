import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'

const ROOT = path.resolve(import.meta.dirname, '../..')

/** Runs `src/main.ts` as `npm start` does, in a child process a test can kill -9; resolves once `ready` is logged. */
export function startMain(env: Record<string, string>, ready: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/main.ts')], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    const onData = (b: Buffer) => {
      out += b.toString()
      if (out.includes(ready)) {
        child.stdout!.off('data', onData)
        child.stdout!.resume()
        resolve(child)
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', (b) => {
      out += b.toString()
    })
    child.once('exit', (code) => reject(new Error(`process exited (${code}) before "${ready}":\n${out.slice(-2000)}`)))
  })
}
