import type { Knex } from 'knex'

/** R2: the apology with a new appointment (Mẫu 04) may be issued once per dossier. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('dossiers', (t) => {
    t.timestamp('extended_at', { useTz: true })
    t.text('extension_reason')
    t.timestamp('original_appointment_at', { useTz: true })
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('dossiers', (t) => t.dropColumns('extended_at', 'extension_reason', 'original_appointment_at'))
}
