import type { Activity, Api, Environment } from 'bpmn-elements'
import { bindInputOutput, LOCALS } from './input-output.ts'

/**
 * `camunda:inputOutput` on activities that do not wait for an officer (service, script and plain
 * tasks, intermediate events, end events) and on embedded sub-processes, as Camunda 7 maps it:
 * the inputs are evaluated as the activity is entered and are its local variables (a service task's
 * expression reads them; inside a sub-process every element reads them), the outputs are evaluated
 * when it ends, with its locals, and set with `setVariables`. The user and manual tasks' own binding
 * (runtime.ts) also keeps a completion's variables named like an input local.
 */
export function bindActivityInputOutput(
  activity: Activity,
  setVariables: (vars: Record<string, unknown>) => void,
  fail: (err: Error) => void,
): { activate(message: { fields?: { routingKey?: string } }): void; deactivate(): void } | undefined {
  const io = bindInputOutput(activity, () => activity.environment.variables, setVariables, fail)
  if (!io) return undefined
  if (activity.type === 'bpmn:SubProcess') localsInside(activity)
  activity.on('end', (api: Api<Activity>) => io.end(api))
  return { activate: (message) => io.activate(message), deactivate: () => {} }
}

/**
 * An embedded sub-process runs its elements in a copy of its parent's variables, made as its
 * execution starts: the inputs are added to that copy only, so everything inside sees them and the
 * process does not.
 */
function localsInside(activity: Activity): void {
  activity.on('start', (api: Api<Activity>) => {
    const locals = (api.content as Record<string, unknown>)[LOCALS] as Record<string, unknown> | undefined
    if (!locals) return
    const env = activity.environment as Environment & { clone: Environment['clone'] }
    if (Object.hasOwn(env, 'clone')) return
    env.clone = function cloneWithLocals(this: Environment, ...args: Parameters<Environment['clone']>) {
      delete (env as Partial<Environment>).clone
      const copy = env.clone(...args)
      copy.assignVariables(structuredClone(locals))
      return copy
    }
  })
}
