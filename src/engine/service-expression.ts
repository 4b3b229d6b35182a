import type { Activity, ElementBrokerMessage } from 'bpmn-elements'
import { LOCALS } from './input-output.ts'

/** Tasks Camunda 7 implements like a service task: `camunda:expression` makes each of them run an expression. */
const EXPRESSION_TASKS = new Set(['bpmn:ServiceTask', 'bpmn:SendTask', 'bpmn:BusinessRuleTask'])

type Done = (err: Error | null, output?: unknown) => void

/**
 * A service task with `camunda:expression` (nhiệm vụ dịch vụ bằng biểu thức) as Camunda 7 runs it:
 * the expression is evaluated (in the safe evaluator, through the engine's expressions) when the
 * task is reached, and its value is set as `camunda:resultVariable` before the flow goes on, so a
 * gateway after it reads the result. Deploy refuses every other implementation (support.ts).
 */
export function bindExpressionService(activity: Activity, setVariables: (vars: Record<string, unknown>) => void): void {
  if (!EXPRESSION_TASKS.has(activity.type)) return
  const behaviour = activity.behaviour as { expression?: unknown; resultVariable?: unknown; Service?: unknown }
  const expression = behaviour.expression
  if (typeof expression !== 'string') return
  const resultVariable = typeof behaviour.resultVariable === 'string' ? behaviour.resultVariable : null
  behaviour.Service = function ExpressionService() {
    return {
      execute(message: ElementBrokerMessage, done: Done) {
        let value: unknown
        try {
          // The task's input parameters (camunda:inputOutput) are its local variables: the expression reads them.
          const locals = (message.content as Record<string, unknown> | undefined)?.[LOCALS] as Record<string, unknown> | undefined
          value = activity.environment.resolveExpression(
            expression,
            locals
              ? ({
                  ...message,
                  environment: { variables: { ...activity.environment.variables, ...locals } },
                } as unknown as ElementBrokerMessage)
              : message,
          )
        } catch (err) {
          return done(err as Error)
        }
        if (resultVariable) setVariables({ [resultVariable]: value })
        done(null, value)
      },
    }
  }
}
