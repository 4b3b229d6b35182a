import type { Knex } from 'knex'

/**
 * R2: deadline watch. Each open dossier and each open task gets two alarms — due soon (sắp đến hạn)
 * and overdue (quá hạn) — fired by delayed BullMQ jobs. Fired alarms raise notifications.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('deadline_alarms', (t) => {
    t.uuid('id').primary()
    t.uuid('dossier_id').notNullable().references('dossiers.id')
    t.uuid('task_id').references('tasks.id') // null: the dossier's appointment date
    t.text('kind').notNullable() // due_soon | overdue
    t.timestamp('deadline_at', { useTz: true }).notNullable() // the deadline watched
    t.timestamp('fire_at', { useTz: true }).notNullable()
    t.text('status').notNullable() // pending | fired | cancelled
    t.timestamp('created_at', { useTz: true }).notNullable()
    t.timestamp('fired_at', { useTz: true })
    t.index(['dossier_id', 'status'])
  })
  await knex.raw("CREATE INDEX deadline_alarms_pending_idx ON deadline_alarms (fire_at) WHERE status = 'pending'")
  for (const table of ['dossiers', 'tasks']) {
    await knex.schema.alterTable(table, (t) => {
      t.text('deadline_state').notNullable().defaultTo('on_track') // on_track | due_soon | overdue
    })
  }
  await knex.raw("CREATE INDEX dossiers_deadline_state_idx ON dossiers (agency, deadline_state) WHERE deadline_state <> 'on_track'")

  // In-app notifications (thông báo) for officers and supervisors, written by the notification worker.
  await knex.schema.createTable('notifications', (t) => {
    t.bigIncrements('id')
    t.text('event_id').notNullable().unique() // idempotency: one notification per event
    t.text('agency').notNullable()
    t.specificType('groups', 'text[]').notNullable().defaultTo('{}') // candidate groups of the task, if any
    t.text('user_id') // assignee, if any
    t.uuid('dossier_id').notNullable().references('dossiers.id')
    t.uuid('task_id')
    t.text('kind').notNullable()
    t.text('message').notNullable()
    t.timestamp('created_at', { useTz: true }).notNullable()
    t.index(['agency', 'id'])
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('notifications')
  await knex.raw('DROP INDEX IF EXISTS dossiers_deadline_state_idx')
  for (const table of ['dossiers', 'tasks']) await knex.schema.alterTable(table, (t) => t.dropColumn('deadline_state'))
  await knex.schema.dropTableIfExists('deadline_alarms')
}
