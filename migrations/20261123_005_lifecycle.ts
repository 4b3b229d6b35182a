import type { Knex } from 'knex'

/**
 * R3: the one-stop lifecycle. Message catch events per version (payments, supplements), dossier flags
 * (supplement rounds), documents (tài liệu hồ sơ), payments (thanh toán trực tuyến) and the
 * applicant's evaluation (đánh giá).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('procedure_versions', (t) => {
    t.jsonb('message_catches').notNullable().defaultTo('{}')
  })
  await knex.schema.alterTable('dossiers', (t) => {
    t.integer('supplement_count').notNullable().defaultTo(0)
    t.boolean('late_supplement').notNullable().defaultTo(false) // yêu cầu bổ sung sau 3 ngày làm việc kể từ khi tiếp nhận
    t.text('return_method') // counter | online | post
    t.timestamp('returned_at', { useTz: true })
  })
  await knex.schema.createTable('documents', (t) => {
    t.uuid('id').primary()
    t.uuid('dossier_id').notNullable().references('dossiers.id')
    t.text('kind').notNullable() // submission | supplement | result
    t.text('document_code') // from the procedure's published document list
    t.text('file_name').notNullable()
    t.text('content_type').notNullable()
    t.bigInteger('size').notNullable()
    t.text('sha256').notNullable()
    t.text('storage_key').notNullable()
    t.text('uploaded_by').notNullable()
    t.timestamp('uploaded_at', { useTz: true }).notNullable()
    t.index(['dossier_id', 'uploaded_at'])
  })
  await knex.schema.createTable('payments', (t) => {
    t.text('reference').primary() // MaThamChieu
    t.uuid('dossier_id').notNullable().references('dossiers.id')
    t.text('purpose').notNullable() // fee (phí, lệ phí) | obligation (nghĩa vụ tài chính)
    t.bigInteger('amount').notNullable()
    t.text('status').notNullable() // pending | paid | cancelled
    t.text('created_by').notNullable()
    t.timestamp('created_at', { useTz: true }).notNullable()
    t.text('transaction_id') // MaGiaoDich from the gateway
    t.text('receipt_no') // số biên lai điện tử
    t.timestamp('paid_at', { useTz: true })
    t.jsonb('callback')
  })
  await knex.raw("CREATE UNIQUE INDEX payments_one_pending_idx ON payments (dossier_id, purpose) WHERE status = 'pending'")
  await knex.schema.createTable('evaluations', (t) => {
    t.uuid('dossier_id').primary().references('dossiers.id')
    t.text('evaluated_by').notNullable()
    t.jsonb('ratings').notNullable() // items a–i of docs/domain.md#citizen-evaluation
    t.boolean('satisfied').notNullable()
    t.text('comment')
    t.timestamp('created_at', { useTz: true }).notNullable()
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('evaluations')
  await knex.schema.dropTable('payments')
  await knex.schema.dropTable('documents')
  await knex.schema.alterTable('dossiers', (t) => {
    t.dropColumns('supplement_count', 'late_supplement', 'return_method', 'returned_at')
  })
  await knex.schema.alterTable('procedure_versions', (t) => {
    t.dropColumn('message_catches')
  })
}
