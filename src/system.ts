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
import { createPaymentService } from './payments/payment.service.ts'
import { createSupervisionService } from './supervision/supervision.service.ts'
import { createSupervisionRepository } from './supervision/supervision.repository.ts'
import { createEvaluationService } from './evaluations/evaluation.service.ts'
import { createEvaluationRepository } from './evaluations/evaluation.repository.ts'
import { createLookupService } from './public/lookup.service.ts'
import { createLookupRepository } from './public/lookup.repository.ts'
import { createCitizenNotificationRepository } from './notifications/citizen-notification.repository.ts'
import { createCitizenNotices } from './notifications/citizen-notices.ts'
import { createCitizenNotificationObserver } from './notifications/citizen-notification.observer.ts'
import { createCitizenNotificationService } from './notifications/citizen-notification.service.ts'

const cutoffMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5))

/** Wires repositories and services once. No module-level singletons: tests build their own. */
export function createSystem(deps: { db: Db; clock: Clock; log: Logger; config: Config; observers?: StepObserver[] }) {
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
    citizenNotifications: createCitizenNotificationRepository(),
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
    // After the deadline observer: the receipt reads the appointment date it has just set.
    createCitizenNotificationObserver({ notices }),
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
  const messages = createMessageService({ db, clock, repo: createMessageRepository(), steps })
  const citizenNotifications = createCitizenNotificationService({
    db,
    clock,
    repo: repos.citizenNotifications,
    dossiers: repos.dossiers,
    history: repos.history,
    outbox: repos.outbox,
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
    dossiers,
    tasks,
    lifecycle,
    messages,
    payments,
    documents,
    forms,
  }
}
export type System = ReturnType<typeof createSystem>
