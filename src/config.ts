import path from 'node:path'
import { DEFAULT_RETRY_CYCLE, parseRetryCycle } from './engine/handoff-task.ts'

/** Runtime configuration. The only module that reads `process.env`; everything else receives a `Config`. */
export interface Config {
  readonly env: 'development' | 'test' | 'production'
  readonly host: string
  /** HTTP port; 0 picks a free one. Default 3000. */
  readonly port: number
  /** Postgres URL. When absent, an embedded Postgres is started with its data under `dataDir/postgres`. */
  readonly databaseUrl: string | undefined
  /** Redis URL. When absent, a local `redis-server` is started with its data under `dataDir/redis`. */
  readonly redisUrl: string | undefined
  /** Directory for local service data. Default `.data`. */
  readonly dataDir: string
  /** Port of the embedded Postgres started when no DATABASE_URL is set (`LOCAL_POSTGRES_PORT`). Default 54329. */
  readonly localPostgresPort: number
  /** Port of the local redis-server started when no REDIS_URL is set (`LOCAL_REDIS_PORT`). Default 63799. */
  readonly localRedisPort: number
  /**
   * Where status events for the National Public Service Portal (Cổng DVCQG) are POSTed (`PORTAL_URL`).
   * When absent, a local simulator acknowledges them.
   */
  readonly portalUrl: string | undefined
  /** Longest wait for the portal's answer to one event, ms. Default 10 s. */
  readonly portalTimeoutMs: number
  /**
   * Retries of a status event the portal did not acknowledge (`PORTAL_RETRY_CYCLE`), in the syntax of
   * `camunda:failedJobRetryTimeCycle`: `R3/PT5M` (the default) or `PT1M,PT5M,PT30M`. When they run out,
   * an incident (`failedPortalSync`) waits for an admin.
   */
  readonly portalRetryCycle: string
  /** How often the outbox relay looks for rows when no NOTIFY woke it, ms. Default 1 s. */
  readonly outboxPollMs: number
  readonly jwtSecret: string
  /** Longest accepted bearer-token lifetime, hours (TOKEN_MAX_LIFETIME_HOURS). Tokens without `exp` are always refused. Default 24. */
  readonly tokenMaxLifetimeHours: number
  readonly logLevel: string
  /** Max BPMN (XML) upload in bytes. Default 10 MiB. */
  readonly bodyLimit: number
  /** Max JSON request body in bytes (documents have their own limit). Default 1 MiB. */
  readonly jsonBodyLimit: number
  /** Script task ids allowed at deploy (`ALLOWED_SCRIPT_TASKS=procedureCode:taskId,...`). Default none. */
  readonly allowedScriptTasks: ReadonlySet<string>
  /** Receiving unit identifier used in dossier codes when a procedure names none (mã định danh đơn vị). */
  readonly defaultUnitId: string
  /** Agency that owns procedures deployed without one. */
  readonly defaultAgency: string
  /** Start HTTP API / BullMQ workers in this process. */
  readonly runApi: boolean
  readonly runWorkers: boolean
  /** Prefix for every BullMQ key, so that several deployments (or tests) can share one Redis. */
  readonly queuePrefix: string
  /** Directory of BPMN files deployed at start. */
  readonly processesDir: string
  readonly dbPoolMax: number
  /**
   * Connections of the second pool, the one handoff work takes (DB_JOBS_POOL_MAX): the outbox relay, the
   * handoff worker's attempts and every handoff answer (callbacks included), so that they never wait
   * behind a queue of requests for one of the API's connections. Default 10.
   */
  readonly dbJobsPoolMax: number
  /** Handoff attempts one process runs at once (HANDOFF_CONCURRENCY): most of an attempt waits on the other system. Default 200. */
  readonly handoffConcurrency: number
  /** Process instances kept live in memory between steps (0 disables). Default 500. */
  readonly engineCacheSize: number
  /** Total size of the saved states (JSON bytes) of the instances kept live. Default 32 MiB. */
  readonly engineCacheBytes: number
  /** Working hours in Vietnam time. Default `07:00-11:30,13:30-17:00`. */
  readonly workingHours: string
  /** How long before a deadline a dossier or task turns due-soon (sắp đến hạn), in working minutes. Default one working day (480). */
  readonly dueSoonWorkingMinutes: number
  /**
   * How long a worker's hold on a job lasts without renewal (BullMQ lockDuration, also the stalled-job
   * check interval). A worker killed mid-job has its job taken over after one to two of these. Default 30 s.
   */
  readonly workerLockMs: number
  /** BPMN timers coming due within this many ms are stepped ahead and committed at their due time (0: off). */
  readonly timerLookaheadMs: number
  /** Deadline alarms get their BullMQ job when they come due within this many minutes (min 5: the pass runs every minute). */
  readonly alarmQueueHorizonMinutes: number
  /** Shared secret of the payment platform (MaXacThuc = SHA-256 of the pipe-joined fields | secret). */
  readonly paymentSecret: string
  /** Our partner code at the payment platform (MaDoiTac). */
  readonly paymentPartnerCode: string
  /** Serve the local payment-gateway simulator (never in production). */
  readonly paymentSimulator: boolean
  /** Where uploaded dossier files live: outside every served folder. Default DATA_DIR/documents. */
  readonly documentsDir: string
  /** Largest uploaded document, bytes (default 10 MB). */
  readonly maxDocumentBytes: number
  /** Public address of the lookup page printed in the forms' QR codes. */
  readonly publicLookupUrl: string
  /** Public lookups allowed per client IP per minute. */
  readonly lookupRatePerMinute: number
  /** Transfer cut-off (docs/domain.md#transfer-cutoff), local time HH:MM: received later, the dossier goes at the next opening. */
  readonly transferCutoff: string
  /** Bearer token a Prometheus scraper may use for GET /metrics besides an admin JWT (`METRICS_TOKEN`, ≥ 32 characters); absent: admin JWTs only. */
  readonly metricsToken?: string
  /**
   * Peer systems of other agencies for handoffs (liên thông), `HANDOFF_PEERS` as JSON: agency code →
   * `{ "url": where the http adapter POSTs, "key": the shared signing key (32+ characters) }`.
   */
  readonly handoffPeers: Readonly<Record<string, { url: string; key: string }>>
  /** Longest wait for a peer's answer to one handoff attempt, ms (HANDOFF_TIMEOUT_MS). Default 10 s. */
  readonly handoffTimeoutMs: number
  /** A signed callback older (or newer) than this many seconds is refused as a replay (HANDOFF_CALLBACK_MAX_AGE_SECONDS). Default 300. */
  readonly handoffCallbackMaxAgeSeconds: number
  /**
   * The public postal operator's API (bưu chính công ích, docs/handoffs.md#postal-pickup-and-delivery):
   * `POSTAL_URL` where pickup and delivery orders are POSTed, `POSTAL_KEY` (32+ characters) the key both
   * sides sign with. Absent: a `postal` handoff fails (retried, then an incident) until it is set.
   */
  readonly postal: { url: string; key: string } | undefined
  /**
   * SMTP server for mail to applicants (`SMTP_URL`, smtp://user:pass@host:port, smtps:// for TLS from the start).
   * Absent: email notifications stay `pending` (logged) until it is set (docs/notifications.md).
   */
  readonly smtpUrl: string | undefined
  /** Sender of the mail to applicants (`MAIL_FROM`); its domain also names the Message-IDs. */
  readonly mailFrom: string
  /** SMS gateway: JSON POST with an `Idempotency-Key` header (`SMS_GATEWAY_URL`). Absent: SMS rows stay `pending`. */
  readonly smsGatewayUrl: string | undefined
  /** A generic receiver of every applicant notification, signed HMAC-SHA256 (`NOTIFY_WEBHOOK_URL`). Absent: no webhook rows. */
  readonly notifyWebhookUrl: string | undefined
  /** Key of the webhook's `X-Signature` (`WEBHOOK_SECRET`); required with NOTIFY_WEBHOOK_URL. */
  readonly webhookSecret: string | undefined
  /** Public address of this system, for the lookup link in the applicant's messages (`PUBLIC_BASE_URL`). */
  readonly publicBaseUrl: string
  /** Longest wait for the SMTP server, the SMS gateway or the webhook, ms (`NOTIFY_TIMEOUT_MS`). Default 15 s. */
  readonly notifyTimeoutMs: number
}

