import type { Knex } from 'knex'

/**
 * A read of every submission that scanned a whole table, found with pg_stat_statements under the
 * benchmark's load (docs/performance.md): the code trigger (`dossier_code_assign`) writes a new
 * dossier's code into its in-app notifications (`WHERE dossier_id = …`), and notifications had no
 * index on `dossier_id`, so each submission read every notification ever written.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX notifications_dossier_idx ON notifications (dossier_id)')
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS notifications_dossier_idx')
}
