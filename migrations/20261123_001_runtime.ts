import type { Knex } from 'knex'

/** R1: procedures and versions, dossiers, process instances, task queues, history, outbox. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('procedures', (t) => {
    t.text('code').primary() // mã thủ tục hành chính (or the process id)
    t.text('name').notNullable()
    t.text('agency').notNullable()
    t.integer('latest_version').notNullable()
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
  })

  await knex.schema.createTable('procedure_versions', (t) => {
    t.increments('id').primary()
    t.text('procedure_code').notNullable().references('procedures.code')
    t.integer('version').notNullable()
    t.text('content_hash').notNullable()
    t.text('process_id').notNullable()
    t.text('xml').notNullable()
    t.jsonb('metadata').notNullable()
    t.jsonb('user_tasks').notNullable()
    t.jsonb('activity_statuses').notNullable().defaultTo('{}')
    t.jsonb('source_context').notNullable()
    t.jsonb('warnings').notNullable().defaultTo('[]')
    t.text('deployed_by').notNullable()
    t.timestamp('deployed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.unique(['procedure_code', 'version'])
    t.unique(['procedure_code', 'content_hash'])
  })

  await knex.schema.createTable('dossier_sequences', (t) => {
    t.text('unit_id').notNullable()
    t.date('day').notNullable()
    t.integer('last_value').notNullable()
    t.primary(['unit_id', 'day'])
  })

  await knex.schema.createTable('dossiers', (t) => {
    t.uuid('id').primary()
    t.text('code').notNullable().unique() // mã số hồ sơ
    t.text('unit_id').notNullable()
    t.text('procedure_code').notNullable().references('procedures.code')
    t.integer('procedure_version_id').notNullable().references('procedure_versions.id')
    t.text('agency').notNullable()
    t.text('status').notNullable()
    t.smallint('national_status').notNullable()
    t.smallint('channel').notNullable() // 1 counter, 2 online, 3 public post
    t.jsonb('applicant').notNullable()
    t.text('applicant_user_id')
    t.jsonb('data').notNullable()
    t.text('submitted_by').notNullable()
    t.text('idempotency_key')
    t.text('request_hash')
    t.timestamp('submitted_at', { useTz: true }).notNullable()
    t.timestamp('finished_at', { useTz: true })
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.unique(['submitted_by', 'idempotency_key'])
    t.index(['agency', 'status'])
    t.index(['procedure_code'])
  })

  await knex.schema.createTable('process_instances', (t) => {
    t.uuid('id').primary()
    t.uuid('dossier_id').notNullable().references('dossiers.id')
    t.integer('procedure_version_id').notNullable().references('procedure_versions.id')
    t.text('status').notNullable() // running | completed | failed
    t.jsonb('state')
    t.integer('version').notNullable() // optimistic concurrency: bumped by every committed step
    t.uuid('step_id') // id of the step that produced `state` (lets a cached live engine be reused)
    t.text('error')
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.index(['dossier_id'])
  })

  await knex.schema.createTable('tasks', (t) => {
    t.uuid('id').primary()
    t.uuid('instance_id').notNullable().references('process_instances.id')
    t.uuid('dossier_id').notNullable().references('dossiers.id')
    t.text('procedure_code').notNullable()
    t.text('agency').notNullable()
    t.text('activity_id').notNullable()
    t.text('execution_id').notNullable()
    t.text('name').notNullable()
    t.specificType('candidate_groups', 'text[]').notNullable().defaultTo('{}')
    t.specificType('candidate_users', 'text[]').notNullable().defaultTo('{}')
    t.text('assignee')
    t.text('form_key')
    t.timestamp('due_at', { useTz: true })
    t.text('status').notNullable() // open | completed | cancelled
    t.jsonb('variables')
    t.text('completed_by')
    t.timestamp('created_at', { useTz: true }).notNullable()
    t.timestamp('claimed_at', { useTz: true })
    t.timestamp('completed_at', { useTz: true })
    t.unique(['instance_id', 'execution_id'])
    t.index(['dossier_id'])
  })
  await knex.raw("CREATE INDEX tasks_open_groups_idx ON tasks USING gin (candidate_groups) WHERE status = 'open'")
  await knex.raw("CREATE INDEX tasks_open_created_idx ON tasks (agency, created_at, id) WHERE status = 'open'")
  await knex.raw("CREATE INDEX tasks_open_assignee_idx ON tasks (assignee) WHERE status = 'open'")

  await knex.schema.createTable('history', (t) => {
    t.bigIncrements('id').primary()
    t.uuid('dossier_id').notNullable().references('dossiers.id')
    t.uuid('task_id')
    t.text('activity_id')
    t.text('action').notNullable()
    t.text('actor').notNullable()
    t.text('status')
    t.jsonb('details')
    t.timestamp('at', { useTz: true }).notNullable()
    t.index(['dossier_id', 'id'])
  })
  await knex.raw("CREATE UNIQUE INDEX history_task_completed_once ON history (task_id) WHERE action = 'task.completed'")

  await knex.schema.createTable('outbox', (t) => {
    t.bigIncrements('id').primary()
    t.text('topic').notNullable()
    t.jsonb('payload').notNullable()
    t.timestamp('available_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('published_at', { useTz: true })
    t.integer('attempts').notNullable().defaultTo(0)
    t.text('last_error')
  })
  await knex.raw('CREATE INDEX outbox_pending_idx ON outbox (id) WHERE published_at IS NULL')

  // What the national portal (DVCQG) acknowledged, per status change: the 766 indicator 1.4 reads it.
  await knex.schema.createTable('portal_sync_log', (t) => {
    t.text('event_id').primary()
    t.uuid('dossier_id').notNullable().references('dossiers.id')
    t.text('dossier_code').notNullable()
    t.smallint('national_status').notNullable()
    t.text('receipt').notNullable()
    t.timestamp('acked_at', { useTz: true }).notNullable()
  })
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'portal_sync_log',
    'outbox',
    'history',
    'tasks',
    'process_instances',
    'dossiers',
    'dossier_sequences',
    'procedure_versions',
    'procedures',
  ]) {
    await knex.schema.dropTableIfExists(table)
  }
}