function postal(url: string | undefined, key: string | undefined): { url: string; key: string } | undefined {
  if (!url && !key) return undefined
  if (!url || !/^https?:\/\//.test(url)) throw new ConfigError('POSTAL_URL must be an http(s) URL (with POSTAL_KEY)')
  if (!key || key.length < 32) throw new ConfigError('POSTAL_KEY must be at least 32 characters (with POSTAL_URL)')
  return { url, key }
}

function handoffPeers(raw: string | undefined): Record<string, { url: string; key: string }> {
  if (!raw) return {}
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    throw new ConfigError('HANDOFF_PEERS must be JSON: {"AGENCY": {"url": "https://…", "key": "…"}}')
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError('HANDOFF_PEERS must be a JSON object')
  const out: Record<string, { url: string; key: string }> = {}
  for (const [agency, peer] of Object.entries(parsed)) {
    const { url, key } = (peer ?? {}) as { url?: unknown; key?: unknown }
    if (typeof url !== 'string' || !/^https?:\/\//.test(url)) throw new ConfigError(`HANDOFF_PEERS.${agency}.url must be an http(s) URL`)
    if (typeof key !== 'string' || key.length < 32) throw new ConfigError(`HANDOFF_PEERS.${agency}.key must be at least 32 characters`)
    out[agency] = Object.freeze({ url, key })
  }
  return Object.freeze(out)
}

const DEV_SECRET = 'dev-only-secret-change-me-0123456789abcdef'
const DEV_PAYMENT_SECRET = 'dev-only-payment-secret-0123456789'
/** Secrets that were ever published in this repository (defaults, examples): never accepted in production. */
const PUBLISHED_SECRETS = new Set([DEV_SECRET, DEV_PAYMENT_SECRET, 'change-me-change-me-change-me-change-me'])

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID'
}

function metricsToken(raw: string | undefined): string | undefined {
  if (!raw) return undefined
  if (raw.length < 32) throw new ConfigError('METRICS_TOKEN must be at least 32 characters')
  return raw
}

function int(name: string, raw: string | undefined, fallback: number, min = 0): number {
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min) throw new ConfigError(`${name} must be an integer >= ${min}, got "${raw}"`)
  return n
}

