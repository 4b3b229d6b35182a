import type { Knex } from 'knex'

/** A task's follow-up date (camunda:followUpDate): when an officer should look at it again, filterable like the due date. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tasks', (t) => {
    t.timestamp('follow_up_at', { useTz: true }).nullable()
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tasks', (t) => {
    t.dropColumn('follow_up_at')
  })
}
