import type { Knex } from 'knex'

/**
 * Row-count checks of a StatementBatch run inside Postgres: a write that must change exactly N rows
 * (the optimistic version check of a saved engine state) fails the statement itself, so a batch can
 * end with COMMIT in the same message and a stale write still commits nothing.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE OR REPLACE FUNCTION batch_expect_rows(actual bigint, expected bigint, statement integer) RETURNS bigint
    LANGUAGE plpgsql AS $$
    BEGIN
      IF actual <> expected THEN
        RAISE EXCEPTION 'statement batch: statement % changed % rows, expected %', statement, actual, expected USING ERRCODE = 'P0004';
      END IF;
      RETURN actual;
    END
    $$`)
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP FUNCTION IF EXISTS batch_expect_rows(bigint, bigint, integer)')
}
