import fs from 'node:fs'
import path from 'node:path'
import type { Logger } from 'pino'
import { engineNow, type Clock } from './clock.ts'
import type { Config } from './config.ts'
import type { Db } from './db/knex.ts'
import { createEngineRunner } from './engine/runtime.ts'
import { createCalendarRepository } from './calendar/calendar.repository.ts'
import { createCalendarService } from './calendar/calendar.service.ts'
import { parseWorkingHours } from './calendar/working-calendar.ts'
import { taskDueDate } from './deadlines/appointment.ts'
import { resolveTimerValue } from './deadlines/working-time-durations.ts'
import { clockedTimerDefinition } from './engine/clocked-timer.ts'
import { createDeadlineObserver } from './deadlines/deadline.observer.ts'
import { createExtensionService } from './deadlines/extension.service.ts'
import { createAlarmRepository } from './records/alarm.repository.ts'
import { createDeadlineWatch } from './deadlines/deadline-watch.ts'
import { createDossierRepository } from './records/dossier.repository.ts'
import { createDossierService } from './dossiers/dossier.service.ts'
import { createHistoryRepository } from './records/history.repository.ts'
import { createInstanceRepository } from './records/instance.repository.ts'
import { createStepRunner } from './steps/step-runner.ts'
import type { StepObserver } from './steps/observer.ts'
import { createOutboxRepository } from './outbox/outbox.repository.ts'
import { createProcedureRepository } from './procedures/procedure.repository.ts'
import { createProcedureService } from './procedures/procedure.service.ts'
import { createProcedureVersionCache } from './procedures/version-cache.ts'
import { createTaskRepository } from './records/task.repository.ts'
import { createTaskService } from './tasks/task.service.ts'
import { createTaskQueue } from './tasks/queue.ts'
import { createTimerObserver } from './timers/timer.observer.ts'
import { createTimerRepository } from './records/timer.repository.ts'
import { createTimerService } from './timers/timer.service.ts'
import { createTimerLookahead } from './timers/timer-lookahead.ts'
import { createNotificationRepository } from './notifications/notification.repository.ts'
import { createNotificationService } from './notifications/notification.service.ts'
import { createDocumentRepository } from './documents/document.repository.ts'
import { createDocumentService } from './documents/document.service.ts'
import { createFormService } from './forms/form.service.ts'
import { createLifecycleService } from './lifecycle/lifecycle.service.ts'
import { createMessageService } from './messages/message.service.ts'
import { createMessageRepository } from './messages/message.repository.ts'
import { createInstanceVariablesService } from './instances/instance-variables.service.ts'
import { createInstanceVariablesRepository } from './instances/instance-variables.repository.ts'
import { createMessageStarts } from './messages/message-start.ts'
import { createPaymentService } from './payments/payment.service.ts'
import { createSupervisionService } from './supervision/supervision.service.ts'
import { requestFactsObserver } from './metrics/metrics.ts'
import { createSupervisionRepository } from './supervision/supervision.repository.ts'
import { createEvaluationService } from './evaluations/evaluation.service.ts'
import { createEvaluationRepository } from './evaluations/evaluation.repository.ts'
import { createLookupService } from './public/lookup.service.ts'
import { createLookupRepository } from './public/lookup.repository.ts'
import { createHandoffRepository } from './handoffs/handoff.repository.ts'
import { createHandoffObserver } from './handoffs/handoff.observer.ts'
import { constructsOf } from './engine/constructs.ts'
import { createIncidentRepository } from './handoffs/incident.repository.ts'
import { createHandoffService, type HandoffDeps } from './handoffs/handoff.service.ts'
import { createAdapterRegistry } from './handoffs/adapters/adapter.ts'
import { createHttpAdapter } from './handoffs/adapters/http.ts'
import { createPeerAdapter } from './handoffs/adapters/peer.ts'
import { createPostalAdapter } from './handoffs/adapters/postal.ts'
import { createPeerHandoffRepository } from './peers/peer-handoff.repository.ts'
import { createPeerCallbackObserver } from './peers/peer-callback.observer.ts'
import { createPeerCallbackService } from './peers/peer-callback.service.ts'
import { createPeerIntakeService } from './peers/peer-intake.service.ts'
import { createLocalPeer } from './peers/local-peer.ts'
import { createIncidentService } from './handoffs/incident.service.ts'
import { createPortalIncidentSource } from './handoffs/portal-delivery.ts'
import { createPortalEventRepository } from './handoffs/portal-event.repository.ts'
import { createCallbackService } from './handoffs/callback.service.ts'
import { createPostalTrackingService } from './handoffs/postal-tracking.service.ts'
import { createPostalEventRepository } from './handoffs/postal-event.repository.ts'
import { createExternalTaskService } from './handoffs/external-task.service.ts'
import { createFetchWake } from './handoffs/fetch-wake.ts'
import { createHandoffViewService } from './handoffs/handoff-view.service.ts'
import { createHandoffDeadlineWatch } from './handoffs/handoff-deadlines.ts'
import { createCitizenNotificationRepository } from './notifications/citizen-notification.repository.ts'
import { createCitizenNotices } from './notifications/citizen-notices.ts'
import { createCitizenNotificationObserver } from './notifications/citizen-notification.observer.ts'
import { createCitizenNotificationService } from './notifications/citizen-notification.service.ts'

const cutoffMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5))

/** Wires repositories and services once. No module-level singletons: tests build their own. */
export function createSystem(deps: {
  db: Db
  clock: Clock
  log: Logger
  config: Config
  observers?: StepObserver[]
  /** Test fault points of the handoff worker. */
  handoffFaults?: HandoffDeps['faults']
  /** The pool handoff work takes (attempts, answers), apart from the API's; `db` when not given. */
  jobsDb?: Db
}) {
  const { db, clock, log, config } = deps
  const repos = {
    procedures: createProcedureRepository(),
    dossiers: createDossierRepository(),
    instances: createInstanceRepository(),
    tasks: createTaskRepository(),
    history: createHistoryRepository(),
    outbox: createOutboxRepository(),
    timers: createTimerRepository(),
    alarms: createAlarmRepository(),
    notifications: createNotificationRepository(),
    documents: createDocumentRepository(),
    handoffs: createHandoffRepository(),
    incidents: createIncidentRepository(),
    citizenNotifications: createCitizenNotificationRepository(),
    peerHandoffs: createPeerHandoffRepository(),
    portalEvents: createPortalEventRepository(),
  }
  // Messages to the applicant, decided in the transaction of the event that causes them.
  const notices = createCitizenNotices({ repo: repos.citizenNotifications, webhookUrl: config.notifyWebhookUrl })
  const calendar = createCalendarService({ db, repo: createCalendarRepository(), clock, hours: parseWorkingHours(config.workingHours) })
  const versions = createProcedureVersionCache(repos.procedures, (v) => ({
    TimerEventDefinition: clockedTimerDefinition(() => engineNow(clock), resolveTimerValue(calendar.current, v.metadata.timeLimitUnit)),
  }))
  const watch = createDeadlineWatch({
    db,
    clock,
    calendar: calendar.current,
    dueSoonWorkingMinutes: config.dueSoonWorkingMinutes,
    queueHorizonMs: config.alarmQueueHorizonMinutes * 60_000,
    repos,
    alarms: repos.alarms,
    dossiers: repos.dossiers,
    tasks: repos.tasks,
    history: repos.history,
    notifications: repos.notifications,
  })
  // The step's plug-ins: what every step also writes (deadlines, durable timers).
  const observers: StepObserver[] = [
    createDeadlineObserver({ calendar: calendar.current, dossiers: repos.dossiers, tasks: repos.tasks, history: repos.history, watch }),
    createTimerObserver({ timers: repos.timers, history: repos.history }),
    createHandoffObserver({
      handoffs: repos.handoffs,
      // tthc:handoff workingDays: the other agency's time to answer, in working days like a task's.
      dueAt: (spec, now) =>
        spec.workingDays ? calendar.current().addWorkingDays(calendar.current().nextOpening(now), spec.workingDays) : null,
      hasHandoffs: (version) => constructsOf(versions.sourceContext(version)).handoffs,
    }),
    requestFactsObserver,
    // After the deadline observer: the receipt reads the appointment date it has just set.
    createCitizenNotificationObserver({ notices }),
    // A dossier a peer deployment handed us: its end owes the sender a callback.
    createPeerCallbackObserver({ repo: repos.peerHandoffs }),
    ...(deps.observers ?? []),
  ]
  const procedures = createProcedureService({
    db,
    repo: repos.procedures,
    clock,
    log,
    allowedScriptTasks: config.allowedScriptTasks,
    libraryDir: path.join(config.processesDir, 'lib'),
    defaults: { agency: config.defaultAgency, unitId: config.defaultUnitId },
    versions,
  })
  const engine = createEngineRunner({ cacheSize: config.engineCacheSize, cacheBytes: config.engineCacheBytes, now: () => engineNow(clock) })
  const steps = createStepRunner({
    engine,
    versions,
    ...repos,
    observers,
    taskDue: (spec, vars, now, unit) => taskDueDate(calendar.current(), spec, vars, now, cutoffMinutes(config.transferCutoff), unit),
  })
  const dossiers = createDossierService({
    db,
    clock,
    log,
    dossiers: repos.dossiers,
    instances: repos.instances,
    tasks: repos.tasks,
    history: repos.history,
    procedures,
    steps,
  })
  const tasks = createTaskService({
    db,
    clock,
    log,
    tasks: repos.tasks,
    instances: repos.instances,
    versions,
    history: repos.history,
    steps,
  })
  const timerLookahead = createTimerLookahead({
    db,
    clock,
    log,
    calendar: calendar.current,
    timers: repos.timers,
    steps,
    windowMs: config.timerLookaheadMs,
  })
  const timers = createTimerService({ db, clock, log, lookahead: timerLookahead, timers: repos.timers, steps })
  const lifecycle = createLifecycleService({
    db,
    clock,
    calendar: calendar.current,
    dossiers: repos.dossiers,
    tasks: repos.tasks,
    taskService: tasks,
    versions,
    history: repos.history,
    documents: repos.documents,
    steps,
    notices,
  })
  const payments = createPaymentService({
    db,
    clock,
    secret: config.paymentSecret,
    partnerCode: config.paymentPartnerCode,
    dossiers,
    versions,
    history: repos.history,
    lifecycle,
    notices,
  })
  const documents = createDocumentService({
    db,
    clock,
    dir: config.documentsDir,
    maxBytes: config.maxDocumentBytes,
    repo: repos.documents,
    dossiers,
    history: repos.history,
    versions,
  })
  const forms = createFormService({ db, dossiers, versions, lookupUrl: config.publicLookupUrl })
  const extensions = createExtensionService({
    db,
    clock,
    calendar: calendar.current,
    steps,
    dossiers: repos.dossiers,
    history: repos.history,
    outbox: repos.outbox,
    watch,
    versions,
    notices,
  })
  const notifications = createNotificationService({ db, clock, repo: repos.notifications })
  const supervision = createSupervisionService({
    db,
    clock,
    calendar: calendar.current,
    dossiers: repos.dossiers,
    tasks: repos.tasks,
    repo: createSupervisionRepository(),
  })
  const evaluations = createEvaluationService({ db, clock, dossiers, repo: createEvaluationRepository(), history: repos.history })
  const lookup = createLookupService({ db, repo: createLookupRepository() })
  const messages = createMessageService({
    db,
    clock,
    repo: createMessageRepository(),
    steps,
    starts: createMessageStarts({ db, dossiers, procedures }),
  })
  const instanceVariables = createInstanceVariablesService({ db, clock, repo: createInstanceVariablesRepository(), steps })
  const handoffs = createHandoffService({
    db: deps.jobsDb ?? db,
    clock,
    log,
    handoffs: repos.handoffs,
    incidents: repos.incidents,
    history: repos.history,
    outbox: repos.outbox,
    steps,
    adapters: createAdapterRegistry([
      createHttpAdapter({ peers: config.handoffPeers, now: () => clock.now(), timeoutMs: config.handoffTimeoutMs }),
      createPeerAdapter({
        peers: config.handoffPeers,
        now: () => clock.now(),
        timeoutMs: config.handoffTimeoutMs,
        // The sending dossier's applicant and its submitted documents (supplements included), with their checksums.
        load: async (handoffId) => {
          const h = await repos.handoffs.find(db, handoffId).one()
          const d = h ? await repos.dossiers.find(db, h.dossier_id).one() : undefined
          if (!h || !d) throw new Error(`Không tìm thấy hồ sơ của yêu cầu liên thông ${handoffId}`)
          const docs = (await repos.documents.list(db, d.id)).filter((r) => r.kind !== 'result')
          return {
            applicant: d.applicant,
            documents: docs.map((r) => ({
              fileName: r.file_name,
              contentType: r.content_type,
              sha256: r.sha256,
              content: fs.readFileSync(path.join(config.documentsDir, r.storage_key)),
            })),
          }
        },
        // No peer configured for the receiving agency: its procedure deployed here takes the dossier.
        local: (req, content) => localPeer.open(req, content),
      }),
      createPostalAdapter({
        operator: config.postal,
        now: () => clock.now(),
        timeoutMs: config.handoffTimeoutMs,
        // The dossier's applicant, its one-stop unit and the references of its result documents.
        load: async (handoffId) => {
          const h = await repos.handoffs.find(db, handoffId).one()
          const d = h ? await repos.dossiers.find(db, h.dossier_id).one() : undefined
          if (!h || !d) throw new Error(`Không tìm thấy hồ sơ của đơn bưu chính ${handoffId}`)
          const a = d.applicant as { name: string; phone?: string; address?: string }
          const results = (await repos.documents.list(db, d.id)).filter((r) => r.kind === 'result')
          return {
            dossierCode: d.code,
            applicant: { name: a.name, phone: a.phone ?? null, address: a.address ?? null },
            office: { agency: d.agency, unitId: d.unit_id },
            results: results.map((r) => ({ documentId: r.id, fileName: r.file_name, sha256: r.sha256 })),
          }
        },
      }),
    ]),
    ...(deps.handoffFaults ? { faults: deps.handoffFaults } : {}),
  })
  const fetchWake = createFetchWake({ db, log })
  const handoffViews = createHandoffViewService({
    db,
    clock,
    handoffs: repos.handoffs,
    dossiers: repos.dossiers,
    incidents: repos.incidents,
  })
  const handoffDeadlines = createHandoffDeadlineWatch({
    db,
    clock,
    calendar: calendar.current,
    handoffs: repos.handoffs,
    dueSoonWorkingMinutes: config.dueSoonWorkingMinutes,
  })
  const externalTasks = createExternalTaskService({ db, clock, handoffs, repo: repos.handoffs, wake: fetchWake })
  const handoffCallbacks = createCallbackService({
    handoffs,
    peers: config.handoffPeers,
    maxAgeSeconds: config.handoffCallbackMaxAgeSeconds,
    clock,
  })
  const postalTracking = createPostalTrackingService({
    db,
    clock,
    operator: config.postal,
    maxAgeSeconds: config.handoffCallbackMaxAgeSeconds,
    handoffs,
    handoffRows: repos.handoffs,
    events: createPostalEventRepository(),
    dossiers: repos.dossiers,
    history: repos.history,
    steps,
  })
  const peerIntake = createPeerIntakeService({
    db,
    clock,
    peers: config.handoffPeers,
    maxAgeSeconds: config.handoffCallbackMaxAgeSeconds,
    maxDocumentBytes: config.maxDocumentBytes,
    repo: repos.peerHandoffs,
    dossiers,
    documents,
    documentRows: repos.documents,
  })
  const localPeer = createLocalPeer({ intake: peerIntake, handoffs })
  const peerCallbacks = createPeerCallbackService({
    db,
    clock,
    log,
    peers: config.handoffPeers,
    timeoutMs: config.handoffTimeoutMs,
    repo: repos.peerHandoffs,
    documents: repos.documents,
    incidents: repos.incidents,
    outbox: repos.outbox,
    local: (handoffId, variables) => localPeer.answer(handoffId, variables),
  })
  const citizenNotifications = createCitizenNotificationService({
    db,
    clock,
    repo: repos.citizenNotifications,
    dossiers: repos.dossiers,
    history: repos.history,
    outbox: repos.outbox,
  })
  // Incidents of every kind: handoffs, and the other things sent out (each kind's module retries its own).
  const incidents = createIncidentService({
    db,
    clock,
    incidents: repos.incidents,
    handoffs: repos.handoffs,
    history: repos.history,
    outbox: repos.outbox,
    sources: {
      citizenNotification: citizenNotifications.incidentSource,
      peerCallback: peerCallbacks.incidentSource,
      portalEvent: createPortalIncidentSource({ events: repos.portalEvents, outbox: repos.outbox, retryCycle: config.portalRetryCycle }),
    },
  })
  return {
    db,
    clock,
    repos,
    engine,
    calendar,
    timers,
    timerLookahead,
    watch,
    notifications,
    citizenNotifications,
    supervision,
    evaluations,
    lookup,
    extensions,
    versions,
    procedures,
    steps,
    taskQueue: createTaskQueue({ db, clock, calendar: calendar.current }),
    dossiers,
    tasks,
    lifecycle,
    messages,
    instanceVariables,
    handoffs,
    incidents,
    handoffCallbacks,
    postalTracking,
    peerIntake,
    peerCallbacks,
    externalTasks,
    fetchWake,
    handoffViews,
    handoffDeadlines,
    payments,
    documents,
    forms,
  }
}
export type System = ReturnType<typeof createSystem>
