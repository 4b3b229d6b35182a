import * as elements from 'bpmn-elements'
import * as gateways from 'bpmn-elements/gateways'
import type { SerializableElement } from 'moddle-context-serializer'

type ActivityConstructor = new (
  behaviour: unknown,
  activityDef: SerializableElement & { isParallelGateway?: boolean },
  context: unknown,
) => unknown
// bpmn-elements types its exports loosely (Activity as a class of another shape, no gateway behaviours).
const { Activity, InclusiveGateway: BaseInclusiveGateway } = elements as unknown as {
  Activity: ActivityConstructor
  InclusiveGateway: (def: SerializableElement, context: unknown) => unknown
}
const { InclusiveGatewayBehaviour } = gateways as unknown as { InclusiveGatewayBehaviour: unknown }

/**
 * An inclusive gateway that joins (cổng bao hàm gộp nhánh) as BPMN and Camunda 7 define it: it
 * waits for every incoming branch that can still arrive and fires once. bpmn-elements fires it at
 * each arrival (the process would go on once per taken branch). Here it joins like bpmn-elements'
 * parallel join, which waits until each incoming flow is either taken or discarded: a branch the
 * split did not take is discarded all the way to the join (dead-path elimination), so the join
 * fires once, after the last taken branch arrives. A split (one incoming flow) is unchanged.
 */
export function InclusiveGateway(activityDef: SerializableElement, context: { getInboundSequenceFlows(id: string): unknown[] }): unknown {
  if (context.getInboundSequenceFlows(activityDef.id ?? '').length < 2) return BaseInclusiveGateway(activityDef, context)
  return new Activity(InclusiveGatewayBehaviour, { ...activityDef, isParallelGateway: true }, context)
}
