import type { Knex } from 'knex'

/**
 * Messages to applicants (thông báo cho người nộp hồ sơ): one row per event and channel, written in
 * the transaction that decided it, delivered by a worker. The delivery fields (state, attempts,
 * retries left, next attempt, last error) are those of any outgoing job with retries.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('citizen_notifications', (t) => {
    t.uuid('id').primary()
    t.uuid('dossier_id').notNullable().references('id').inTable('dossiers')
    t.text('agency').notNullable()
    /** receipt | supplement_request | result_ready | apology | payment_request */
    t.text('event').notNullable()
    /** dossier + event + sequence: the same event never makes a second row on a channel. */
    t.text('event_key').notNullable()
    /** email | sms | webhook | none (the applicant gave no address) */
    t.text('channel').notNullable()
    t.text('address').nullable()
    /** What the template needs, as decided in the event's transaction. */
    t.jsonb('data').notNullable()
    /** pending | sent | failed (retries exhausted: an incident) | no_address */
    t.text('state').notNullable()
    t.integer('attempts').notNullable().defaultTo(0)
    t.integer('retries_left').notNullable()
    t.timestamp('next_attempt_at', { useTz: true }).nullable()
    t.text('last_error').nullable()
    t.text('message_id').nullable()
    t.timestamp('sent_at', { useTz: true }).nullable()
    t.timestamp('created_at', { useTz: true }).notNullable()
    t.timestamp('updated_at', { useTz: true }).notNullable()
    t.unique(['event_key', 'channel'])
    t.index(['dossier_id'])
  })
  await knex.raw("CREATE INDEX citizen_notifications_due ON citizen_notifications (next_attempt_at) WHERE state = 'pending'")
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('citizen_notifications')
}
