/** The parts of camunda-external-task-client-js (no published types) the external-task tests use. */
declare module 'camunda-external-task-client-js' {
  export interface Task {
    id: string
    topicName: string
    retries: number | null
    businessKey: string
    variables: { get(name: string): unknown; getAll(): Record<string, unknown> }
  }
  export class Variables {
    set(name: string, value: unknown): Variables
    setTyped(name: string, typed: { value: unknown; type: string; valueInfo?: object }): Variables
  }
  export interface TaskService {
    complete(task: Task, processVariables?: Variables, localVariables?: Variables): Promise<void>
    handleFailure(
      task: Task,
      options: { errorMessage?: string; errorDetails?: string; retries?: number; retryTimeout?: number },
    ): Promise<void>
    handleBpmnError(task: Task, errorCode: string, errorMessage?: string, variables?: Variables): Promise<void>
    extendLock(task: Task, newDuration: number): Promise<void>
    unlock(task: Task): Promise<void>
  }
  export class Client {
    constructor(options: {
      baseUrl: string
      workerId?: string
      maxTasks?: number
      interval?: number
      lockDuration?: number
      autoPoll?: boolean
      asyncResponseTimeout?: number
      interceptors?: Array<(config: { headers?: Record<string, string> }) => object>
      use?: unknown
    })
    subscribe(topic: string, handler: (args: { task: Task; taskService: TaskService }) => Promise<void> | void): { unsubscribe(): void }
    subscribe(
      topic: string,
      options: { lockDuration?: number; variables?: string[] },
      handler: (args: { task: Task; taskService: TaskService }) => Promise<void> | void,
    ): { unsubscribe(): void }
    on(event: string, fn: (...args: unknown[]) => void): void
    start(): void
    stop(): void
  }
}
