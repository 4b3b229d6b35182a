import type { Knex } from 'knex'

/**
 * Call activities to other deployed procedures: a called procedure runs as its own process instance
 * of the same dossier, linked to the instance and the call activity execution that started it; each
 * procedure version keeps what its call activities to other procedures say (called element, binding,
 * variable mappings).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('process_instances', (t) => {
    t.uuid('parent_instance_id').nullable().references('process_instances.id')
    t.text('parent_activity_id').nullable()
    t.text('parent_execution_id').nullable()
    t.integer('call_depth').notNullable().defaultTo(0)
  })
  await knex.schema.alterTable('procedure_versions', (t) => {
    t.jsonb('calls').notNullable().defaultTo('{}')
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('procedure_versions', (t) => {
    t.dropColumn('calls')
  })
  await knex.schema.alterTable('process_instances', (t) => {
    t.dropColumn('call_depth')
    t.dropColumn('parent_execution_id')
    t.dropColumn('parent_activity_id')
    t.dropColumn('parent_instance_id')
  })
}
