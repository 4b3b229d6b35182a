/**
 * `npm run seed:province -- --dossiers 1000000 [--database-url postgres://…] [--now 2026-12-01T03:00:00Z]`
 *
 * Writes a province-year (một năm của một tỉnh) through the same schema the API uses: the sample
 * procedures of processes/ deployed normally first, then, server-side in batches (INSERT … SELECT over
 * generate_series): dossiers of 20 agencies received over the year before `--now`, with the status,
 * channel and early/on-time/late shares of a real one-stop centre; one process instance each; ~5 history
 * rows each; one open task (candidate groups, some assigned, some overdue) and two deadline alarms per
 * unfinished dossier; payments, submitted documents and evaluations. Without `--database-url`, the
 * embedded Postgres of `npm start` (LOCAL_POSTGRES_PORT) is used; it must be running.
 *
 * Seeded instances carry no engine state: the open tasks are there to be listed and counted, not worked.
 * docs/operations.md#province-seed describes the shares.
 */
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { pino, type Logger } from 'pino'
import { systemClock } from '../src/clock.ts'
import { loadConfig } from '../src/config.ts'
import { createDb, migrateLatest, type Db } from '../src/db/knex.ts'
import { deployDirectory } from '../src/procedures/deploy-directory.ts'
import { createSystem } from '../src/system.ts'

export const SEED_AGENCIES = [
  'UBND-XA-DEMO',
  'SO-TU-PHAP-DEMO',
  'SO-XAY-DUNG',
  'SO-TAI-NGUYEN-MOI-TRUONG',
  'SO-KE-HOACH-DAU-TU',
  ...Array.from({ length: 5 }, (_, i) => `UBND-HUYEN-${String(i + 1).padStart(2, '0')}`),
  ...Array.from({ length: 10 }, (_, i) => `UBND-XA-${String(i + 1).padStart(2, '0')}`),
]

export interface SeedResult {
  dossiers: number
  open: number
  history: number
  openTasks: number
  alarms: number
  payments: number
  documents: number
  evaluations: number
  seconds: number
}

