/** What an adapter sends for one attempt of a handoff. `handoffId` is the idempotency key of every attempt. */
export interface HandoffRequest {
  handoffId: string
  attempt: number
  topic: string
  activityId: string
  /** The dossier's code (mã hồ sơ): Camunda's business key. */
  businessKey: string
  procedureCode: string
  /** The sending agency (ours) and the receiving one. */
  agency: string
  receivingAgency: string | null
  variables: Record<string, unknown>
}

/** The other system's answer to one attempt. */
export type AdapterAnswer =
  /** Done: the variables go to the process (Camunda 7's complete). */
  | { kind: 'complete'; variables: Record<string, unknown> }
  /** A business refusal: thrown from the task as a BPMN error (an error boundary takes it). */
  | { kind: 'bpmnError'; errorCode: string; errorMessage: string | null; variables: Record<string, unknown> }
  /** Received: the answer comes later by signed callback. `trackingNumber`: the other system's reference for it (the postal operator's mã vận đơn). */
  | { kind: 'accepted'; trackingNumber?: string }
  /** Not done (refused request, network, timeout): retried as the retry cycle says. */
  | { kind: 'failure'; message: string; details?: string }

/** One way of reaching other systems (`tthc:handoff adapter="…"`). */
export interface HandoffAdapter {
  readonly name: string
  send(request: HandoffRequest): Promise<AdapterAnswer>
}

/** The adapters of this deployment by name; a later kind (email, SMS, postal…) is one more entry. */
export function createAdapterRegistry(adapters: HandoffAdapter[]) {
  const byName = new Map(adapters.map((a) => [a.name, a]))
  return { get: (name: string) => byName.get(name) ?? null, names: () => [...byName.keys()] }
}
export type AdapterRegistry = ReturnType<typeof createAdapterRegistry>
