import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import knexFactory from 'knex'
import { pino } from 'pino'
import type { FastifyInstance } from 'fastify'
import { createTokenService, type Principal } from '../../src/auth/principal.ts'
import { manualClock, systemClock, type Clock } from '../../src/clock.ts'
import { loadConfig, type Config } from '../../src/config.ts'
import { createDb, migrateLatest, type Db } from '../../src/db/knex.ts'
import { buildApp } from '../../src/app.ts'
import { createSystem, type System } from '../../src/system.ts'

export const FIXTURES = path.resolve(import.meta.dirname, '../fixtures')
export const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name), 'utf8')

export function testUrls() {
  const databaseUrl = process.env.TEST_DATABASE_URL
  const redisUrl = process.env.TEST_REDIS_URL
  if (!databaseUrl || !redisUrl) throw new Error('run the suite with `npm test` (it starts Postgres and Redis for the tests)')
  return { databaseUrl, redisUrl }
}

/** A fresh database for one test file, migrated; dropped at teardown. */
export async function freshDatabase(t: Teardown): Promise<{ url: string; db: Db }> {
  const { databaseUrl } = testUrls()
  const name = `t_${randomBytes(6).toString('hex')}`
  const admin = knexFactory({ client: 'pg', connection: databaseUrl, pool: { min: 0, max: 1 } })
  await admin.raw(`CREATE DATABASE ${name}`)
  const url = databaseUrl.replace(/\/[^/]*$/, `/${name}`)
  const db = createDb(url, 30)
  await migrateLatest(db)
  t.teardown(async () => {
    await db.destroy()
    await admin.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await admin.destroy()
  })
  return { url, db }
}

export interface TestContext {
  app: FastifyInstance
  /** The private database's URL, for child processes. */
  databaseUrl: string
  db: Db
  system: System
  config: Config
  clock: Clock
  token(p: Partial<Principal> & Pick<Principal, 'roles'>): Promise<string>
  deploy(xml: string): Promise<{ status: number; body: any }>
}

/** What the helpers need of a tap test. */
export interface Teardown {
  teardown(fn: () => unknown): void
}

/** The real app on a private database, called with `app.inject`. */
export async function testContext(
  t: Teardown,
  opts: {
    clock?: Clock
    now?: string
    env?: Record<string, string>
    handoffFaults?: Parameters<typeof createSystem>[0]['handoffFaults']
    /** Handoff work on a pool of its own (of this many connections), as `npm start` wires it. */
    jobsPool?: number
  } = {},
): Promise<TestContext> {
  const { db, url: databaseUrl } = await freshDatabase(t)
  const { redisUrl } = testUrls()
  const documentsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dvc-docs-'))
  t.teardown(() => fs.rmSync(documentsDir, { recursive: true, force: true }))
  const config = loadConfig(
    { NODE_ENV: 'test', DOCUMENTS_DIR: documentsDir, ...opts.env },
    { redisUrl, queuePrefix: `t${randomBytes(4).toString('hex')}` },
  )
  const clock = opts.clock ?? (opts.now ? manualClock(opts.now) : systemClock)
  const log = pino({ level: 'silent' })
  const jobsDb = opts.jobsPool ? createDb(databaseUrl, opts.jobsPool) : undefined
  if (jobsDb) t.teardown(() => jobsDb.destroy())
  const system = createSystem({
    db,
    clock,
    log,
    config,
    ...(opts.handoffFaults ? { handoffFaults: opts.handoffFaults } : {}),
    ...(jobsDb ? { jobsDb } : {}),
  })
  await system.calendar.init()
  const tokens = createTokenService(config.jwtSecret, { maxLifetimeHours: config.tokenMaxLifetimeHours })
  const app = await buildApp({ config, log, tokens, system, health: async () => ({ postgres: 'ok', redis: 'ok' }) })
  t.teardown(() => app.close())
  const token = (p: Partial<Principal> & Pick<Principal, 'roles'>) =>
    tokens.sign({
      userId: p.userId ?? `${p.roles[0]}-1`,
      groups: p.groups ?? [],
      agency: p.agency ?? config.defaultAgency,
      roles: p.roles,
      ...(p.topics ? { topics: p.topics } : {}),
    })
  return {
    app,
    db,
    databaseUrl,
    system,
    config,
    clock,
    token,
    async deploy(xml) {
      // An analyst of the agency the diagram names (analysts deploy only for their own agency).
      const agency = /<tthc:procedure\b[^>]*\bagency="([^"]+)"/.exec(xml)?.[1] ?? config.defaultAgency
      const res = await app.inject({
        method: 'POST',
        url: '/api/procedures',
        headers: { authorization: `Bearer ${await token({ roles: ['analyst'], agency })}`, 'content-type': 'application/xml' },
        payload: xml,
      })
      return { status: res.statusCode, body: res.json() }
    },
  }
}

/** `Authorization` header for a principal. */
export async function auth(ctx: TestContext, p: Partial<Principal> & Pick<Principal, 'roles'>) {
  return { authorization: `Bearer ${await ctx.token(p)}` }
}
