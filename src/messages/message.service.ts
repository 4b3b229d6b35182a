import type { Db } from '../db/knex.ts'
import type { Clock } from '../clock.ts'
import { AppError } from '../errors.ts'
import { hasRole, type Principal } from '../auth/principal.ts'
import { allows, authorize, canReadDossier, dossierResource } from '../auth/policy.ts'
import { transaction } from '../db/unit-of-work.ts'
import type { StepAction } from '../engine/runtime.ts'
import type { StepRunner } from '../steps/step-runner.ts'
import { MAX_CANDIDATES, type MessageCandidate, type MessageRepository } from './message.repository.ts'
import type { MessageStarts, StartResult, SubmissionCheck } from './message-start.ts'

/** POST /api/messages, as Camunda 7's `POST /message`. */
export interface MessageCorrelation {
  messageName: string
  /** The dossier code (mã hồ sơ): Camunda's business key. */
  businessKey?: string
  processInstanceId?: string
  /** Process variables the instance must hold, each equal to the value given. */
  correlationKeys?: Record<string, unknown>
  /** Set on the instance as the message arrives (before the process moves on). */
  processVariables?: Record<string, unknown>
  /** Deliver to every instance that matches; without it exactly one must. */
  all?: boolean
  resultEnabled?: boolean
}

export interface CorrelationResult {
  resultType: 'Execution'
  processInstanceId: string
  businessKey: string
  dossierId: string
  dossierStatus: string
}

const notCorrelated = (name: string) =>
  new AppError(
    'MESSAGE_NOT_CORRELATED',
    `Không có hồ sơ đang xử lý nào (trong phạm vi của bạn) chờ thông điệp "${name}" với các điều kiện đã gửi`,
    { messageName: name },
  )

/**
 * Messages from outside (thông điệp từ hệ thống khác hoặc cán bộ) delivered to the running instances
 * that wait for them: intermediate message catch events, receive tasks and message boundary events.
 * A message nobody waits for is refused (404), never buffered. Each delivery is one step (locks,
 * engine, writes, history line `message.received`) in its own transaction: of two deliveries racing
 * for one waiting catch, one wins and the other finds nothing waiting.
 */
