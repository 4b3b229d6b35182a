import type { Knex } from 'knex'

/**
 * Public postal service (bưu chính công ích): the tracking number (mã vận đơn) the postal operator
 * gives a pickup or delivery order, on its handoff; and the operator's tracking events, one row each,
 * so a repeated or late event is recognised and changes nothing.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('handoffs', (t) => {
    t.text('tracking_number')
  })
  await knex.raw('CREATE UNIQUE INDEX handoffs_tracking_number ON handoffs (tracking_number) WHERE tracking_number IS NOT NULL')
  await knex.schema.createTable('postal_events', (t) => {
    t.bigIncrements('id')
    t.uuid('handoff_id').notNullable().references('handoffs.id')
    t.uuid('dossier_id').notNullable().references('dossiers.id')
    t.text('tracking_number').notNullable()
    // The handoff's attempt the event belongs to: a retried order starts its tracking again.
    t.integer('attempt').notNullable()
    // accepted | picked_up | in_transit | delivered | returned_to_sender | failed
    t.text('event').notNullable()
    t.timestamp('at', { useTz: true }).notNullable()
    t.text('place')
    t.text('note')
    t.timestamp('received_at', { useTz: true }).notNullable()
    // The same event at the same time is the same event, however often it is sent.
    t.unique(['tracking_number', 'attempt', 'event', 'at'])
    t.index(['handoff_id'])
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('postal_events')
  await knex.raw('DROP INDEX IF EXISTS handoffs_tracking_number')
  await knex.schema.alterTable('handoffs', (t) => {
    t.dropColumn('tracking_number')
  })
}
