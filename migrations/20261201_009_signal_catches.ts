import type { Knex } from 'knex'

/** Signal catch events and boundary events of a version, by signal name: where POST /api/signals delivers. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('procedure_versions', (t) => {
    t.jsonb('signal_catches').notNullable().defaultTo('{}')
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('procedure_versions', (t) => {
    t.dropColumn('signal_catches')
  })
}
