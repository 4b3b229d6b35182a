import type { Knex } from 'knex'

/**
 * The daily counts (supervision_daily) in a few shard rows per agency, procedure and day. The triggers
 * add each change of a dossier to its day's row inside the change's transaction, so two submissions of
 * the same agency and procedure on the same day waited for each other's commit on that one row: on the
 * 1 M seed, 8 connections submitting to one agency committed about 200 a second, against about 550 with 8
 * agencies or without the trigger (docs/performance.md). Each transaction now adds to the shard row its
 * transaction id names (txid % SHARDS: concurrent transactions have neighbouring ids, so they land on
 * different rows); every read already sums the rows of a key. The rebuild still writes shard 0.
 */
const SHARDS = 8

export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE supervision_daily ADD COLUMN shard smallint NOT NULL DEFAULT 0')
  await knex.raw('ALTER TABLE supervision_daily DROP CONSTRAINT supervision_daily_pkey')
  await knex.raw('ALTER TABLE supervision_daily ADD PRIMARY KEY (agency, day, procedure_code, shard)')
  await knex.raw(`
    CREATE OR REPLACE FUNCTION supervision_daily_add(d dossiers, s integer) RETURNS void LANGUAGE sql AS $$
      INSERT INTO supervision_daily AS a (agency, procedure_code, day, shard, received, online, counter, postal, finished, early, on_time, late,
             returned, electronic_results, paid_online, digitised, evaluated, satisfied, resolved, resolved_early, resolved_on_time, resolved_late)
      SELECT d.agency, d.procedure_code, x.day, (txid_current() % ${SHARDS})::smallint, sum(x.received), sum(x.online), sum(x.counter), sum(x.postal), sum(x.finished), sum(x.early),
             sum(x.on_time), sum(x.late), sum(x.returned), sum(x.electronic_results), sum(x.paid_online), sum(x.digitised), sum(x.evaluated),
             sum(x.satisfied), sum(x.resolved), sum(x.resolved_early), sum(x.resolved_on_time), sum(x.resolved_late)
        FROM (
          SELECT timezone('Asia/Ho_Chi_Minh', d.submitted_at)::date AS day, s AS received,
                 s * coalesce(d.channel = 2, false)::int AS online, s * coalesce(d.channel = 1, false)::int AS counter, s * coalesce(d.channel = 3, false)::int AS postal,
                 s * coalesce(d.outcome IS NOT NULL, false)::int AS finished, s * coalesce(d.outcome = 'early', false)::int AS early,
                 s * coalesce(d.outcome = 'on_time', false)::int AS on_time, s * coalesce(d.outcome = 'late', false)::int AS late,
                 s * coalesce(d.status = 'RETURNED', false)::int AS returned, s * coalesce(d.return_method = 'online', false)::int AS electronic_results,
                 s * d.paid_online::int AS paid_online, s * d.digitised::int AS digitised,
                 s * (d.satisfied IS NOT NULL)::int AS evaluated, s * coalesce(d.satisfied, false)::int AS satisfied,
                 0 AS resolved, 0 AS resolved_early, 0 AS resolved_on_time, 0 AS resolved_late
          UNION ALL
          SELECT timezone('Asia/Ho_Chi_Minh', d.finished_at)::date, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, s,
                 s * coalesce(d.outcome = 'early', false)::int, s * coalesce(d.outcome = 'on_time', false)::int, s * coalesce(d.outcome = 'late', false)::int
           WHERE d.finished_at IS NOT NULL
        ) x
       GROUP BY x.day
       ORDER BY x.day
      ON CONFLICT (agency, day, procedure_code, shard) DO UPDATE SET
        received = a.received + excluded.received, online = a.online + excluded.online, counter = a.counter + excluded.counter,
        postal = a.postal + excluded.postal, finished = a.finished + excluded.finished, early = a.early + excluded.early,
        on_time = a.on_time + excluded.on_time, late = a.late + excluded.late, returned = a.returned + excluded.returned,
        electronic_results = a.electronic_results + excluded.electronic_results, paid_online = a.paid_online + excluded.paid_online,
        digitised = a.digitised + excluded.digitised, evaluated = a.evaluated + excluded.evaluated, satisfied = a.satisfied + excluded.satisfied,
        resolved = a.resolved + excluded.resolved, resolved_early = a.resolved_early + excluded.resolved_early,
        resolved_on_time = a.resolved_on_time + excluded.resolved_on_time, resolved_late = a.resolved_late + excluded.resolved_late
    $$`)
}

