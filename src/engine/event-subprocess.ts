import type { Activity, Api, ElementBase } from 'bpmn-elements'

/** What bpmn-elements keeps of a running activity or process (its types omit `getPostponed`). */
interface Running {
  getPostponed?: () => Api<ElementBase>[]
  execution?: { getPostponed?: () => Api<ElementBase>[] }
}

/**
 * An interrupting event sub-process (quy trình con sự kiện ngắt) as BPMN and Camunda 7 run it: when
 * its start event catches (an error, a message…), everything else still running in the enclosing
 * scope — the process or the sub-process that holds it — is cancelled, and only the event
 * sub-process goes on. bpmn-elements starts the event sub-process but leaves the rest running (the
 * tasks stay open, and the normal path could still be taken). A non-interrupting start
 * (`isInterrupting="false"`) leaves the scope running, as before.
 */
export function interruptScopeOnStart(element: ElementBase): void {
  const start = element as Activity
  if (start.type !== 'bpmn:StartEvent') return
  const eventSub = start.parentElement as Activity | undefined
  if (!eventSub?.triggeredByEvent) return
  if ((start.behaviour as { isInterrupting?: boolean } | undefined)?.isInterrupting === false) return
  start.on('end', () => {
    const scope = eventSub.parentElement as (Activity & Running) | undefined
    if (!scope) return
    const running = scope.getPostponed?.() ?? scope.execution?.getPostponed?.() ?? []
    for (const api of running) {
      const owner = api.owner as Activity
      if (owner === eventSub || owner === scope || owner.parentElement?.id !== scope.id) continue
      if (owner.triggeredByEvent) continue
      api.discard()
    }
  })
}