/** A retry cycle (`R3/PT5M`, `PT1M,PT5M`) with at least one retry; the handoffs' default when unset. */
function retryCycle(name: string, raw: string | undefined): string {
  if (raw === undefined || raw.trim() === '') return DEFAULT_RETRY_CYCLE
  const cycle = parseRetryCycle(raw)
  if (!cycle || cycle.retries < 1) throw new ConfigError(`${name} must be a retry cycle such as R3/PT5M or PT1M,PT5M,PT30M, got "${raw}"`)
  return raw.trim()
}

function bool(raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw === '') return fallback
  return ['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())
}

/** Production refuses to start with a missing or published secret, or with a simulator enabled. */
function assertProductionReady(env: NodeJS.ProcessEnv, paymentSimulator: boolean): void {
  for (const name of ['JWT_SECRET', 'PAYMENT_SECRET'] as const) {
    const value = env[name]
    if (!value) throw new ConfigError(`${name} must be set in production`)
    if (PUBLISHED_SECRETS.has(value)) throw new ConfigError(`${name} is a published example value: set a real secret in production`)
  }
  if (paymentSimulator) throw new ConfigError('PAYMENT_SIMULATOR cannot be enabled in production')
}

/** Notification endpoints must be URLs of the right scheme; a webhook needs its signing key. */
function checkNotifyConfig(env: NodeJS.ProcessEnv): void {
  const url = (name: string, schemes: string[]) => {
    const raw = env[name]
    if (!raw) return
    let u: URL
    try {
      u = new URL(raw)
    } catch {
      throw new ConfigError(`${name} must be a URL, got "${raw}"`)
    }
    if (!schemes.includes(u.protocol)) throw new ConfigError(`${name} must use ${schemes.join(' or ')}`)
  }
  url('SMTP_URL', ['smtp:', 'smtps:'])
  url('SMS_GATEWAY_URL', ['http:', 'https:'])
  url('NOTIFY_WEBHOOK_URL', ['http:', 'https:'])
  url('PUBLIC_BASE_URL', ['http:', 'https:'])
  if (env.NOTIFY_WEBHOOK_URL && (env.WEBHOOK_SECRET ?? '').length < 32)
    throw new ConfigError('NOTIFY_WEBHOOK_URL needs WEBHOOK_SECRET of at least 32 characters')
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const nodeEnv = (env.NODE_ENV === 'production' || env.NODE_ENV === 'test' ? env.NODE_ENV : 'development') as Config['env']
  const jwtSecret = env.JWT_SECRET || DEV_SECRET
  if (jwtSecret.length < 32) throw new ConfigError('JWT_SECRET must be at least 32 characters')
  const paymentSecret = env.PAYMENT_SECRET || DEV_PAYMENT_SECRET
  const paymentSimulator = bool(env.PAYMENT_SIMULATOR, nodeEnv !== 'production')
  if (nodeEnv === 'production') assertProductionReady(env, paymentSimulator)
  if (!/^\d{2}:\d{2}$/.test(env.TRANSFER_CUTOFF ?? '15:00')) throw new ConfigError('TRANSFER_CUTOFF must be HH:MM')
  checkNotifyConfig(env)
  const cfg: Config = {
    env: nodeEnv,
    host: env.HOST ?? '127.0.0.1',
    port: int('PORT', env.PORT, 3000),
    databaseUrl: env.DATABASE_URL || undefined,
    redisUrl: env.REDIS_URL || undefined,
    dataDir: path.resolve(env.DATA_DIR ?? '.data'),
    localPostgresPort: int('LOCAL_POSTGRES_PORT', env.LOCAL_POSTGRES_PORT, 54329, 1),
    localRedisPort: int('LOCAL_REDIS_PORT', env.LOCAL_REDIS_PORT, 63799, 1),
    portalUrl: env.PORTAL_URL || undefined,
    portalTimeoutMs: int('PORTAL_TIMEOUT_MS', env.PORTAL_TIMEOUT_MS, 10_000, 100),
    portalRetryCycle: retryCycle('PORTAL_RETRY_CYCLE', env.PORTAL_RETRY_CYCLE),
    outboxPollMs: int('OUTBOX_POLL_MS', env.OUTBOX_POLL_MS, 1000, 10),
    jwtSecret,
    tokenMaxLifetimeHours: int('TOKEN_MAX_LIFETIME_HOURS', env.TOKEN_MAX_LIFETIME_HOURS, 24, 1),
    logLevel: env.LOG_LEVEL ?? (nodeEnv === 'test' ? 'silent' : 'info'),
    bodyLimit: int('BODY_LIMIT', env.BODY_LIMIT, 10 * 1024 * 1024, 1024),
    jsonBodyLimit: int('JSON_BODY_LIMIT', env.JSON_BODY_LIMIT, 1024 * 1024, 1024),
    allowedScriptTasks: new Set(
      (env.ALLOWED_SCRIPT_TASKS ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
    defaultUnitId: env.DEFAULT_UNIT_ID ?? '000.00.20.H12',
    defaultAgency: env.DEFAULT_AGENCY ?? 'UBND-TINH',
    runApi: bool(env.RUN_API, true),
    runWorkers: bool(env.RUN_WORKERS, true),
    queuePrefix: env.QUEUE_PREFIX ?? 'dvc',
    processesDir: path.resolve(env.PROCESSES_DIR ?? 'processes'),
    dbPoolMax: int('DB_POOL_MAX', env.DB_POOL_MAX, 20, 1),
    dbJobsPoolMax: int('DB_JOBS_POOL_MAX', env.DB_JOBS_POOL_MAX, 10, 1),
    handoffConcurrency: int('HANDOFF_CONCURRENCY', env.HANDOFF_CONCURRENCY, 200, 1),
    engineCacheSize: int('ENGINE_CACHE_SIZE', env.ENGINE_CACHE_SIZE, 500),
    engineCacheBytes: int('ENGINE_CACHE_BYTES', env.ENGINE_CACHE_BYTES, 32 * 1024 * 1024),
    workingHours: env.WORKING_HOURS ?? '07:00-11:30,13:30-17:00',
    workerLockMs: int('WORKER_LOCK_MS', env.WORKER_LOCK_MS, 30_000, 500),
    timerLookaheadMs: int('TIMER_LOOKAHEAD_MS', env.TIMER_LOOKAHEAD_MS, 10_000),
    alarmQueueHorizonMinutes: int('ALARM_QUEUE_HORIZON_MINUTES', env.ALARM_QUEUE_HORIZON_MINUTES, 60, 5),
    dueSoonWorkingMinutes: int('DUE_SOON_WORKING_MINUTES', env.DUE_SOON_WORKING_MINUTES, 480),
    paymentSecret,
    paymentPartnerCode: env.PAYMENT_PARTNER_CODE ?? 'DVC-DEMO',
    paymentSimulator,
    documentsDir: path.resolve(env.DOCUMENTS_DIR ?? path.join(env.DATA_DIR ?? '.data', 'documents')),
    maxDocumentBytes: int('MAX_DOCUMENT_BYTES', env.MAX_DOCUMENT_BYTES, 10 * 1024 * 1024, 1024),
    publicLookupUrl: env.PUBLIC_LOOKUP_URL ?? 'https://dichvucong.example.gov.vn/tra-cuu',
    lookupRatePerMinute: int('LOOKUP_RATE_PER_MINUTE', env.LOOKUP_RATE_PER_MINUTE, 10, 1),
    transferCutoff: env.TRANSFER_CUTOFF ?? '15:00',
    handoffPeers: handoffPeers(env.HANDOFF_PEERS),
    handoffTimeoutMs: int('HANDOFF_TIMEOUT_MS', env.HANDOFF_TIMEOUT_MS, 10_000, 100),
    handoffCallbackMaxAgeSeconds: int('HANDOFF_CALLBACK_MAX_AGE_SECONDS', env.HANDOFF_CALLBACK_MAX_AGE_SECONDS, 300, 1),
    postal: postal(env.POSTAL_URL || undefined, env.POSTAL_KEY || undefined),
    metricsToken: metricsToken(env.METRICS_TOKEN),
    smtpUrl: env.SMTP_URL || undefined,
    mailFrom: env.MAIL_FROM || 'Dịch vụ công <no-reply@dichvucong.example.gov.vn>',
    smsGatewayUrl: env.SMS_GATEWAY_URL || undefined,
    notifyWebhookUrl: env.NOTIFY_WEBHOOK_URL || undefined,
    webhookSecret: env.WEBHOOK_SECRET || undefined,
    publicBaseUrl: (env.PUBLIC_BASE_URL || 'https://dichvucong.example.gov.vn').replace(/\/+$/, ''),
    notifyTimeoutMs: int('NOTIFY_TIMEOUT_MS', env.NOTIFY_TIMEOUT_MS, 15_000, 100),
    ...overrides,
  }
  return Object.freeze(cfg)
}
