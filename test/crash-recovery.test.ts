import { freePort } from '../src/infra/free-port.ts'
import t from 'tap'
import { createTokenService } from '../src/auth/principal.ts'
import { freshDatabase, testUrls } from './helpers/context.ts'
import { startMain } from './helpers/main-process.ts'
import { shortPause } from './helpers/poll.ts'
import { slow } from './helpers/slow.ts'

const SECRET = 'crash-test-secret-0123456789abcdefghijkl'

const startServer = (env: Record<string, string>) => startMain(env, 'API on http')

t.test('kill -9 during a run of 200 dossiers: after restart all finish, each task completed once', slow, async (t) => {
  const { url: databaseUrl } = await freshDatabase(t)
  const { redisUrl } = testUrls()
  const port = await freePort()
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    PORT: String(port),
    JWT_SECRET: SECRET,
    LOG_LEVEL: 'info',
    QUEUE_PREFIX: `crash${port}`,
    NODE_ENV: 'test',
  }
  let server = await startServer(env)
  t.teardown(() => {
    server.kill('SIGKILL')
  })
  const base = `http://127.0.0.1:${port}`
  const token = await createTokenService(SECRET).sign({
    userId: 'officer-1',
    roles: ['officer'],
    groups: ['one-stop', 'specialists', 'leaders'],
    agency: 'UBND-XA-DEMO',
  })
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }

  let restarting: Promise<void> | null = null
  // Every call retries through the crash: a connection error means "the server is down, try again".
  async function call(
    method: string,
    p: string,
    body?: unknown,
    extra: Record<string, string> = {},
  ): Promise<{ status: number; json: any }> {
    for (let attempt = 0; attempt < 200; attempt++) {
      if (restarting) await restarting
      try {
        const res = await fetch(base + p, {
          method,
          headers: { ...headers, ...extra },
          body: body === undefined ? undefined : JSON.stringify(body),
        })
        return { status: res.status, json: await res.json() }
      } catch {
        // The server is down: the kill set `restarting` in the same tick, so wait for the restart.
        await shortPause()
      }
    }
    throw new Error(`${method} ${p} kept failing`)
  }

  // The sample S3 (processes/): reception and return come from the shared skeleton (call activities).
  const VARS: Record<string, Record<string, unknown>> = {
    KiemTraHoSo: { outcome: 'accept' },
    ThamDinh: { outcome: 'propose' },
    PheDuyet: { outcome: 'approve' },
    TraKetQua: { outcome: 'return' },
  }
  let completions = 0
  let killed = false
  async function runDossier(i: number): Promise<string> {
    // The same Idempotency-Key on every retry: a crash mid-submission cannot duplicate the dossier.
    const sub = await call(
      'POST',
      '/api/dossiers',
      { procedureCode: '2.000575', applicant: { name: `Hộ ${i}`, idNumber: `0010990${String(10000 + i)}` }, channel: 1, data: {} },
      { 'idempotency-key': `dossier-${i}` },
    )
    if (sub.status !== 201 && sub.status !== 200) throw new Error(`submit ${sub.status} ${JSON.stringify(sub.json)}`)
    const id = sub.json.dossier.id
    for (;;) {
      const view = await call('GET', `/api/dossiers/${id}`)
      const task = view.json.tasks[0]
      if (!task) return id
      const done = await call('POST', `/api/tasks/${task.id}/complete`, { variables: VARS[task.activityId] ?? {} })
      if (done.status !== 200 && !(done.status === 409 && done.json.error.code === 'TASK_ALREADY_COMPLETED'))
        throw new Error(`complete ${done.status} ${JSON.stringify(done.json)}`)
      completions++
      if (!killed && completions === 150) {
        killed = true
        server.kill('SIGKILL')
        restarting = (async () => {
          await new Promise((r) => server.once('exit', r))
          server = await startServer(env)
        })().finally(() => {
          restarting = null
        })
      }
    }
  }
  const ids: string[] = []
  const queue = Array.from({ length: 200 }, (_, i) => i)
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      for (let i = queue.shift(); i !== undefined; i = queue.shift()) ids.push(await runDossier(i))
    }),
  )
  t.ok(killed, 'the server was killed with SIGKILL mid-run')

  const { createDb } = await import('../src/db/knex.ts')
  const db = createDb(databaseUrl, 2)
  t.teardown(() => db.destroy())
  const dossiers = await db('dossiers').select('id', 'status')
  t.equal(new Set(ids).size, 200)
  t.equal(dossiers.length, 200, 'no dossier lost, none duplicated')
  t.ok(
    dossiers.every((d) => d.status === 'RETURNED'),
    'all 200 finished and returned',
  )
  t.equal(Number((await db('process_instances').where({ status: 'completed' }).count('* as n'))[0].n), 200)
  const perTask = await db('tasks')
    .leftJoin('history', function () {
      this.on('history.task_id', 'tasks.id').andOnVal('history.action', '=', 'task.completed')
    })
    .groupBy('tasks.id', 'tasks.status')
    .select('tasks.id', 'tasks.status')
    .count('history.id as n')
  t.equal(perTask.length, 800, '4 tasks per dossier')
  t.ok(
    perTask.every((r: any) => r.status === 'completed' && Number(r.n) === 1),
    'each task completed exactly once (from history)',
  )
})
