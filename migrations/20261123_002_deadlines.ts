import type { Knex } from 'knex'

/** R2: holiday table, appointment dates and pauses, durable BPMN timers. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('calendar_entries', (t) => {
    t.date('date').primary()
    t.smallint('year').notNullable()
    t.text('kind').notNullable() // day_off | working_day (make-up Saturday, ngày làm bù)
    t.text('name').notNullable()
    t.text('source').notNullable() // legal source (văn bản)
    t.boolean('confirmed').notNullable().defaultTo(false)
    t.text('updated_by').notNullable()
    t.timestamp('updated_at', { useTz: true }).notNullable()
    t.index(['year'])
  })

  await knex.schema.alterTable('dossiers', (t) => {
    t.timestamp('received_at', { useTz: true }) // when the legal clock starts (tiếp nhận)
    t.timestamp('appointment_at', { useTz: true }) // ngày hẹn trả kết quả
    t.timestamp('paused_at', { useTz: true }) // clock stopped while the applicant has the ball
    t.integer('paused_minutes').notNullable().defaultTo(0)
    t.index(['appointment_at'])
  })

  await knex.schema.createTable('timers', (t) => {
    t.uuid('id').primary()
    t.uuid('instance_id').notNullable().references('process_instances.id')
    t.uuid('dossier_id').notNullable().references('dossiers.id')
    t.text('activity_id').notNullable()
    t.text('execution_id').notNullable()
    t.text('timer_type')
    t.text('value')
    t.timestamp('due_at', { useTz: true }).notNullable()
    t.text('status').notNullable() // pending | fired | cancelled
    t.timestamp('created_at', { useTz: true }).notNullable()
    t.timestamp('fired_at', { useTz: true })
    t.index(['instance_id', 'status'])
  })
  await knex.raw("CREATE INDEX timers_pending_due_idx ON timers (due_at) WHERE status = 'pending'")
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('timers')
  await knex.schema.alterTable('dossiers', (t) => {
    t.dropColumns('received_at', 'appointment_at', 'paused_at', 'paused_minutes')
  })
  await knex.schema.dropTableIfExists('calendar_entries')
}