export function createMessageService(deps: { db: Db; clock: Clock; repo: MessageRepository; steps: StepRunner; starts: MessageStarts }) {
  const { db, clock } = deps

  const action = (c: MessageCandidate, m: MessageCorrelation, probe: boolean): StepAction => {
    const target = c.message_catches[m.messageName]!
    return {
      kind: 'message',
      messageId: target.messageId,
      activityIds: target.activityIds,
      correlationKeys: m.correlationKeys,
      variables: m.processVariables,
      probe,
      ...(target.eventSubProcesses ? { eventSubProcesses: target.eventSubProcesses } : {}),
    }
  }

  /** Does the instance wait for the message now, with matching keys? (No locks, nothing written.) */
  async function matches(c: MessageCandidate, m: MessageCorrelation): Promise<boolean> {
    try {
      await db.transaction(async (tx) => {
        const version = await deps.steps.version(tx, c)
        await deps.steps.runEngine(tx, { id: c.instance_id, step_id: c.step_id }, version, action(c, m, true))
      })
      return true
    } catch (err) {
      if (err instanceof AppError && (err.code === 'MESSAGE_NOT_CORRELATED' || err.code === 'PROCESS_STEP_FAILED')) return false
      throw err
    }
  }

  /** Delivers to one instance in its own transaction, under the step's locks. */
  async function deliver(
    p: Principal,
    c: MessageCandidate,
    m: MessageCorrelation,
    how: { action: StepAction; history: string } = { action: action(c, m, false), history: 'message.received' },
  ): Promise<CorrelationResult> {
    const now = clock.now()
    return transaction(db, async (uow) => {
      const locked = await deps.steps.lock(uow, { dossier: c.dossier_id })
      const data = locked.dataFor(c.instance_id)
      if (!data || data.instance.status !== 'running') throw notCorrelated(m.messageName)
      const version = await deps.steps.version(uow.tx, data.instance)
      const out = await deps.steps.step({ uow, version, data }, how.action, {
        actor: p.userId,
        now,
        fallbackStatus: null,
        history: [
          {
            dossier_id: c.dossier_id,
            action: how.history,
            actor: p.userId,
            // Variable names only: their values may hold personal data.
            details: { messageName: m.messageName, variables: Object.keys(m.processVariables ?? {}).sort() },
            at: now,
          },
        ],
      })
      return uow.commit({
        resultType: 'Execution' as const,
        processInstanceId: c.instance_id,
        businessKey: c.code,
        dossierId: c.dossier_id,
        dossierStatus: out.status,
      })
    })
  }

  return {
    /**
     * `check` validates a new dossier's submission (a message start event, message-start.ts). A
     * message that both starts a procedure and reaches a waiting instance is ambiguous without `all`.
     */
    async correlate(
      p: Principal,
      m: MessageCorrelation,
      check: SubmissionCheck,
    ): Promise<{ correlated: number; results?: Array<CorrelationResult | StartResult> }> {
      const starting = await deps.starts.target(m)
      const found = await deps.repo.candidates(db, {
        messageName: m.messageName,
        ...(m.businessKey !== undefined ? { dossierCode: m.businessKey } : {}),
        ...(m.processInstanceId !== undefined ? { instanceId: m.processInstanceId } : {}),
      })
      // Instances whose dossier the caller cannot read are not there for them; readable but not theirs to move: refused.
      const visible = found.filter((c) => canReadDossier(p, c))
      const reachable = visible.filter((c) => allows('message.deliver', p, dossierResource(c)))
      if (visible.length && !reachable.length) authorize('message.deliver', p, dossierResource(visible[0]!))
      const results: Array<CorrelationResult | StartResult> = []
      if (m.all) {
        for (const c of reachable) {
          try {
            results.push(await deliver(p, c, m))
          } catch (err) {
            if (!(err instanceof AppError && err.code === 'MESSAGE_NOT_CORRELATED')) throw err
          }
        }
        if (starting) results.push(await deps.starts.start(p, starting.procedure_code, m, check))
      } else {
        const matching: MessageCandidate[] = []
        for (const c of reachable) if (await matches(c, m)) matching.push(c)
        const count = matching.length + (starting ? 1 : 0)
        if (count > 1)
          throw new AppError(
            'MESSAGE_CORRELATION_AMBIGUOUS',
            `Có ${count} nơi cùng chờ thông điệp "${m.messageName}"${starting ? ` (kể cả sự kiện bắt đầu của thủ tục ${starting.procedure_code})` : ''}: hãy gửi kèm mã hồ sơ (businessKey), processInstanceId hoặc correlationKeys, hoặc all=true để gửi cho tất cả`,
            { messageName: m.messageName, matches: count },
          )
        if (matching.length === 1) results.push(await deliver(p, matching[0]!, m))
        else if (starting) results.push(await deps.starts.start(p, starting.procedure_code, m, check))
      }
      if (!results.length) throw notCorrelated(m.messageName)
      return { correlated: results.length, ...(m.resultEnabled ? { results } : {}) }
    },

    /**
     * POST /api/signals (Camunda 7 `POST /signal`): the signal reaches every waiting signal catch and
     * boundary event of the running instances of one agency (`tenantId`, by default the caller's;
     * an admin without it: every agency), each in its own transaction. Answers how many received it.
     */
    async signal(
      p: Principal,
      s: { name: string; variables?: Record<string, unknown>; tenantId?: string },
    ): Promise<{ delivered: number }> {
      const agency = s.tenantId ?? (hasRole(p, 'admin') ? null : p.agency)
      authorize('signal.deliver', p, { agency: agency ?? p.agency })
      let delivered = 0
      // Every waiting instance, page by page (a signal is a broadcast: none is left out).
      for (let page = await deps.repo.signalCandidates(db, { signalName: s.name, agency }); page.length;) {
        for (const c of page) {
          const target = c.signal_catches[s.name]!
          const m: MessageCorrelation = { messageName: s.name }
          const signalAction: StepAction = {
            kind: 'message',
            messageId: target.messageId,
            activityIds: target.activityIds,
            variables: s.variables,
            ...(target.eventSubProcesses ? { eventSubProcesses: target.eventSubProcesses } : {}),
          }
          try {
            await deliver(p, c, m, { action: signalAction, history: 'signal.received' })
            delivered++
          } catch (err) {
            // Not waiting for it at this point of the process: the signal passes it by (as in Camunda 7).
            if (!(err instanceof AppError && err.code === 'MESSAGE_NOT_CORRELATED')) throw err
          }
        }
        if (page.length < MAX_CANDIDATES) break
        page = await deps.repo.signalCandidates(db, { signalName: s.name, agency, afterInstanceId: page.at(-1)!.instance_id })
      }
      return { delivered }
    },
  }
}
export type MessageService = ReturnType<typeof createMessageService>
