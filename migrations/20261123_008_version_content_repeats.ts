import type { Knex } from 'knex'

/**
 * Re-deploying an earlier diagram after a newer one makes a new version with that content (as
 * Camunda 7's duplicate filtering, which compares with the latest version only): the same content
 * hash may now appear in several versions of a procedure.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('procedure_versions', (t) => {
    t.dropUnique(['procedure_code', 'content_hash'])
  })
}

export async function down(knex: Knex): Promise<void> {
  // Fails while a procedure holds the same content in two versions: those rows are history, not deleted here.
  await knex.schema.alterTable('procedure_versions', (t) => {
    t.unique(['procedure_code', 'content_hash'])
  })
}
