import t from 'tap'
import fs from 'node:fs'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { createTokenService } from '../src/auth/principal.ts'
import { buildApp } from '../src/app.ts'
import { manualClock } from '../src/clock.ts'
import { loadConfig } from '../src/config.ts'
import { createMetrics } from '../src/metrics/metrics.ts'
import { createQueues, redisConnection } from '../src/outbox/queues.ts'
import { createSystem } from '../src/system.ts'
import { freshDatabase, testUrls } from './helpers/context.ts'

const S3 = fs.readFileSync(new URL('../processes/s3-ho-kinh-doanh.bpmn', import.meta.url), 'utf8')
const AGENCY = 'UBND-XA-DEMO'
const SCRAPE = 'scrape-token-0123456789abcdefghijklmnop'

t.test(
  '/metrics: latency by route and procedure, dossiers, timers, queues; admins or the scrape token only; log lines carry the dossier code, task id and request id',
  async (t) => {
    const { db } = await freshDatabase(t)
    const { redisUrl } = testUrls()
    const lines: any[] = []
    const log = pino(
      { level: 'info' },
      new Writable({
        write(chunk, _enc, done) {
          for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l))
          done()
        },
      }),
    )
    const config = loadConfig({ NODE_ENV: 'test', METRICS_TOKEN: SCRAPE }, { redisUrl, queuePrefix: `m${Date.now()}` })
    const clock = manualClock('2026-11-23T02:00:00Z')
    const system = createSystem({ db, clock, log, config })
    await system.calendar.init()
    const queues = createQueues(redisConnection(redisUrl), config.queuePrefix)
    t.teardown(() => queues.close())
    const tokens = createTokenService(config.jwtSecret)
    const app = await buildApp({
      config,
      log,
      tokens,
      system,
      health: async () => ({ postgres: 'ok', redis: 'ok' }),
      metrics: createMetrics({ db, clock, queues, cacheMs: 0, processMetrics: true }),
    })
    t.teardown(() => app.close())
    const bearer = async (roles: any[], groups: string[] = []) => ({
      authorization: `Bearer ${await tokens.sign({ userId: `${roles[0]}-1`, roles, groups, agency: AGENCY })}`,
    })
    const analyst = await bearer(['analyst'])
    t.equal(
      (
        await app.inject({
          method: 'POST',
          url: '/api/procedures',
          headers: { ...analyst, 'content-type': 'application/xml' },
          payload: S3,
        })
      ).statusCode,
      201,
    )
    const officer = await bearer(['officer'], ['one-stop', 'specialists', 'leaders'])
    const sub = await app.inject({
      method: 'POST',
      url: '/api/dossiers',
      headers: officer,
      payload: { procedureCode: '2.000575', applicant: { name: 'Lê Văn A', idNumber: '001099001234' }, channel: 1, data: {} },
    })
    t.equal(sub.statusCode, 201)
    const code = sub.json().dossier.code
    const taskId = sub.json().tasks[0].id
    const claim = await app.inject({ method: 'POST', url: `/api/tasks/${taskId}/claim`, headers: officer })
    t.equal(claim.statusCode, 200, claim.body)

    t.equal((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 401)
    t.equal((await app.inject({ method: 'GET', url: '/metrics', headers: officer })).statusCode, 403)
    t.equal((await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer not-the-token' } })).statusCode, 401)
    const asAdmin = await app.inject({ method: 'GET', url: '/metrics', headers: await bearer(['admin']) })
    t.equal(asAdmin.statusCode, 200)
    const scraped = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${SCRAPE}` } })
    t.equal(scraped.statusCode, 200)
    t.match(scraped.headers['content-type'], /text\/plain/)
    const text = scraped.body
    t.match(text, /dvc_http_request_duration_seconds_count\{method="POST",route="\/api\/dossiers",status="2xx",procedure="2\.000575"\} 1/)
    t.match(text, /dvc_open_dossiers\{status="[A-Z_]+",deadline_state="on_track"\} 1/)
    t.match(text, /dvc_timers_pending \d+/)
    t.match(text, /dvc_process_cpu_user_seconds_total /, 'process metrics')
    t.match(text, /dvc_deadline_alarms_pending [1-9]/, 'the new dossier has its alarms')
    t.match(text, /dvc_deadline_alarm_lag_seconds 0/)
    t.match(text, /dvc_queue_jobs\{queue="timers",state="waiting"\} \d+/)
    t.match(text, /dvc_queue_jobs\{queue="dossier-events",state="failed"\} 0/)

    // Overdue alarms that the watch has not fired yet show as lag.
    clock.set(new Date('2027-01-15T02:00:00Z'))
    t.match(
      (await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${SCRAPE}` } })).body,
      /dvc_deadline_alarm_lag_seconds [1-9]/,
    )

    const done = lines.filter((l) => l.msg === 'request completed')
    const submitted = done.find((l) => l.dossierCode === code && l.procedure === '2.000575')
    t.ok(submitted?.reqId, 'the submission line carries the request id, the dossier code and the procedure')
    const claimed = done.find((l) => l.taskId === taskId)
    t.ok(claimed?.reqId, 'the claim line carries the request id and the task id')
  },
)
