import type { Activity, ElementBrokerMessage } from 'bpmn-elements'

/** Tasks Camunda 7 runs as service tasks: each may hand its work to another system. */
const HANDOFF_TASKS = new Set(['bpmn:ServiceTask', 'bpmn:SendTask'])

/** Camunda 7's default `camunda:failedJobRetryTimeCycle`: three retries, five minutes apart. */
export const DEFAULT_RETRY_CYCLE = 'R3/PT5M'

/**
 * What a waiting service task hands over (chuyển liên thông): to our adapter for the receiving
 * agency (`tthc:handoff`), or to an outside worker that fetches it by topic (`camunda:type="external"`,
 * `adapter` null). docs/handoffs.md shows both in the XML.
 */
export interface HandoffSpec {
  topic: string
  /** The agency whose system answers (cơ quan tiếp nhận liên thông); null for an external task without one. */
  agency: string | null
  /** Our adapter that calls it (`http`, …); null: an external worker fetches the task. */
  adapter: string | null
  /** `camunda:failedJobRetryTimeCycle`, e.g. `R3/PT5M`. */
  retryCycle: string
  /** `camunda:taskPriority` (external tasks) or `tthc:handoff priority`. */
  priority: number
  /** `tthc:handoff workingDays`: the answer is due this many working days after the handoff. */
  workingDays: number | null
}

interface Ext {
  $type: string
  body?: string
  agency?: string
  adapter?: string
  topic?: string
  workingDays?: string
  priority?: string
  /** `adapter="peer"`: the receiving system's procedure code (stands for `topic`). */
  procedure?: string
}

interface ServiceBehaviour {
  type?: string
  topic?: string
  taskPriority?: string
  extensionElements?: { values?: Ext[] }
  Service?: unknown
}

const int = (v: string | undefined) => (v !== undefined && /^-?\d{1,9}$/.test(v.trim()) ? Number(v) : 0)

/** The handoff a service task stands for, read from its diagram element; null for any other task. */
export function handoffSpecOf(type: string, behaviour: ServiceBehaviour | undefined): HandoffSpec | null {
  if (!HANDOFF_TASKS.has(type) || !behaviour) return null
  const values = behaviour.extensionElements?.values ?? []
  const handoff = values.find((v) => v.$type === 'tthc:Handoff')
  const cycle = values.find((v) => v.$type === 'camunda:FailedJobRetryTimeCycle')?.body?.trim() || DEFAULT_RETRY_CYCLE
  const days = handoff?.workingDays !== undefined ? Number(handoff.workingDays) : NaN
  const common = { retryCycle: cycle, workingDays: Number.isFinite(days) && days > 0 ? days : null }
  const topic = handoff?.topic ?? handoff?.procedure
  if (topic && handoff?.adapter) {
    return { ...common, topic, agency: handoff.agency ?? null, adapter: handoff.adapter, priority: int(handoff.priority) }
  }
  if (behaviour.type === 'external' && behaviour.topic) {
    return { ...common, topic: behaviour.topic, agency: handoff?.agency ?? null, adapter: null, priority: int(behaviour.taskPriority) }
  }
  return null
}

export const isHandoffActivity = (activity: Pick<Activity, 'type' | 'behaviour'>) =>
  handoffSpecOf(activity.type, activity.behaviour as ServiceBehaviour) !== null

type Done = (err: Error | null, output?: unknown) => void

/**
 * A handoff task waits, like a receive task, until its answer arrives: the step that reaches it
 * writes the handoff row, and the answer signals it (variables), or throws a BPMN error from it
 * (an error boundary or event sub-process catches it). Recovered from a saved state, the task runs
 * this again and waits again: nothing here has side effects.
 */
export function bindHandoffService(activity: Activity): void {
  if (!isHandoffActivity(activity)) return
  const behaviour = activity.behaviour as ServiceBehaviour
  behaviour.Service = function HandoffService() {
    let tag: string | null = null
    return {
      execute(message: ElementBrokerMessage, done: Done) {
        const executionId = (message.content as { executionId: string }).executionId
        tag = `_handoff-${executionId}`
        activity.broker.subscribeTmp(
          'api',
          `activity.*.${executionId}`,
          (_rk: string, msg: { properties: unknown; content?: unknown }) => {
            const api = msg as { properties: { type?: string }; content: { message?: unknown; code?: unknown; name?: unknown } }
            const c = api.content
            if (api.properties.type === 'signal') {
              activity.broker.cancel(tag!)
              done(null, c.message)
            } else if (api.properties.type === 'error') {
              // As the runtime throws it from a user task: the text in `message`, the BPMN error code in `code`.
              activity.broker.cancel(tag!)
              done(Object.assign(new Error(String(c.message ?? c.code)), { code: c.code, name: String(c.name ?? c.code) }))
            }
          },
          { noAck: true, consumerTag: tag },
        )
      },
      stop() {
        if (tag) activity.broker.cancel(tag)
      },
      discard() {
        if (tag) activity.broker.cancel(tag)
      },
    }
  }
}

/** Adapters the system has (src/handoffs/adapters): a `tthc:handoff` naming another is refused at deploy. */
export const HANDOFF_ADAPTERS: readonly string[] = ['http', 'peer', 'postal']

/** The `postal` adapter's services: thu gom hồ sơ (pickup) and chuyển phát kết quả (delivery). */
export const POSTAL_TOPICS = ['pickup', 'delivery'] as const

const DURATION = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/

function durationMs(text: string): number | null {
  const m = DURATION.exec(text.trim())
  if (!m || /^PT?$/.test(text.trim())) return null
  const n = (i: number) => Number(m[i] ?? 0)
  return ((n(1) * 24 + n(2)) * 60 * 60 + n(3) * 60 + n(4)) * 1000
}

/**
 * `camunda:failedJobRetryTimeCycle` as Camunda 7 reads it: `R3/PT5M` (three retries, five minutes
 * apart) or a list of intervals `PT1M,PT5M,PT30M` (one retry after each); null when unreadable.
 * `intervals[i]` is the wait before retry i+1 (the last one repeats).
 */
export function parseRetryCycle(text: string): { retries: number; intervals: number[] } | null {
  const t = text.trim()
  const repeat = /^R(\d{1,3})\/(P[^/]+)$/.exec(t)
  if (repeat) {
    const ms = durationMs(repeat[2]!)
    return ms === null ? null : { retries: Number(repeat[1]), intervals: [ms] }
  }
  const list = t.split(',').map((p) => durationMs(p))
  if (!t || list.some((ms) => ms === null) || list.length > 100) return null
  return { retries: list.length, intervals: list as number[] }
}
