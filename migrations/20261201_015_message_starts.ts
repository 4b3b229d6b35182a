import type { Knex } from 'knex'

/** Message start events of a version, by message name: where POST /api/messages starts a new dossier. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('procedure_versions', (t) => {
    t.jsonb('message_starts').notNullable().defaultTo('{}')
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('procedure_versions', (t) => {
    t.dropColumn('message_starts')
  })
}
