import type { Knex } from 'knex'

/**
 * Handoffs (chuyển liên thông): a service task's work handed to another agency's system, through
 * our adapter or fetched by an external worker, as a durable row; incidents when its retries run out.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('handoffs', (t) => {
    // The id is also the idempotency key of every call made for it.
    t.uuid('id').primary()
    t.uuid('dossier_id').notNullable().references('dossiers.id')
    t.uuid('instance_id').notNullable()
    t.text('procedure_code').notNullable()
    // The agency that hands over (the dossier's), and the one that answers.
    t.text('agency').notNullable()
    t.text('receiving_agency')
    t.text('business_key').notNullable()
    t.text('activity_id').notNullable()
    t.text('execution_id').notNullable()
    t.text('topic').notNullable()
    // Null: a Camunda 7 external task, fetched by an outside worker.
    t.text('adapter')
    // pending (to send or fetch) | waiting (sent, the answer comes by callback) | completed | incident | cancelled
    t.text('state').notNullable().defaultTo('pending')
    t.integer('priority').notNullable().defaultTo(0)
    t.jsonb('variables').notNullable()
    t.integer('attempts').notNullable().defaultTo(0)
    // Null until a failure sets it (Camunda 7: an external task's retries start unset).
    t.integer('retries')
    t.text('retry_cycle').notNullable()
    t.timestamp('next_attempt_at', { useTz: true })
    t.text('worker_id')
    t.timestamp('lock_expires_at', { useTz: true })
    t.timestamp('due_at', { useTz: true })
    t.text('error_message')
    t.text('error_details')
    t.jsonb('answer')
    t.timestamp('created_at', { useTz: true }).notNullable()
    t.timestamp('updated_at', { useTz: true }).notNullable()
    t.timestamp('sent_at', { useTz: true })
    t.timestamp('answered_at', { useTz: true })
    t.unique(['instance_id', 'execution_id'])
    t.index(['dossier_id'])
  })
  // What fetch-and-lock scans: pending external tasks by topic.
  await knex.raw(
    `CREATE INDEX handoffs_fetchable ON handoffs (topic, priority DESC, created_at) WHERE state = 'pending' AND adapter IS NULL`,
  )
  await knex.raw(`CREATE INDEX handoffs_live ON handoffs (instance_id) WHERE state IN ('pending', 'waiting', 'incident')`)
  await knex.schema.createTable('incidents', (t) => {
    t.uuid('id').primary()
    // failedExternalTask (an external worker gave up) | failedJob (our adapter's retries ran out)
    t.text('type').notNullable()
    t.uuid('handoff_id').notNullable().references('handoffs.id')
    t.uuid('dossier_id').notNullable().references('dossiers.id')
    t.uuid('instance_id').notNullable()
    t.text('procedure_code').notNullable()
    t.text('agency').notNullable()
    t.text('receiving_agency')
    t.text('activity_id').notNullable()
    t.text('message').notNullable()
    // open | resolved
    t.text('state').notNullable().defaultTo('open')
    t.timestamp('created_at', { useTz: true }).notNullable()
    t.timestamp('resolved_at', { useTz: true })
    t.text('resolved_by')
    t.text('note')
    t.index(['agency', 'state', 'created_at'])
    t.index(['handoff_id'])
  })
  // One open incident per handoff.
  await knex.raw(`CREATE UNIQUE INDEX incidents_one_open ON incidents (handoff_id) WHERE state = 'open'`)
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('incidents')
  await knex.schema.dropTable('handoffs')
}
