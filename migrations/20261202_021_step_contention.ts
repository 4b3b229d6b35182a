import type { Knex } from 'knex'

/**
 * What concurrent steps waited for each other on, found with pg_stat_statements under the benchmark's
 * load (docs/performance.md):
 *
 * - The daily counts (supervision_daily) were added by row triggers when a dossier row was written, so
 *   the transaction held its shard row from that statement to its commit, and a submission holding the
 *   unit's dossier-code counter waited there for other steps' commits. The triggers are now deferred
 *   constraint triggers: they run at commit, each with the row as the statement left it, and hold the
 *   shard row only while the commit is written. The counts are the same.
 * - A submission took the next number of its unit's daily dossier-code counter (gapless: the counter's row
 *   stays locked until the commit, and a rollback gives the number back) before the step was built, so the
 *   row stayed locked while the server built the step and while its next turn came: submissions to one unit
 *   queued on it. The step is now written with a marker in place of the code, and this deferred trigger
 *   takes the number when the submission asks for it just before its commit (SET CONSTRAINTS, in the
 *   commit's own message), writes the code and puts it where the step wrote the marker.
 * - A portal status event waits while an earlier event of its dossier is unacknowledged; that check read
 *   every unacknowledged event below its id. This index reads only the dossier's own.
 */
const SUPERVISION_UPDATE_WHEN = `((OLD.outcome, OLD.finished_at, OLD.status = 'RETURNED', OLD.return_method = 'online', OLD.paid_online, OLD.digitised,
           OLD.satisfied, OLD.channel, OLD.agency, OLD.procedure_code, OLD.submitted_at)
      IS DISTINCT FROM (NEW.outcome, NEW.finished_at, NEW.status = 'RETURNED', NEW.return_method = 'online', NEW.paid_online,
           NEW.digitised, NEW.satisfied, NEW.channel, NEW.agency, NEW.procedure_code, NEW.submitted_at))`

async function supervisionTriggers(knex: Knex, deferred: boolean): Promise<void> {
  await knex.raw('DROP TRIGGER IF EXISTS supervision_daily_insert_delete ON dossiers')
  await knex.raw('DROP TRIGGER IF EXISTS supervision_daily_update ON dossiers')
  const kind = deferred ? 'CONSTRAINT TRIGGER' : 'TRIGGER'
  const timing = deferred ? 'DEFERRABLE INITIALLY DEFERRED' : ''
  await knex.raw(`CREATE ${kind} supervision_daily_insert_delete AFTER INSERT OR DELETE ON dossiers ${timing}
    FOR EACH ROW EXECUTE FUNCTION supervision_daily_trigger()`)
  await knex.raw(`CREATE ${kind} supervision_daily_update AFTER UPDATE ON dossiers ${timing} FOR EACH ROW
    WHEN ${SUPERVISION_UPDATE_WHEN}
    EXECUTE FUNCTION supervision_daily_trigger()`)
}

/** Where a submission's step can write its dossier's code (a guard test looks in every other column). */
const DOSSIER_CODE_ASSIGN = `
  CREATE FUNCTION dossier_code_assign() RETURNS trigger LANGUAGE plpgsql AS $$
  DECLARE
    marker text := NEW.code;
    pattern text := '%' || NEW.code || '%';
    received date := timezone('Asia/Ho_Chi_Minh', NEW.created_at)::date;
    n integer;
    assigned text;
  BEGIN
    INSERT INTO dossier_sequences (unit_id, day, last_value) VALUES (NEW.unit_id, received, 1)
      ON CONFLICT (unit_id, day) DO UPDATE SET last_value = dossier_sequences.last_value + 1
      RETURNING last_value INTO n;
    IF n > 9999 THEN
      RAISE EXCEPTION 'daily dossier sequence exhausted for unit %', NEW.unit_id;
    END IF;
    assigned := NEW.unit_id || '-' || to_char(received, 'YYMMDD') || '-' || lpad(n::text, 4, '0');
    UPDATE dossiers SET code = assigned WHERE id = NEW.id;
    UPDATE tasks SET name = replace(name, marker, assigned), assignee = replace(assignee, marker, assigned),
           candidate_groups = replace(candidate_groups::text, marker, assigned)::text[],
           candidate_users = replace(candidate_users::text, marker, assigned)::text[], form_key = replace(form_key, marker, assigned)
     WHERE dossier_id = NEW.id
       AND (name || coalesce(assignee, '') || candidate_groups::text || candidate_users::text || coalesce(form_key, '')) LIKE pattern;
    UPDATE history SET details = replace(details::text, marker, assigned)::jsonb WHERE dossier_id = NEW.id AND details::text LIKE pattern;
    UPDATE outbox SET payload = replace(payload::text, marker, assigned)::jsonb WHERE published_at IS NULL AND payload::text LIKE pattern;
    UPDATE citizen_notifications SET data = replace(data::text, marker, assigned)::jsonb, address = replace(address, marker, assigned)
     WHERE dossier_id = NEW.id AND (data::text || coalesce(address, '')) LIKE pattern;
    UPDATE handoffs SET business_key = replace(business_key, marker, assigned), variables = replace(variables::text, marker, assigned)::jsonb
     WHERE dossier_id = NEW.id AND (business_key || variables::text) LIKE pattern;
    UPDATE notifications SET message = replace(message, marker, assigned) WHERE dossier_id = NEW.id AND message LIKE pattern;
    RETURN NULL;
  END $$`

export async function up(knex: Knex): Promise<void> {
  await supervisionTriggers(knex, true)
  await knex.raw(DOSSIER_CODE_ASSIGN)
  await knex.raw(`CREATE CONSTRAINT TRIGGER dossier_code_assign AFTER INSERT ON dossiers DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.code LIKE 'DVCCODE%') EXECUTE FUNCTION dossier_code_assign()`)
  await knex.raw(`CREATE INDEX outbox_portal_dossier_idx ON outbox ((payload->>'dossierId'), id)
    WHERE topic = 'dossier.status-changed' AND acknowledged_at IS NULL`)
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER IF EXISTS dossier_code_assign ON dossiers')
  await knex.raw('DROP FUNCTION IF EXISTS dossier_code_assign()')
  await knex.raw('DROP INDEX IF EXISTS outbox_portal_dossier_idx')
  await supervisionTriggers(knex, false)
}
