/**
 * Deploy-time checks of compensation (bù trừ): what runs is described in compensation.ts and
 * docs/procedures.md#compensation; everything else is refused with the element id.
 */
type El = { $type: string; id?: string; name?: string; [k: string]: unknown }
type Report = (elementId: string | null, code: string, message: string) => void

const label = (el: El) => `"${el.name ?? el.id}"`
const compensateDef = (el: El) =>
  ((el.eventDefinitions ?? []) as El[]).find((d) => d.$type === 'bpmn:CompensateEventDefinition') as El | undefined

/** Associations of the scope that holds `el` whose source is `el`. */
function outgoingAssociations(el: El): El[] {
  const scope = el.$parent as El | undefined
  return ((scope?.artifacts ?? []) as El[]).filter((a) => a.$type === 'bpmn:Association' && (a.sourceRef as El | undefined)?.id === el.id)
}

/** Kinds of activity that may be a compensation handler here (one activity, not a scope). */
const HANDLER_TYPES = new Set([
  'bpmn:Task',
  'bpmn:UserTask',
  'bpmn:ManualTask',
  'bpmn:ServiceTask',
  'bpmn:SendTask',
  'bpmn:BusinessRuleTask',
  'bpmn:ScriptTask',
])

export function checkCompensation(el: El, r: { error: Report; warn: Report }): void {
  const id = el.id ?? null
  if (el.isForCompensation === true) {
    if (!HANDLER_TYPES.has(el.$type))
      r.error(
        id,
        'COMPENSATION_UNSUPPORTED',
        `${label(el)} là hoạt động bù trừ kiểu ${el.$type.replace('bpmn:', '')}: chỉ một công việc (user task, service task…) được làm hoạt động bù trừ, không phải sub-process hay call activity`,
      )
    if (((el.incoming ?? []) as El[]).length || ((el.outgoing ?? []) as El[]).length)
      r.error(
        id,
        'COMPENSATION_HANDLER_INVALID',
        `Hoạt động bù trừ ${label(el)} không được có luồng tuần tự vào hay ra (Camunda 7 cũng cấm): nó chỉ được nối với sự kiện bù trừ bằng một association`,
      )
    const linked = (((el.$parent as El | undefined)?.artifacts ?? []) as El[]).some(
      (a) => a.$type === 'bpmn:Association' && (a.targetRef as El | undefined)?.id === el.id,
    )
    if (!linked)
      r.error(
        id,
        'COMPENSATION_HANDLER_INVALID',
        `Hoạt động bù trừ ${label(el)} không được nối (association) từ sự kiện biên bù trừ nào: nó sẽ không bao giờ chạy`,
      )
  }
  const def = compensateDef(el)
  if (!def) return
  if (el.$type === 'bpmn:BoundaryEvent') {
    const handlers = outgoingAssociations(el)
      .map((a) => a.targetRef as El | undefined)
      .filter((t): t is El => !!t)
    if (handlers.length !== 1 || handlers[0]!.isForCompensation !== true)
      r.error(
        id,
        'COMPENSATION_HANDLER_INVALID',
        `Sự kiện biên bù trừ ${label(el)} phải nối (association) tới đúng một hoạt động bù trừ (isForCompensation="true")`,
      )
    return
  }
  if (el.$type === 'bpmn:StartEvent') {
    r.error(
      id,
      'COMPENSATION_UNSUPPORTED',
      `Sự kiện ${label(el)}: sub-process sự kiện bù trừ (compensation event sub-process) chưa được hỗ trợ; hãy dùng sự kiện biên bù trừ với hoạt động bù trừ`,
    )
    return
  }
  if (el.$type !== 'bpmn:IntermediateThrowEvent' && el.$type !== 'bpmn:EndEvent') {
    r.error(
      id,
      'COMPENSATION_UNSUPPORTED',
      `Sự kiện ${label(el)}: chỉ sự kiện biên, sự kiện ném trung gian và sự kiện kết thúc bù trừ được hỗ trợ`,
    )
    return
  }
  if (def.waitForCompletion === false)
    r.error(
      id,
      'COMPENSATION_UNSUPPORTED',
      `Sự kiện ném bù trừ ${label(el)} có waitForCompletion="false": chưa được hỗ trợ; sự kiện luôn chờ các hoạt động bù trừ xong rồi mới đi tiếp`,
    )
  const ref = def.activityRef as El | undefined
  if (ref) {
    const scope = el.$parent as El | undefined
    const sameScope = ref.$parent === scope
    const boundaries = ((scope?.flowElements ?? []) as El[]).filter(
      (f) => f.$type === 'bpmn:BoundaryEvent' && (f.attachedToRef as El | undefined)?.id === ref.id && compensateDef(f),
    )
    if (!sameScope || !boundaries.length)
      r.error(
        id,
        'COMPENSATION_UNSUPPORTED',
        `Sự kiện ném bù trừ ${label(el)} chỉ tới ${label(ref)} (activityRef): hoạt động đó phải nằm cùng phạm vi và có sự kiện biên bù trừ`,
      )
  }
}
