import type { Queryable, Tx } from '../db/knex.ts'
import type { Finding, MessageStarts } from '../engine/definition.ts'
import { AppError } from '../errors.ts'

/** The latest version of a procedure whose process starts by a message (thủ tục bắt đầu bằng thông điệp). */
export interface MessageStartVersion {
  procedure_code: string
  version_id: number
  message_starts: MessageStarts
}

/**
 * Latest versions whose process has a message start event for one of `names`, other than procedure
 * `except`. Camunda 7 lets one message name start one process definition only (its latest version):
 * deploy refuses a second one, and POST /api/messages finds the one it starts.
 */
export async function latestMessageStarts(q: Queryable, names: string[], except?: string): Promise<MessageStartVersion[]> {
  if (!names.length) return []
  const query = q('procedures as p')
    .join('procedure_versions as v', function () {
      this.on('v.procedure_code', 'p.code').andOn('v.version', 'p.latest_version')
    })
    .whereRaw('jsonb_exists_any(v.message_starts, ?::text[])', [names])
    .orderBy('p.code')
    .select('p.code as procedure_code', 'v.id as version_id', 'v.message_starts')
  if (except !== undefined) void query.whereNot('p.code', except)
  return (await query) as MessageStartVersion[]
}

/**
 * Refuses (422 BPMN_INVALID, one finding per start event) a version whose message start waits for a
 * message another procedure's latest version already starts by, as Camunda 7 refuses such a
 * deployment. Deploys with message starts are serialized (a transaction lock) so two cannot both pass.
 */
export async function refuseTakenMessageStarts(tx: Tx, code: string, starts: MessageStarts, warnings: Finding[]): Promise<void> {
  const names = Object.keys(starts)
  if (!names.length) return
  await tx.raw('select pg_advisory_xact_lock(hashtext(?))', ['procedure_versions.message_starts'])
  const taken = await latestMessageStarts(tx, names, code)
  if (!taken.length) return
  const errors: Finding[] = []
  for (const other of taken)
    for (const name of names.filter((n) => other.message_starts[n]))
      errors.push({
        elementId: starts[name]!.activityId,
        code: 'MESSAGE_START_NAME_TAKEN',
        message: `Thông điệp "${name}" đã bắt đầu thủ tục ${other.procedure_code}: một thông điệp chỉ được bắt đầu một thủ tục (như Camunda 7); hãy đặt tên thông điệp khác`,
        severity: 'error',
      })
  throw new AppError('BPMN_INVALID', 'Sơ đồ BPMN không hợp lệ: the diagram has errors', {
    findings: errors,
    warnings: warnings.filter((f) => f.severity === 'warning'),
  })
}
