import type { Knex } from 'knex'

/**
 * Dossiers another deployment of this system handed to us (liên thông giữa hai hệ thống): one row per
 * (sending agency, handoff id), so a retried request finds its dossier; and the callback owed to the
 * sender when the dossier's process ends, delivered with retries.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('peer_handoffs', (t) => {
    t.uuid('id').primary()
    t.text('sender_agency').notNullable()
    t.uuid('handoff_id').notNullable()
    t.uuid('dossier_id').notNullable().references('id').inTable('dossiers')
    /** open (being worked) | callback_due (ended, the sender not told yet) | called_back | failed (retries exhausted) */
    t.text('state').notNullable()
    /** The callback body decided when the process ended. */
    t.jsonb('result').nullable()
    t.integer('attempts').notNullable().defaultTo(0)
    t.timestamp('next_attempt_at', { useTz: true }).nullable()
    t.text('last_error').nullable()
    t.timestamp('called_back_at', { useTz: true }).nullable()
    t.timestamp('created_at', { useTz: true }).notNullable()
    t.timestamp('updated_at', { useTz: true }).notNullable()
    t.unique(['sender_agency', 'handoff_id'])
    t.unique(['dossier_id'])
  })
  await knex.raw("CREATE INDEX peer_handoffs_due ON peer_handoffs (next_attempt_at) WHERE state = 'callback_due'")
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('peer_handoffs')
}