/** Seeds `dossiers` dossiers received in the year before `now`. Deterministic for a given size and `now`. */
export async function seedProvince(
  db: Db,
  opts: { dossiers: number; now: Date; log?: (msg: string) => void; batch?: number; processesDir?: string },
): Promise<SeedResult> {
  const t0 = performance.now()
  const say = opts.log ?? (() => {})
  const log: Logger = pino({ level: 'warn' })
  const system = createSystem({ db, clock: systemClock, log, config: loadConfig({ ...process.env, NODE_ENV: 'development' }) })
  await deployDirectory(opts.processesDir ?? path.resolve(import.meta.dirname, '../processes'), system.procedures, log)

  const batch = opts.batch ?? 50_000
  const conn = await db.client.acquireConnection()
  const q = (sql: string, params: unknown[] = []) => conn.query(sql, params) as Promise<{ rows: any[]; rowCount: number }>
  try {
    // Bulk load: triggers off (the flags are written directly, the daily counts rebuilt once at the end).
    await q(`SET session_replication_role = replica`)
    await q(`SELECT setseed(0.42)`)
    const base = Number((await q(`SELECT count(*)::int AS n FROM dossiers WHERE code LIKE 'TINH-%'`)).rows[0].n)
    await q(`DROP TABLE IF EXISTS seed_steps; DROP TABLE IF EXISTS seed_procs`)
    await q(`
      CREATE TEMP TABLE seed_procs AS
      SELECT row_number() OVER (ORDER BY p.code)::int - 1 AS idx, p.code, v.id AS version_id, (v.metadata->>'unitId') AS unit_id,
             CASE WHEN v.metadata->>'timeLimitUnit' = 'hours' THEN 1
                  ELSE greatest(1, round(coalesce((v.metadata->>'timeLimit')::numeric, 5) * 1.4))::int END AS limit_days,
             coalesce(v.metadata->>'channels', '1,2') LIKE '%2%' AS online_ok
        FROM procedures p JOIN procedure_versions v ON v.procedure_code = p.code AND v.version = p.latest_version`)
    await q(`
      CREATE TEMP TABLE seed_steps AS
      SELECT p.code, row_number() OVER (PARTITION BY p.code ORDER BY u.key)::int - 1 AS idx, u.key AS activity_id, u.value->>'name' AS name,
             coalesce(string_to_array(nullif(u.value->>'candidateGroups', ''), ','), '{}') AS groups,
             count(*) OVER (PARTITION BY p.code)::int AS steps
        FROM seed_procs p JOIN procedure_versions v ON v.id = p.version_id, jsonb_each(v.user_tasks) u`)
    const procs = Number((await q(`SELECT count(*)::int AS n FROM seed_procs`)).rows[0].n)
    if (procs === 0) throw new Error('no procedure deployed: processes/ is empty?')

    const totals = { dossiers: 0, open: 0, history: 0, openTasks: 0, alarms: 0, payments: 0, documents: 0, evaluations: 0 }
    for (let from = 1; from <= opts.dossiers; from += batch) {
      const to = Math.min(opts.dossiers, from + batch - 1)
      await q('BEGIN')
      // One row per dossier with every random choice made once; the inserts below read it.
      await q(`DROP TABLE IF EXISTS seed_batch`)
      await q(
        `
        CREATE TEMP TABLE seed_batch AS
        WITH r AS (
          SELECT i, random() AS r_age, random() AS r_open, random() AS r_status, random() AS r_outcome, random() AS r_off,
                 random() AS r_channel, random() AS r_agency, floor(random() * $4)::int AS proc, random() AS r_flags,
                 random() AS r_eval, random() AS r_supp, random() AS r_return, random() AS r_task, random() AS r_assign
            FROM generate_series($1::int, $2::int) i
        ), a AS (
          SELECT r.*, p.code AS procedure_code, p.version_id, p.unit_id, p.limit_days, p.online_ok,
                 $3::timestamptz - (r.r_age * 365) * interval '1 day' AS submitted_at,
                 CASE WHEN r.r_channel < 0.55 AND p.online_ok THEN 2 WHEN r.r_channel < 0.95 THEN 1 ELSE 3 END AS channel,
                 (ARRAY[${SEED_AGENCIES.map((a) => `'${a}'`).join(',')}])[1 + floor(20 * power(r.r_agency, 1.6))::int] AS agency,
                 (r.r_age * 365 < 20 OR r.r_open < 0.04) AS open
            FROM r JOIN seed_procs p ON p.idx = r.proc
        ), b AS (
          SELECT a.*, a.submitted_at + a.limit_days * interval '1 day' AS appointment_at,
                 CASE WHEN r_supp < 0.08 THEN 1 WHEN r_supp < 0.09 THEN 2 ELSE 0 END AS supplement_count
            FROM a
        )
        SELECT b.*, md5('tinh-d-' || (b.i + $5)) ::uuid AS id, md5('tinh-i-' || (b.i + $5))::uuid AS instance_id,
               md5('tinh-t-' || (b.i + $5))::uuid AS task_id,
               'TINH-' || lpad((b.i + $5)::text, 8, '0') AS code,
               CASE WHEN b.open THEN
                 CASE WHEN b.r_status < 0.65 THEN 'IN_PROCESS' WHEN b.r_status < 0.75 THEN 'ACCEPTED' WHEN b.r_status < 0.85 THEN 'SUPPLEMENT_REQUESTED'
                      WHEN b.r_status < 0.90 THEN 'FINANCIAL_OBLIGATION' WHEN b.r_status < 0.95 OR b.channel <> 2 THEN 'RECEIVING' ELSE 'SUBMITTED_ONLINE' END
               ELSE
                 CASE WHEN b.r_status < 0.90 THEN 'RETURNED' WHEN b.r_status < 0.93 THEN 'RESULT_READY' WHEN b.r_status < 0.96 THEN 'REFUSED_AT_RECEIPT'
                      WHEN b.r_status < 0.98 THEN 'WITHDRAWN' ELSE 'STOPPED' END
               END AS status,
               CASE WHEN b.open THEN NULL
                    ELSE least($3::timestamptz - interval '1 hour', greatest(b.submitted_at + interval '2 hours',
                      CASE WHEN b.r_outcome < 0.25 THEN b.appointment_at - (1 + floor(b.r_off * b.limit_days * 0.5)) * interval '1 day'
                           WHEN b.r_outcome < 0.90 THEN date_trunc('day', b.appointment_at) + interval '3 hours' + b.r_off * interval '5 hours'
                           ELSE b.appointment_at + (1 + floor(b.r_off * 10)) * interval '1 day' END))
               END AS finished_at,
               b.submitted_at + ((0.3 + 0.5 * b.r_task) * b.limit_days) * interval '1 day' AS task_due_at
          FROM b`,
        [from, to, opts.now.toISOString(), procs, base],
      )
      const now = [opts.now.toISOString()]
      const one = async (sql: string) => (await q(sql, sql.includes('$1') ? now : [])).rowCount
      totals.dossiers += await one(`
        INSERT INTO dossiers (id, code, unit_id, procedure_code, procedure_version_id, agency, status, national_status, channel, applicant,
               applicant_user_id, data, submitted_by, submitted_at, received_at, appointment_at, finished_at, created_at, updated_at,
               deadline_state, supplement_count, return_method, returned_at, paid_online, digitised, satisfied)
        SELECT id, code, unit_id, procedure_code, version_id, agency, status,
               (ARRAY[1,1,2,3,4,5,6,7,8,9,10])[array_position(ARRAY['SUBMITTED_ONLINE','RECEIVING','ACCEPTED','REFUSED_AT_RECEIPT','IN_PROCESS',
                 'SUPPLEMENT_REQUESTED','FINANCIAL_OBLIGATION','WITHDRAWN','STOPPED','RESULT_READY','RETURNED'], status)],
               channel, jsonb_build_object('name', 'Công dân ' || i, 'idNumber', lpad((1000000000 + i)::text, 12, '0')),
               CASE WHEN channel = 2 THEN 'cd-' || i END, '{}'::jsonb, CASE WHEN channel = 2 THEN 'cd-' || i ELSE 'mc-' || agency END,
               submitted_at, submitted_at, appointment_at, finished_at, submitted_at, coalesce(finished_at, submitted_at),
               CASE WHEN NOT open THEN 'on_track' WHEN appointment_at < $1::timestamptz THEN 'overdue'
                    WHEN appointment_at < $1::timestamptz + interval '1 day' THEN 'due_soon' ELSE 'on_track' END,
               supplement_count,
               CASE WHEN status = 'RETURNED' THEN CASE WHEN r_return < 0.40 THEN 'online' WHEN r_return < 0.95 THEN 'counter' ELSE 'post' END END,
               CASE WHEN status = 'RETURNED' THEN finished_at + interval '1 day' END,
               channel = 2 AND r_flags < 0.5, r_flags < 0.85, CASE WHEN status = 'RETURNED' AND r_eval < 0.3 THEN r_eval < 0.28 END
          FROM seed_batch`)
      await one(`
        INSERT INTO process_instances (id, dossier_id, procedure_version_id, status, state, version, created_at, updated_at)
        SELECT instance_id, id, version_id, CASE WHEN open THEN 'running' ELSE 'completed' END, NULL, 3, submitted_at, coalesce(finished_at, submitted_at)
          FROM seed_batch`)
      // ~5 history rows a dossier: submitted, status changes and completed steps (the last ones only once finished).
      totals.history += await one(`
        INSERT INTO history (dossier_id, task_id, activity_id, action, actor, status, details, at)
        SELECT b.id, NULL, NULL, h.action, h.actor, h.status, NULL, h.at
          FROM seed_batch b CROSS JOIN LATERAL (VALUES
            (1, 'dossier.submitted', 'mc-' || b.agency, 'ACCEPTED', b.submitted_at),
            (2, 'dossier.status_changed', 'mc-' || b.agency, 'IN_PROCESS', b.submitted_at + interval '30 minutes'),
            (3, 'task.completed', 'cv-' || b.agency, NULL, b.submitted_at + (b.appointment_at - b.submitted_at) * 0.4),
            (4, 'task.completed', 'ld-' || b.agency, NULL, coalesce(b.finished_at, b.submitted_at + (b.appointment_at - b.submitted_at) * 0.6)),
            (5, 'dossier.status_changed', 'mc-' || b.agency, b.status, coalesce(b.finished_at, b.submitted_at + interval '1 hour'))
          ) AS h(n, action, actor, status, at)
         WHERE b.finished_at IS NOT NULL OR h.n <= 3`)
      totals.openTasks += await one(`
        INSERT INTO tasks (id, instance_id, dossier_id, procedure_code, procedure_version_id, agency, activity_id, execution_id, name, candidate_groups, assignee,
               due_at, status, created_at, claimed_at, deadline_state)
        SELECT b.task_id, b.instance_id, b.id, b.procedure_code, b.version_id, b.agency, s.activity_id, s.activity_id || '_seed', s.name, s.groups,
               CASE WHEN b.r_assign < 0.4 THEN 'cv-' || b.agency || '-' || (1 + floor(b.r_assign * 20)::int) END,
               b.task_due_at, 'open', b.submitted_at + interval '1 hour', CASE WHEN b.r_assign < 0.4 THEN b.submitted_at + interval '2 hours' END,
               CASE WHEN b.task_due_at < $1::timestamptz THEN 'overdue'
                    WHEN b.task_due_at < $1::timestamptz + interval '4 hours' THEN 'due_soon' ELSE 'on_track' END
          FROM seed_batch b JOIN seed_steps s ON s.code = b.procedure_code AND s.idx = floor(b.r_task * s.steps)::int
         WHERE b.open`)
      totals.alarms += await one(`
        INSERT INTO deadline_alarms (id, dossier_id, task_id, kind, deadline_at, fire_at, status, created_at, fired_at)
        SELECT md5('tinh-a-' || k.kind || b.id)::uuid, b.id, NULL, k.kind, b.appointment_at, k.fire_at,
               CASE WHEN k.fire_at <= $1::timestamptz THEN 'fired' ELSE 'pending' END, b.submitted_at,
               CASE WHEN k.fire_at <= $1::timestamptz THEN k.fire_at END
          FROM seed_batch b CROSS JOIN LATERAL (VALUES ('due_soon', b.appointment_at - interval '1 day'), ('overdue', b.appointment_at)) AS k(kind, fire_at)
         WHERE b.open`)
      totals.payments += await one(`
        INSERT INTO payments (reference, dossier_id, purpose, amount, status, created_by, created_at, transaction_id, receipt_no, paid_at)
        SELECT 'TINH-P-' || b.code, b.id, 'fee', 50000, 'paid', 'cd-' || b.i, b.submitted_at, 'GD' || b.i, 'BL' || b.i, b.submitted_at + interval '10 minutes'
          FROM seed_batch b WHERE b.channel = 2 AND b.r_flags < 0.5`)
      totals.documents += await one(`
        INSERT INTO documents (id, dossier_id, kind, document_code, file_name, content_type, size, sha256, storage_key, uploaded_by, uploaded_at)
        SELECT md5('tinh-doc-' || b.id)::uuid, b.id, 'submission', NULL, 'don.pdf', 'application/pdf', 20480, md5(b.code) || md5(b.code),
               'seed/' || b.code, 'mc-' || b.agency, b.submitted_at
          FROM seed_batch b WHERE b.r_flags < 0.85`)
      totals.evaluations += await one(`
        INSERT INTO evaluations (dossier_id, evaluated_by, ratings, satisfied, created_at)
        SELECT b.id, 'cd-' || b.i, '{"a":3,"b":3,"c":3,"d":3,"e":3,"f":3,"g":3,"h":3,"i":3}'::jsonb, b.r_eval < 0.28, b.finished_at + interval '2 days'
          FROM seed_batch b WHERE b.status = 'RETURNED' AND b.r_eval < 0.3`)
      totals.open += Number((await q(`SELECT count(*) FILTER (WHERE open)::int AS n FROM seed_batch`)).rows[0].n)
      await q('COMMIT')
      say(
        `  ${to.toLocaleString('en')} / ${opts.dossiers.toLocaleString('en')} dossiers (${((performance.now() - t0) / 1000).toFixed(0)} s)`,
      )
    }
    await q(`DROP TABLE IF EXISTS seed_batch; DROP TABLE IF EXISTS seed_steps; DROP TABLE IF EXISTS seed_procs`)
    await q(`SET session_replication_role = DEFAULT`)
    say('  daily counts and statistics …')
    await q(`SELECT supervision_daily_rebuild()`)
    for (const t of [
      'dossiers',
      'history',
      'tasks',
      'process_instances',
      'deadline_alarms',
      'payments',
      'documents',
      'evaluations',
      'supervision_daily',
    ])
      await q(`VACUUM ANALYZE ${t}`)
    return { ...totals, seconds: (performance.now() - t0) / 1000 }
  } finally {
    await q(`SET session_replication_role = DEFAULT`).catch(() => {})
    await db.client.releaseConnection(conn)
  }
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : undefined
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dossiers = Number(arg('dossiers') ?? 1_000_000)
  if (!Number.isInteger(dossiers) || dossiers < 1) throw new Error('--dossiers must be a positive integer')
  const config = loadConfig()
  const url = arg('database-url') ?? config.databaseUrl ?? `postgres://postgres:postgres@127.0.0.1:${config.localPostgresPort}/postgres`
  const now = new Date(arg('now') ?? Date.now())
  const db = createDb(url, 2)
  try {
    await migrateLatest(db)
    console.log(
      `seeding ${dossiers.toLocaleString('en')} dossiers received in the year before ${now.toISOString()} into ${url.replace(/:[^:@/]*@/, ':***@')}`,
    )
    const r = await seedProvince(db, { dossiers, now, log: (m) => console.log(m) })
    console.log(
      `wrote ${r.dossiers.toLocaleString('en')} dossiers (${r.open.toLocaleString('en')} unfinished) of ${SEED_AGENCIES.length} agencies, ` +
        `${r.history.toLocaleString('en')} history rows, ${r.openTasks.toLocaleString('en')} open tasks, ${r.alarms.toLocaleString('en')} deadline alarms, ` +
        `${r.payments.toLocaleString('en')} payments, ${r.documents.toLocaleString('en')} documents, ${r.evaluations.toLocaleString('en')} evaluations ` +
        `in ${r.seconds.toFixed(1)} s`,
    )
  } finally {
    await db.destroy()
  }
}
