import type { Activity } from 'bpmn-elements'

/** A BPMN error or escalation thrown during a step that nothing in the instance caught. */
export interface UncaughtThrow {
  kind: 'error' | 'escalation'
  code: string
  /** The error's message (`camunda:errorMessage`, else its name), null for an escalation. */
  message: string | null
  /** The throw event that raised it. */
  activityId: string
}

interface ThrownMessage {
  id?: string
  code?: unknown
  name?: string
  errorMessage?: string
}

/**
 * Follows the error and escalation throw events of one step and the catches that answered them
 * (bpmn-elements may report a catch before its throw). What is left at the end was not caught inside
 * the instance: a called procedure hands it to its call activity, as Camunda 7 propagates it.
 */
export function throwTracker() {
  const thrown: Array<{ kind: UncaughtThrow['kind']; activityId: string; message: ThrownMessage }> = []
  const caught: string[] = []
  return {
    thrown(kind: UncaughtThrow['kind'], raw: unknown) {
      const content = raw as { id?: string; message?: ThrownMessage } | undefined
      if (content?.id && content.message?.id) thrown.push({ kind, activityId: content.id, message: content.message })
    },
    caught(raw: unknown) {
      const content = raw as { message?: ThrownMessage } | undefined
      if (content?.message?.id) caught.push(content.message.id)
    },
    /** The throws no catch answered; an escalation's code is read from its element in the definition. */
    uncaught(definition: Activity | undefined): UncaughtThrow[] {
      const left = [...caught]
      const out: UncaughtThrow[] = []
      for (const t of thrown) {
        const i = left.indexOf(t.message.id!)
        if (i >= 0) {
          left.splice(i, 1)
          continue
        }
        const code = t.kind === 'error' ? String(t.message.code ?? t.message.id) : escalationCode(definition, t.message.id!)
        out.push({
          kind: t.kind,
          code,
          message: t.kind === 'error' ? (t.message.errorMessage ?? t.message.name ?? null) : null,
          activityId: t.activityId,
        })
      }
      return out
    },
  }
}

function escalationCode(anyActivity: Activity | undefined, id: string): string {
  const context = anyActivity?.context as unknown as
    { definitionContext?: { getActivities(): Array<{ id: string; type: string; behaviour?: { escalationCode?: unknown } }> } } | undefined
  const def = context?.definitionContext?.getActivities().find((a) => a.id === id && a.type === 'bpmn:Escalation')
  return String(def?.behaviour?.escalationCode ?? id)
}
