import type { Knex } from 'knex'

/**
 * Incidents (sự cố) of everything this system sends out, not only handoffs: a status event the
 * national portal never acknowledged, a notification to the applicant, a callback to a peer system.
 * `source` names the kind of thing that failed and `source_id` the row (one open incident per source);
 * `handoff_id`, `instance_id` and `activity_id` are set for handoffs only; `details` holds what the
 * kind adds (the portal status event, the channel and masked recipient…).
 *
 * Portal status events (outbox rows of the portal topic) get the delivery fields of an outgoing job
 * with retries: attempts made, retries left (null until a first failure), when the next attempt is
 * due, the last error, and `delivery_state`: null while being delivered, `incident` once retries ran
 * out, `closed` when a person closed its incident by hand (never sent).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('incidents', (t) => {
    // handoff | portalEvent | citizenNotification | peerCallback
    t.text('source').notNullable().defaultTo('handoff')
    t.text('source_id')
    t.jsonb('details')
  })
  await knex.raw(`UPDATE incidents SET source_id = handoff_id::text`)
  await knex.raw(`ALTER TABLE incidents ALTER COLUMN source_id SET NOT NULL`)
  await knex.raw(`ALTER TABLE incidents ALTER COLUMN source DROP DEFAULT`)
  await knex.raw(`ALTER TABLE incidents ALTER COLUMN handoff_id DROP NOT NULL`)
  await knex.raw(`ALTER TABLE incidents ALTER COLUMN instance_id DROP NOT NULL`)
  await knex.raw(`ALTER TABLE incidents ALTER COLUMN activity_id DROP NOT NULL`)
  await knex.raw(`DROP INDEX incidents_one_open`)
  // One open incident per source.
  await knex.raw(`CREATE UNIQUE INDEX incidents_one_open ON incidents (source, source_id) WHERE state = 'open'`)
  await knex.raw(`CREATE INDEX incidents_open_by_type ON incidents (agency, type) WHERE state = 'open'`)

  await knex.schema.alterTable('outbox', (t) => {
    t.integer('delivery_attempts').notNullable().defaultTo(0)
    t.integer('retries_left')
    t.timestamp('next_attempt_at', { useTz: true })
    t.text('delivery_error')
    t.text('delivery_state')
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox', (t) => {
    t.dropColumns('delivery_attempts', 'retries_left', 'next_attempt_at', 'delivery_error', 'delivery_state')
  })
  await knex.raw(`DROP INDEX incidents_open_by_type`)
  await knex.raw(`DROP INDEX incidents_one_open`)
  await knex.raw(`DELETE FROM incidents WHERE handoff_id IS NULL`)
  await knex.raw(`CREATE UNIQUE INDEX incidents_one_open ON incidents (handoff_id) WHERE state = 'open'`)
  await knex.raw(`ALTER TABLE incidents ALTER COLUMN handoff_id SET NOT NULL`)
  await knex.raw(`ALTER TABLE incidents ALTER COLUMN instance_id SET NOT NULL`)
  await knex.raw(`ALTER TABLE incidents ALTER COLUMN activity_id SET NOT NULL`)
  await knex.schema.alterTable('incidents', (t) => {
    t.dropColumns('source', 'source_id', 'details')
  })
}
