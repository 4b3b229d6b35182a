import { checkExpression, isExpression } from './expressions.ts'
import { MAPPED_TYPES, type IoDefinition, type IoMapping, type IoParameter } from './input-output.ts'

type Report = (elementId: string | null, code: string, message: string) => void

interface El {
  $type: string
  id?: string
  name?: string
  loopCharacteristics?: unknown
  triggeredByEvent?: boolean
}

/** Why Camunda 7 (or this runtime) does not map variables on an element, or null when it does. */
function refusal(el: El): string | null {
  if (el.$type === 'bpmn:StartEvent') return 'Camunda 7 không cho phép tham số vào/ra trên sự kiện bắt đầu'
  if (el.$type === 'bpmn:BoundaryEvent') return 'Camunda 7 không cho phép tham số vào/ra trên sự kiện biên (boundary event)'
  if (el.triggeredByEvent) return 'Camunda 7 không cho phép tham số vào/ra trên sub-process sự kiện'
  if (el.$type === 'bpmn:CallActivity')
    return 'trên call activity hãy dùng camunda:in/camunda:out (hệ thống chuyển mọi biến sang quy trình được gọi và ngược lại)'
  if (el.loopCharacteristics) return 'tham số vào/ra trên hoạt động đa thể hiện chưa được hỗ trợ'
  if (!MAPPED_TYPES.has(el.$type)) return 'phần tử này không nhận tham số vào/ra'
  return null
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/

/**
 * `camunda:inputOutput` at deploy: accepted where the runtime maps it (input-output.ts `MAPPED_TYPES`,
 * not multi-instance) with parameters that are text, `${...}`/FEEL expressions, lists or maps of them;
 * anything else would leave the activity's variables wrong, so it is refused — as are the places
 * Camunda 7 itself refuses (start and boundary events, event sub-processes, outputs of end events).
 */
export function checkInputOutput(el: El, mapping: IoMapping & { connectorId?: string }, r: { error: Report }): void {
  const id = el.id ?? null
  const label = `"${el.name ?? el.id}"`
  const why = refusal(el)
  if (why) {
    r.error(
      id,
      'INPUT_OUTPUT_UNSUPPORTED',
      `Tham số vào/ra (camunda:inputOutput) trên ${label} (${el.$type.replace('bpmn:', '')}${el.loopCharacteristics ? ', đa thể hiện' : ''}) bị từ chối: ${why}`,
    )
    return
  }
  if (el.$type === 'bpmn:EndEvent' && mapping.outputParameters?.length) {
    r.error(
      id,
      'INPUT_OUTPUT_UNSUPPORTED',
      `Tham số ra trên sự kiện kết thúc ${label} bị từ chối: Camunda 7 không cho phép (không còn bước nào sau nó đọc được), chỉ dùng tham số vào`,
    )
    return
  }
  const params: Array<[string, IoParameter]> = [
    ...(mapping.inputParameters ?? []).map((p) => ['vào', p] as [string, IoParameter]),
    ...(mapping.outputParameters ?? []).map((p) => ['ra', p] as [string, IoParameter]),
  ]
  for (const [kind, p] of params) {
    const what = `Tham số ${kind} "${p.name ?? ''}" của ${label}`
    if (!p.name || !NAME.test(p.name)) {
      r.error(id, 'INPUT_OUTPUT_INVALID', `${what} phải có tên là một tên biến`)
      continue
    }
    checkValue(p.definition, p.value, what, id, r)
  }
}

function checkValue(def: IoDefinition | undefined, body: string | undefined, what: string, id: string | null, r: { error: Report }): void {
  if (!def || def.$type === 'camunda:Value') {
    if (def) body = def.value
    if (body === undefined || !isExpression(body)) return
    try {
      checkExpression(body)
    } catch (err) {
      r.error(id, 'EXPRESSION_INVALID', `${what}: ${(err as Error).message}`)
    }
    return
  }
  if (def.$type === 'camunda:List') {
    for (const item of def.items ?? []) checkValue(item, item.value, what, id, r)
    return
  }
  if (def.$type === 'camunda:Map') {
    for (const e of def.entries ?? []) checkValue(e.definition, e.value, what, id, r)
    return
  }
  r.error(
    id,
    'INPUT_OUTPUT_SCRIPT_UNSUPPORTED',
    `${what} là một script: hệ thống không chạy script trong tham số vào/ra, hãy dùng biểu thức \${...}`,
  )
}
