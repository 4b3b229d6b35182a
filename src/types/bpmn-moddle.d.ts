declare module 'bpmn-moddle' {
  export class BpmnModdle {
    constructor(packages?: Record<string, unknown>)
    fromXML(
      xml: string,
      typeName?: string,
    ): Promise<{
      rootElement: unknown
      warnings: Array<{ message: string; element?: { id?: string } }>
      references: unknown[]
      elementsById: Record<string, unknown>
    }>
  }
}