const COUNTS = [
  'received',
  'online',
  'counter',
  'postal',
  'finished',
  'early',
  'on_time',
  'late',
  'returned',
  'electronic_results',
  'paid_online',
  'digitised',
  'evaluated',
  'satisfied',
  'resolved',
  'resolved_early',
  'resolved_on_time',
  'resolved_late',
]

export async function down(knex: Knex): Promise<void> {
  // The shards of each key summed into one row again.
  await knex.raw(`CREATE TEMP TABLE supervision_daily_sum AS
    SELECT agency, procedure_code, day, ${COUNTS.map((c) => `sum(${c})::int AS ${c}`).join(', ')} FROM supervision_daily GROUP BY agency, procedure_code, day`)
  await knex.raw('DELETE FROM supervision_daily')
  await knex.raw('ALTER TABLE supervision_daily DROP CONSTRAINT supervision_daily_pkey')
  await knex.raw('ALTER TABLE supervision_daily DROP COLUMN shard')
  await knex.raw('ALTER TABLE supervision_daily ADD PRIMARY KEY (agency, day, procedure_code)')
  await knex.raw(`INSERT INTO supervision_daily (agency, procedure_code, day, ${COUNTS.join(', ')})
    SELECT agency, procedure_code, day, ${COUNTS.join(', ')} FROM supervision_daily_sum`)
  await knex.raw('DROP TABLE supervision_daily_sum')
  await knex.raw(`
    CREATE OR REPLACE FUNCTION supervision_daily_add(d dossiers, s integer) RETURNS void LANGUAGE sql AS $$
      INSERT INTO supervision_daily AS a (agency, procedure_code, day, received, online, counter, postal, finished, early, on_time, late,
             returned, electronic_results, paid_online, digitised, evaluated, satisfied, resolved, resolved_early, resolved_on_time, resolved_late)
      SELECT d.agency, d.procedure_code, x.day, sum(x.received), sum(x.online), sum(x.counter), sum(x.postal), sum(x.finished), sum(x.early),
             sum(x.on_time), sum(x.late), sum(x.returned), sum(x.electronic_results), sum(x.paid_online), sum(x.digitised), sum(x.evaluated),
             sum(x.satisfied), sum(x.resolved), sum(x.resolved_early), sum(x.resolved_on_time), sum(x.resolved_late)
        FROM (
          SELECT timezone('Asia/Ho_Chi_Minh', d.submitted_at)::date AS day, s AS received,
                 s * coalesce(d.channel = 2, false)::int AS online, s * coalesce(d.channel = 1, false)::int AS counter, s * coalesce(d.channel = 3, false)::int AS postal,
                 s * coalesce(d.outcome IS NOT NULL, false)::int AS finished, s * coalesce(d.outcome = 'early', false)::int AS early,
                 s * coalesce(d.outcome = 'on_time', false)::int AS on_time, s * coalesce(d.outcome = 'late', false)::int AS late,
                 s * coalesce(d.status = 'RETURNED', false)::int AS returned, s * coalesce(d.return_method = 'online', false)::int AS electronic_results,
                 s * d.paid_online::int AS paid_online, s * d.digitised::int AS digitised,
                 s * (d.satisfied IS NOT NULL)::int AS evaluated, s * coalesce(d.satisfied, false)::int AS satisfied,
                 0 AS resolved, 0 AS resolved_early, 0 AS resolved_on_time, 0 AS resolved_late
          UNION ALL
          SELECT timezone('Asia/Ho_Chi_Minh', d.finished_at)::date, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, s,
                 s * coalesce(d.outcome = 'early', false)::int, s * coalesce(d.outcome = 'on_time', false)::int, s * coalesce(d.outcome = 'late', false)::int
           WHERE d.finished_at IS NOT NULL
        ) x
       GROUP BY x.day
       ORDER BY x.day
      ON CONFLICT (agency, day, procedure_code) DO UPDATE SET
        received = a.received + excluded.received, online = a.online + excluded.online, counter = a.counter + excluded.counter,
        postal = a.postal + excluded.postal, finished = a.finished + excluded.finished, early = a.early + excluded.early,
        on_time = a.on_time + excluded.on_time, late = a.late + excluded.late, returned = a.returned + excluded.returned,
        electronic_results = a.electronic_results + excluded.electronic_results, paid_online = a.paid_online + excluded.paid_online,
        digitised = a.digitised + excluded.digitised, evaluated = a.evaluated + excluded.evaluated, satisfied = a.satisfied + excluded.satisfied,
        resolved = a.resolved + excluded.resolved, resolved_early = a.resolved_early + excluded.resolved_early,
        resolved_on_time = a.resolved_on_time + excluded.resolved_on_time, resolved_late = a.resolved_late + excluded.resolved_late
    $$`)
}
