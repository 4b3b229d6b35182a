import type { Knex } from 'knex'

/**
 * R6: supervision at province scale (docs/performance.md#supervision-at-province-scale).
 *
 * - Per-dossier figures the indicators read, kept on the dossier row: `outcome` (trước hạn / đúng hạn /
 *   quá hạn, a generated column), `paid_online`, `digitised` and `satisfied` (set by triggers on payments,
 *   documents and evaluations).
 * - `supervision_daily`: counts per agency, procedure and Vietnam day, kept by a trigger on dossiers in
 *   the same transaction as the change it counts (never a nightly job that can drift). Indicators and the
 *   periodic report sum these rows instead of scanning a province-year of dossiers.
 * - Partial indexes for the overdue / due-soon lists, the Today counts and the step counts.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE dossiers
      ADD COLUMN paid_online boolean NOT NULL DEFAULT false,
      ADD COLUMN digitised boolean NOT NULL DEFAULT false,
      ADD COLUMN satisfied boolean,
      ADD COLUMN outcome text GENERATED ALWAYS AS (
        CASE
          WHEN finished_at IS NULL OR appointment_at IS NULL THEN NULL
          WHEN supplement_count > 1 THEN 'late'
          WHEN timezone('Asia/Ho_Chi_Minh', finished_at)::date < timezone('Asia/Ho_Chi_Minh', appointment_at)::date THEN 'early'
          WHEN timezone('Asia/Ho_Chi_Minh', finished_at)::date = timezone('Asia/Ho_Chi_Minh', appointment_at)::date THEN 'on_time'
          ELSE 'late'
        END) STORED`)
  await knex.raw(`
    UPDATE dossiers d SET
      paid_online = EXISTS (SELECT 1 FROM payments p WHERE p.dossier_id = d.id AND p.status = 'paid'),
      digitised = EXISTS (SELECT 1 FROM documents doc WHERE doc.dossier_id = d.id AND doc.kind = 'submission'),
      satisfied = (SELECT e.satisfied FROM evaluations e WHERE e.dossier_id = d.id)`)
  await knex.raw('CREATE INDEX IF NOT EXISTS payments_dossier_idx ON payments (dossier_id)')

  // Received cohort (by the day of receipt): what the 766 indicators read. Resolved (by the day processing finished): the report.
  await knex.raw(`
    CREATE TABLE supervision_daily (
      agency text NOT NULL,
      procedure_code text NOT NULL,
      day date NOT NULL,
      received integer NOT NULL DEFAULT 0,
      online integer NOT NULL DEFAULT 0,
      counter integer NOT NULL DEFAULT 0,
      postal integer NOT NULL DEFAULT 0,
      finished integer NOT NULL DEFAULT 0,
      early integer NOT NULL DEFAULT 0,
      on_time integer NOT NULL DEFAULT 0,
      late integer NOT NULL DEFAULT 0,
      returned integer NOT NULL DEFAULT 0,
      electronic_results integer NOT NULL DEFAULT 0,
      paid_online integer NOT NULL DEFAULT 0,
      digitised integer NOT NULL DEFAULT 0,
      evaluated integer NOT NULL DEFAULT 0,
      satisfied integer NOT NULL DEFAULT 0,
      resolved integer NOT NULL DEFAULT 0,
      resolved_early integer NOT NULL DEFAULT 0,
      resolved_on_time integer NOT NULL DEFAULT 0,
      resolved_late integer NOT NULL DEFAULT 0,
      PRIMARY KEY (agency, day, procedure_code)
    )`)

  // One dossier's contribution (sign +1 or -1): its receipt-day row and its finish-day row, in day order (one lock order).
  await knex.raw(`
    CREATE FUNCTION supervision_daily_add(d dossiers, s integer) RETURNS void LANGUAGE sql AS $$
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

  // Every count again from the dossiers (the backfill; the province seed calls it after its bulk load).
  await knex.raw(`
    CREATE FUNCTION supervision_daily_rebuild() RETURNS void LANGUAGE sql AS $$
      DELETE FROM supervision_daily;
      INSERT INTO supervision_daily (agency, procedure_code, day, received, online, counter, postal, finished, early, on_time, late,
             returned, electronic_results, paid_online, digitised, evaluated, satisfied, resolved, resolved_early, resolved_on_time, resolved_late)
      SELECT agency, procedure_code, day, sum(received), sum(online), sum(counter), sum(postal), sum(finished), sum(early), sum(on_time),
             sum(late), sum(returned), sum(electronic_results), sum(paid_online), sum(digitised), sum(evaluated), sum(satisfied),
             sum(resolved), sum(resolved_early), sum(resolved_on_time), sum(resolved_late)
        FROM (
          SELECT agency, procedure_code, timezone('Asia/Ho_Chi_Minh', submitted_at)::date AS day, 1 AS received,
                 coalesce(channel = 2, false)::int AS online, coalesce(channel = 1, false)::int AS counter, coalesce(channel = 3, false)::int AS postal,
                 coalesce(outcome IS NOT NULL, false)::int AS finished, coalesce(outcome = 'early', false)::int AS early, coalesce(outcome = 'on_time', false)::int AS on_time,
                 coalesce(outcome = 'late', false)::int AS late, coalesce(status = 'RETURNED', false)::int AS returned, coalesce(return_method = 'online', false)::int AS electronic_results,
                 paid_online::int AS paid_online, digitised::int AS digitised, (satisfied IS NOT NULL)::int AS evaluated,
                 coalesce(satisfied, false)::int AS satisfied, 0 AS resolved, 0 AS resolved_early, 0 AS resolved_on_time, 0 AS resolved_late
            FROM dossiers
          UNION ALL
          SELECT agency, procedure_code, timezone('Asia/Ho_Chi_Minh', finished_at)::date, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
                 coalesce(outcome = 'early', false)::int, coalesce(outcome = 'on_time', false)::int, coalesce(outcome = 'late', false)::int
            FROM dossiers WHERE finished_at IS NOT NULL
        ) x
       GROUP BY agency, procedure_code, day
       ORDER BY agency, day, procedure_code;
    $$`)
  await knex.raw('SELECT supervision_daily_rebuild()')

  await knex.raw(`
    CREATE FUNCTION supervision_daily_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP IN ('UPDATE', 'DELETE') THEN PERFORM supervision_daily_add(OLD, -1); END IF;
      IF TG_OP IN ('INSERT', 'UPDATE') THEN PERFORM supervision_daily_add(NEW, 1); END IF;
      RETURN NULL;
    END $$`)
  await knex.raw(`CREATE TRIGGER supervision_daily_insert_delete AFTER INSERT OR DELETE ON dossiers
    FOR EACH ROW EXECUTE FUNCTION supervision_daily_trigger()`)
  // Most updates (deadline state, pauses, updated_at) change no count: the trigger only fires for those that do.
  await knex.raw(`CREATE TRIGGER supervision_daily_update AFTER UPDATE ON dossiers FOR EACH ROW
    WHEN ((OLD.outcome, OLD.finished_at, OLD.status = 'RETURNED', OLD.return_method = 'online', OLD.paid_online, OLD.digitised,
           OLD.satisfied, OLD.channel, OLD.agency, OLD.procedure_code, OLD.submitted_at)
      IS DISTINCT FROM (NEW.outcome, NEW.finished_at, NEW.status = 'RETURNED', NEW.return_method = 'online', NEW.paid_online,
           NEW.digitised, NEW.satisfied, NEW.channel, NEW.agency, NEW.procedure_code, NEW.submitted_at))
    EXECUTE FUNCTION supervision_daily_trigger()`)

  // The dossier flags follow payments, submitted documents and the evaluation, in their own transactions.
  const flag = async (table: string, events: string, when: string, set: string) => {
    await knex.raw(`
      CREATE FUNCTION dossier_flag_${table}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF ${when} THEN UPDATE dossiers SET ${set}; END IF;
        RETURN NULL;
      END $$`)
    await knex.raw(`CREATE TRIGGER dossier_flag AFTER ${events} ON ${table} FOR EACH ROW EXECUTE FUNCTION dossier_flag_${table}()`)
  }
  await flag(
    'payments',
    'INSERT OR UPDATE OF status',
    "NEW.status = 'paid'",
    'paid_online = true WHERE id = NEW.dossier_id AND NOT paid_online',
  )
  await flag('documents', 'INSERT', "NEW.kind = 'submission'", 'digitised = true WHERE id = NEW.dossier_id AND NOT digitised')
  await flag(
    'evaluations',
    'INSERT OR UPDATE OF satisfied',
    'true',
    'satisfied = NEW.satisfied WHERE id = NEW.dossier_id AND satisfied IS DISTINCT FROM NEW.satisfied',
  )

  // The supervisors' lists, each read in its sort order so a first page stops after a page of rows:
  // unfinished dossiers by appointment (all, and only those due soon or overdue), by agency and for all agencies.
  const open = 'finished_at IS NULL'
  await knex.raw(`CREATE INDEX dossiers_open_agency_idx ON dossiers (agency, appointment_at, id) WHERE ${open}`)
  await knex.raw(`CREATE INDEX dossiers_open_all_idx ON dossiers (appointment_at, id) WHERE ${open}`)
  for (const state of ['overdue', 'due_soon']) {
    const where = `${open} AND deadline_state = '${state}'`
    await knex.raw(`CREATE INDEX dossiers_${state}_agency_idx ON dossiers (agency, appointment_at, id) WHERE ${where}`)
    await knex.raw(`CREATE INDEX dossiers_${state}_all_idx ON dossiers (appointment_at, id) WHERE ${where}`)
  }
  // Today and /metrics: unfinished dossiers by agency, procedure, deadline state and status (index-only counts).
  await knex.raw(
    `CREATE INDEX dossiers_open_counts_idx ON dossiers (agency, procedure_code, deadline_state) INCLUDE (status) WHERE ${open}`,
  )
  // The lists behind Today's received and resolved figures (newest first).
  await knex.raw(`CREATE INDEX dossiers_received_agency_idx ON dossiers (agency, submitted_at, id)`)
  await knex.raw(`CREATE INDEX dossiers_received_all_idx ON dossiers (submitted_at, id)`)
  await knex.raw(`CREATE INDEX dossiers_resolved_agency_idx ON dossiers (agency, finished_at, id) WHERE finished_at IS NOT NULL`)
  await knex.raw(`CREATE INDEX dossiers_resolved_all_idx ON dossiers (finished_at, id) WHERE finished_at IS NOT NULL`)
  // Open tasks due soon or overdue by agency, by officer, for all agencies, in due order; step counts per procedure and activity.
  const lateTask = `status = 'open' AND deadline_state <> 'on_track'`
  await knex.raw(`CREATE INDEX tasks_late_agency_idx ON tasks (agency, due_at, id) WHERE ${lateTask}`)
  await knex.raw(`CREATE INDEX tasks_late_assignee_idx ON tasks (assignee, due_at, id) WHERE ${lateTask}`)
  await knex.raw(`CREATE INDEX tasks_late_all_idx ON tasks (due_at, id) WHERE ${lateTask}`)
  // A task's procedure version, copied from its instance when it is written: the overlays count one version's steps.
  await knex.raw('ALTER TABLE tasks ADD COLUMN procedure_version_id integer')
  await knex.raw('UPDATE tasks t SET procedure_version_id = i.procedure_version_id FROM process_instances i WHERE i.id = t.instance_id')
  await knex.raw(`
    CREATE FUNCTION task_procedure_version() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.procedure_version_id IS NULL THEN
        SELECT procedure_version_id INTO NEW.procedure_version_id FROM process_instances WHERE id = NEW.instance_id;
      END IF;
      RETURN NEW;
    END $$`)
  await knex.raw('CREATE TRIGGER task_procedure_version BEFORE INSERT ON tasks FOR EACH ROW EXECUTE FUNCTION task_procedure_version()')
  await knex.raw(
    `CREATE INDEX tasks_open_steps_idx ON tasks (procedure_version_id, agency, activity_id, deadline_state) WHERE status = 'open'`,
  )
}

export async function down(knex: Knex): Promise<void> {
  for (const i of [
    'tasks_open_steps_idx',
    'tasks_late_all_idx',
    'tasks_late_assignee_idx',
    'tasks_late_agency_idx',
    'dossiers_resolved_all_idx',
    'dossiers_resolved_agency_idx',
    'dossiers_received_all_idx',
    'dossiers_received_agency_idx',
    'dossiers_open_counts_idx',
    'dossiers_due_soon_all_idx',
    'dossiers_due_soon_agency_idx',
    'dossiers_overdue_all_idx',
    'dossiers_overdue_agency_idx',
    'dossiers_open_all_idx',
    'dossiers_open_agency_idx',
    'payments_dossier_idx',
  ])
    await knex.raw(`DROP INDEX IF EXISTS ${i}`)
  for (const table of ['payments', 'documents', 'evaluations']) {
    await knex.raw(`DROP TRIGGER IF EXISTS dossier_flag ON ${table}`)
    await knex.raw(`DROP FUNCTION IF EXISTS dossier_flag_${table}()`)
  }
  await knex.raw('DROP TRIGGER IF EXISTS task_procedure_version ON tasks')
  await knex.raw('DROP FUNCTION IF EXISTS task_procedure_version()')
  await knex.raw('ALTER TABLE tasks DROP COLUMN IF EXISTS procedure_version_id')
  await knex.raw('DROP TRIGGER IF EXISTS supervision_daily_update ON dossiers')
  await knex.raw('DROP TRIGGER IF EXISTS supervision_daily_insert_delete ON dossiers')
  await knex.raw('DROP FUNCTION IF EXISTS supervision_daily_trigger()')
  await knex.raw('DROP FUNCTION IF EXISTS supervision_daily_rebuild()')
  await knex.raw('DROP FUNCTION IF EXISTS supervision_daily_add(dossiers, integer)')
  await knex.raw('DROP TABLE IF EXISTS supervision_daily')
  await knex.raw('ALTER TABLE dossiers DROP COLUMN outcome, DROP COLUMN satisfied, DROP COLUMN digitised, DROP COLUMN paid_online')
}
