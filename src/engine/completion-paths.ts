import type { Finding } from './definition.ts'

/** A bpmn-moddle element: the fields read here, the rest left unknown. */
interface El {
  $type: string
  id?: string
  name?: string
  flowElements?: El[]
  eventDefinitions?: El[]
  sourceRef?: El
  targetRef?: El
  attachedToRef?: El
  [k: string]: unknown
}

const NOT_NODES = new Set(['bpmn:SequenceFlow', 'bpmn:DataObject', 'bpmn:DataObjectReference', 'bpmn:DataStoreReference'])

/**
 * What cannot be served at all (docs/lifecycle.md): a process in which no start reaches an end, so
 * a dossier could never finish (a lone start event, a loop without exit). An end is an end event or
 * any other step without outgoing flows (an implicit end, which Camunda diagrams use and the engine
 * runs). Without start events, the engine starts every step that has no incoming flow; so do we.
 * Everything else deploys: the runtime's return step serves a process that ends early.
 */
export function completionFindings(process: El): Finding[] {
  const elements = (process.flowElements ?? []) as El[]
  const nodes = elements.filter(
    (e) => !NOT_NODES.has(e.$type) && !(e.$type === 'bpmn:SubProcess' && e.triggeredByEvent === true) && e.isForCompensation !== true,
  )
  const next = new Map<string, string[]>(nodes.map((n) => [n.id!, []]))
  const incoming = new Set<string>()
  for (const f of elements.filter((e) => e.$type === 'bpmn:SequenceFlow')) {
    const from = f.sourceRef?.id as string | undefined
    const to = f.targetRef?.id as string | undefined
    if (!from || !to || !next.has(from) || !next.has(to)) continue
    next.get(from)!.push(to)
    incoming.add(to)
  }
  // A boundary event is reached with the step it is attached to.
  for (const b of nodes.filter((n) => n.$type === 'bpmn:BoundaryEvent')) {
    const host = b.attachedToRef?.id as string | undefined
    if (host && next.has(host)) next.get(host)!.push(b.id!)
  }
  const isStart = (n: El) => n.$type === 'bpmn:StartEvent'
  const isEnd = (n: El) =>
    n.$type === 'bpmn:EndEvent' || (!isStart(n) && n.$type !== 'bpmn:BoundaryEvent' && next.get(n.id!)!.length === 0 && !isLinkThrow(n))
  const explicitStarts = nodes.filter(isStart)
  const starts = explicitStarts.length ? explicitStarts : nodes.filter((n) => n.$type !== 'bpmn:BoundaryEvent' && !incoming.has(n.id!))
  const byId = new Map(nodes.map((n) => [n.id!, n]))
  linkEdges(nodes, next)

  const seen = new Set<string>()
  const queue = starts.map((s) => s.id!)
  while (queue.length) {
    const id = queue.shift()!
    if (seen.has(id)) continue
    seen.add(id)
    if (isEnd(byId.get(id)!)) return []
    queue.push(...next.get(id)!)
  }
  const at = starts[0]?.id ?? process.id ?? null
  const what =
    starts.length === 0
      ? 'Quy trình không có sự kiện bắt đầu hay bước nào để chạy'
      : `Không có đường đi nào từ sự kiện bắt đầu "${starts[0]!.name ?? at}" đến một sự kiện kết thúc`
  return [
    {
      elementId: at,
      code: 'NO_PATH_TO_END',
      message: `${what}: hồ sơ nộp theo quy trình này sẽ không bao giờ kết thúc. Hãy nối các bước đến một sự kiện kết thúc (end event).`,
      severity: 'error',
    },
  ]
}

const isLinkThrow = (n: El) =>
  n.$type === 'bpmn:IntermediateThrowEvent' && (n.eventDefinitions ?? []).some((d: El) => d.$type === 'bpmn:LinkEventDefinition')

/** A link throw event continues at the link catch event of the same name. */
function linkEdges(nodes: El[], next: Map<string, string[]>): void {
  const linkName = (n: El) => (n.eventDefinitions ?? []).find((d: El) => d.$type === 'bpmn:LinkEventDefinition')?.name ?? n.name
  const catches = nodes.filter(
    (n) => n.$type === 'bpmn:IntermediateCatchEvent' && (n.eventDefinitions ?? []).some((d: El) => d.$type === 'bpmn:LinkEventDefinition'),
  )
  for (const t of nodes.filter(isLinkThrow)) {
    for (const c of catches) if (linkName(c) === linkName(t)) next.get(t.id!)!.push(c.id!)
  }
}
