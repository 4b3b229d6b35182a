import { HANDOFF_ADAPTERS, handoffSpecOf, parseRetryCycle, POSTAL_TOPICS } from './handoff-task.ts'

/**
 * Deploy-time checks of service tasks that hand work to another system (docs/handoffs.md): a
 * Camunda 7 external task (`camunda:type="external"` with a topic) or a `tthc:handoff` to one of our
 * adapters. Other implementations (class, delegateExpression, connector) stay refused in support.ts.
 */
interface El {
  $type: string
  id?: string
  name?: string
  type?: string
  topic?: string
  class?: string
  delegateExpression?: string
  extensionElements?: {
    values?: Array<{ $type: string; topic?: string; procedure?: string; adapter?: string; body?: string; workingDays?: string }>
  }
}

type Report = (elementId: string | null, code: string, message: string) => void

const handoffExtension = (el: El) => el.extensionElements?.values?.find((v) => v.$type === 'tthc:Handoff')

/** A service or send task drawn as a handoff (complete or not): its checks are `checkHandoff`'s. */
export function isHandoffElement(el: El): boolean {
  if (el.class !== undefined || el.delegateExpression !== undefined) return false
  if (!['bpmn:ServiceTask', 'bpmn:SendTask'].includes(el.$type)) return false
  return el.type === 'external' || handoffExtension(el) !== undefined
}

export function checkHandoff(el: El, r: { error: Report; warn: Report }): void {
  const id = el.id ?? null
  const what = `"${el.name ?? el.id}"`
  const ext = handoffExtension(el)
  if (ext && !ext.topic && !ext.procedure)
    r.error(id, 'HANDOFF_INVALID', `tthc:handoff trên ${what} thiếu topic (tên hàng đợi công việc, ví dụ topic="tax-obligation")`)
  if (ext && !ext.adapter && el.type !== 'external')
    r.error(id, 'HANDOFF_INVALID', `tthc:handoff trên ${what} thiếu adapter (${HANDOFF_ADAPTERS.join(', ')}) hoặc camunda:type="external"`)
  if (ext?.adapter && !HANDOFF_ADAPTERS.includes(ext.adapter))
    r.error(id, 'HANDOFF_INVALID', `tthc:handoff trên ${what}: adapter "${ext.adapter}" không có; hãy dùng ${HANDOFF_ADAPTERS.join(', ')}`)
  if (ext?.adapter === 'postal' && ext.topic && !(POSTAL_TOPICS as readonly string[]).includes(ext.topic))
    r.error(
      id,
      'HANDOFF_INVALID',
      `tthc:handoff adapter="postal" trên ${what}: topic "${ext.topic}" phải là ${POSTAL_TOPICS.join(' hoặc ')}`,
    )
  if (ext?.workingDays !== undefined && !(Number(ext.workingDays) > 0))
    r.error(id, 'HANDOFF_INVALID', `tthc:handoff trên ${what}: workingDays "${ext.workingDays}" phải là số ngày làm việc dương`)
  if (el.type === 'external' && !el.topic && !ext?.topic)
    r.error(id, 'HANDOFF_INVALID', `External task ${what} thiếu camunda:topic: worker bên ngoài lấy việc theo topic`)
  const spec = handoffSpecOf(el.$type, el)
  if (spec && !parseRetryCycle(spec.retryCycle))
    r.error(
      id,
      'HANDOFF_INVALID',
      `camunda:failedJobRetryTimeCycle "${spec.retryCycle}" trên ${what} không đọc được: dùng dạng R3/PT5M hoặc PT1M,PT5M,PT30M`,
    )
}
