declare module 'bpmn-moddle' {
  export class BpmnModdle {
    constructor(packages?: Record<string, unknown>)
    fromXML(xml: string, typeName?: string): Promise<{ rootElement: any; warnings: Array<{ message: string; element?: any }>; references: unknown[]; elementsById: Record<string, any> }>
  }
}
