import type { Knex } from 'knex'

/**
 * Portal status events stay pending until the National Public Service Portal acknowledges them:
 * `acknowledged_at` on the outbox row (null while unacknowledged). Redis may lose a job that was
 * published; the periodic re-queue pass finds these rows through the partial index and queues them again.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox', (t) => {
    t.timestamp('acknowledged_at', { useTz: true })
  })
  // Events acknowledged before this column existed: their receipt is in portal_sync_log (event id `outbox-<id>`).
  await knex.raw(`
    UPDATE outbox o SET acknowledged_at = p.acked_at
      FROM portal_sync_log p
     WHERE o.topic = 'dossier.status-changed' AND p.event_id = 'outbox-' || o.id`)
  await knex.raw(`CREATE INDEX outbox_unacknowledged_idx ON outbox (id) WHERE topic = 'dossier.status-changed' AND acknowledged_at IS NULL`)
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS outbox_unacknowledged_idx')
  await knex.schema.alterTable('outbox', (t) => {
    t.dropColumn('acknowledged_at')
  })
}
