import type { Activity, Api, ElementBase } from 'bpmn-elements'

const hasNoneStart = (activity: Activity) =>
  ((activity.parentElement as { getStartActivities?: () => Activity[] }).getStartActivities?.() ?? []).some(
    (a) => !a.eventDefinitions?.length,
  )

/**
 * Which start event (sự kiện bắt đầu) a new process instance starts at. Camunda 7 starts an instance
 * at one start event: its none start event when the dossier is submitted (POST /api/dossiers), or the
 * message start event whose message arrives (POST /api/messages). bpmn-elements runs every start
 * event of the process at once, so the others are discarded as they would start: their paths are
 * never taken. `chosen()` is the start event of the step that starts the instance (null: the none
 * start), undefined in any later step (nothing starts then).
 */
export function keepOneStart(activity: Activity, chosen: () => string | null | undefined): void {
  if (activity.type !== 'bpmn:StartEvent' || activity.parent?.type !== 'bpmn:Process') return
  const eventStart = (activity.eventDefinitions?.length ?? 0) > 0
  const run = activity.run.bind(activity)
  activity.run = (content?: Record<string, unknown>) => {
    const at = chosen()
    // Without a none start event, the diagram's start is its message start (Camunda 7's initial start event).
    const skip = at === undefined ? false : at === null ? eventStart && hasNoneStart(activity) : at !== activity.id
    if (skip) return activity.discard(content)
    return run(content)
  }
}

/**
 * The message a process's start event waits for, when the instance was started without one and its
 * process has no none start event: the start event then takes the instance on as the message had come.
 */
export function startMessageWaiting(postponed: Api<ElementBase>[]): string | null {
  for (const api of postponed) {
    const owner = api.owner as Activity
    if (owner.type !== 'bpmn:StartEvent' || owner.parent?.type !== 'bpmn:Process') continue
    const ref = (owner.eventDefinitions as Array<{ reference?: { id?: string; referenceType?: string } }> | undefined)?.find(
      (d) => d.reference?.referenceType === 'message',
    )?.reference
    if (ref?.id) return ref.id
  }
  return null
}
