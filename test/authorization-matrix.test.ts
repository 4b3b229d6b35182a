import t from 'tap'
import fs from 'node:fs'
import { manualClock } from '../src/clock.ts'
import { POLICY, type Permission, type Subject } from '../src/auth/policy.ts'
import type { Role } from '../src/auth/principal.ts'
import { testContext, type TestContext } from './helpers/context.ts'
import { caller } from './helpers/api.ts'

/**
 * The authorization matrix, generated from the rule table (src/auth/policy.ts): every route below ×
 * role × agency (own/other) × group (right/wrong), against the real app, each case on a fresh dossier.
 * The expected answer is what the table's subjects say about the persona: allowed (2xx), or refused —
 * 404 when the caller may not even see the dossier or task, 403 otherwise.
 */
const S3 = fs.readFileSync(new URL('../processes/s3-ho-kinh-doanh.bpmn', import.meta.url), 'utf8')
/** A procedure of the agency that also starts by a message (its message start event). */
const MESSAGE_START = fs
  .readFileSync(new URL('./fixtures/bpmn/message-start.bpmn', import.meta.url), 'utf8')
  .replace('xmlns:camunda=', 'xmlns:tthc="https://dvc-bpmn.vn/schema/tthc/1.0" xmlns:camunda=')
  .replace(
    '<bpmn:process id="MessageStartDemo" isExecutable="true">',
    '<bpmn:process id="MessageStartDemo" isExecutable="true"><bpmn:extensionElements><tthc:procedure code="MSG-START" name="Hồ sơ nhận từ cổng" agency="UBND-XA-DEMO" channels="1,2" /></bpmn:extensionElements>',
  )
const AGENCY = 'UBND-XA-DEMO'
const OTHER = 'SO-TU-PHAP-DEMO'
const APPLICANT = 'cd-1'
const PDF = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n')

interface Persona {
  name: string
  role: Role
  own: boolean
  rightGroup: boolean
  applicant?: boolean
}
const PERSONAS: Persona[] = [
  { name: 'the applicant', role: 'citizen', own: true, rightGroup: false, applicant: true },
  { name: 'another citizen', role: 'citizen', own: true, rightGroup: false },
  { name: 'officer, own agency, right group', role: 'officer', own: true, rightGroup: true },
  { name: 'officer, own agency, wrong group', role: 'officer', own: true, rightGroup: false },
  { name: 'officer, other agency, right group', role: 'officer', own: false, rightGroup: true },
  { name: 'supervisor, own agency', role: 'supervisor', own: true, rightGroup: false },
  { name: 'supervisor, other agency', role: 'supervisor', own: false, rightGroup: false },
  { name: 'analyst, own agency', role: 'analyst', own: true, rightGroup: false },
  { name: 'analyst, other agency', role: 'analyst', own: false, rightGroup: false },
  { name: 'admin', role: 'admin', own: false, rightGroup: false },
]

type Stage = 'receipt' | 'appraisal' | 'claimed' | 'supplement'
/** The candidate group of the task open at each stage of S3 (none while waiting for the supplement). */
const TASK_GROUP: Record<Stage, string> = { receipt: 'one-stop', appraisal: 'specialists', claimed: 'specialists', supplement: 'none' }
/** Who claimed the appraisal task at stage `claimed`: the right-group officer of the matrix (releasing one's own claim). */
const CLAIMANT = 'officer-own-specialists'

/** What each subject of the table means for a persona holding `group`, on a dossier at `stage`. */
function isSubject(s: Subject, p: Persona, group: string, stage: Stage): boolean {
  const officer = p.role === 'officer' && p.own
  switch (s) {
    case 'applicant':
      return !!p.applicant
    case 'agencyOfficer':
      return officer
    case 'taskGroup':
      return officer && group === TASK_GROUP[stage]
    case 'oneStop':
      return officer && group === 'one-stop'
    case 'leader':
      return officer && group === 'leaders'
    case 'agencySupervisor':
      return p.role === 'supervisor' && p.own
    case 'agencyAnalyst':
      return p.role === 'analyst' && p.own
    case 'admin':
      return p.role === 'admin'
    case 'topicWorker':
      // No persona of the matrix is a machine worker (test/external-tasks.test.ts covers workers).
      return false
  }
}
const allowedBy = (perm: Permission, p: Persona, group: string, stage: Stage) => POLICY[perm].who.some((s) => isSubject(s, p, group, stage))

interface Route {
  name: string
  permission: Permission
  /** The group a persona with the "right group" has: the candidate group of the task, or the group the rule names. */
  group: string
  stage: Stage
  /** Refusals of callers who cannot see the resource: 404 for dossier and task routes. */
  hidden?: 'dossier' | 'task'
  /** An error code that means the caller got past authorization (the action itself then had nothing to do). */
  passed?: string
  call: (
    as: Awaited<ReturnType<typeof caller>>,
    d: { id: string; code: string; taskId: string; documentId: string; instanceId: string; notificationId: string | null },
  ) => Promise<{ status: number; body: any }>
}

const ROUTES: Route[] = [
  {
    name: 'GET dossier',
    permission: 'dossier.read',
    group: 'one-stop',
    stage: 'receipt',
    hidden: 'dossier',
    call: (as, d) => as.get(`/api/dossiers/${d.id}`),
  },
  {
    name: 'action accept (receipt, one-stop)',
    permission: 'dossier.act',
    group: 'one-stop',
    stage: 'receipt',
    hidden: 'dossier',
    call: (as, d) => as.act(d.id, 'accept', {}),
  },
  {
    name: 'action request-supplement (receipt, one-stop)',
    permission: 'dossier.act',
    group: 'one-stop',
    stage: 'receipt',
    hidden: 'dossier',
    call: (as, d) => as.act(d.id, 'request-supplement', { items: ['GDN'], reason: 'Thiếu giấy đề nghị' }),
  },
  {
    name: 'action propose (appraisal, specialists)',
    permission: 'dossier.act',
    group: 'specialists',
    stage: 'appraisal',
    hidden: 'dossier',
    call: (as, d) => as.act(d.id, 'propose', {}),
  },
  {
    name: 'action refuse (appraisal, specialists)',
    permission: 'dossier.act',
    group: 'specialists',
    stage: 'appraisal',
    hidden: 'dossier',
    call: (as, d) => as.act(d.id, 'refuse', { reasons: ['Không đủ điều kiện'] }),
  },
  {
    name: 'supplement hand-in',
    permission: 'dossier.supplement',
    group: 'one-stop',
    stage: 'supplement',
    hidden: 'dossier',
    call: (as, d) => as.post(`/api/dossiers/${d.id}/supplement`, { documentIds: [d.documentId] }),
  },
  {
    name: 'withdrawal',
    permission: 'dossier.withdraw',
    group: 'one-stop',
    stage: 'receipt',
    hidden: 'dossier',
    call: (as, d) => as.post(`/api/dossiers/${d.id}/withdraw`, { reason: 'Người nộp đề nghị rút', requestDocumentId: d.documentId }),
  },
  {
    name: 'stop',
    permission: 'dossier.stop',
    group: 'leaders',
    stage: 'appraisal',
    hidden: 'dossier',
    call: (as, d) => as.post(`/api/dossiers/${d.id}/stop`, { reason: 'Cơ quan đề nghị dừng' }),
  },
  {
    name: 'extension (Mẫu 04), appraisal by specialists',
    permission: 'dossier.extend',
    group: 'specialists',
    stage: 'appraisal',
    hidden: 'dossier',
    call: (as, d) => as.post(`/api/dossiers/${d.id}/extension`, { newAppointmentAt: '2026-11-27T02:00:00Z', reason: 'Cần xác minh thêm' }),
  },
  {
    name: 'extension (Mẫu 04), by the one-stop unit',
    permission: 'dossier.extend',
    group: 'one-stop',
    stage: 'appraisal',
    hidden: 'dossier',
    call: (as, d) => as.post(`/api/dossiers/${d.id}/extension`, { newAppointmentAt: '2026-11-27T02:00:00Z', reason: 'Cần xác minh thêm' }),
  },
  {
    name: 'extension (Mẫu 04), by a leader',
    permission: 'dossier.extend',
    group: 'leaders',
    stage: 'appraisal',
    hidden: 'dossier',
    call: (as, d) => as.post(`/api/dossiers/${d.id}/extension`, { newAppointmentAt: '2026-11-27T02:00:00Z', reason: 'Cần xác minh thêm' }),
  },
  {
    name: 'task read',
    permission: 'task.read',
    group: 'specialists',
    stage: 'appraisal',
    hidden: 'task',
    call: (as, d) => as.get(`/api/tasks/${d.taskId}`),
  },
  {
    name: 'task claim',
    permission: 'task.work',
    group: 'specialists',
    stage: 'appraisal',
    hidden: 'task',
    call: (as, d) => as.post(`/api/tasks/${d.taskId}/claim`),
  },
  {
    name: 'task unclaim (claimed by the right-group officer)',
    permission: 'task.release',
    group: 'specialists',
    stage: 'claimed',
    hidden: 'task',
    call: (as, d) => as.post(`/api/tasks/${d.taskId}/unclaim`),
  },
  {
    name: 'task complete',
    permission: 'task.work',
    group: 'one-stop',
    stage: 'receipt',
    hidden: 'task',
    call: (as, d) => as.post(`/api/tasks/${d.taskId}/complete`, { variables: { outcome: 'accept' } }),
  },
  {
    name: 'message delivered by dossier code (POST /api/messages)',
    permission: 'message.deliver',
    group: 'none',
    stage: 'supplement',
    hidden: 'dossier',
    call: (as, d) => as.post('/api/messages', { messageName: 'SupplementSubmitted', businessKey: d.code }),
  },
  {
    name: 'process variables changed (POST /api/process-instances/:id/variables)',
    permission: 'instance.variables',
    group: 'none',
    stage: 'receipt',
    hidden: 'dossier',
    call: (as, d) => as.post(`/api/process-instances/${d.instanceId}/variables`, { modifications: { note: { value: 'x' } } }),
  },
  {
    name: 'new dossier by a message start event (POST /api/messages naming no dossier)',
    permission: 'message.start',
    group: 'one-stop',
    stage: 'receipt',
    call: (as) =>
      as.post('/api/messages', {
        messageName: 'PortalApplication',
        processVariables: { applicant: { name: 'Lê Văn B', idNumber: '001099004321' } },
      }),
  },
  {
    name: 'signal to the agency (POST /api/signals)',
    permission: 'signal.deliver',
    group: 'none',
    stage: 'receipt',
    call: (as) => as.post('/api/signals', { name: 'OfficeReopened', tenantId: AGENCY }),
  },
  {
    name: 'task bpmn-error (the sample has no error boundary: an authorized caller gets BPMN_ERROR_NOT_CAUGHT)',
    permission: 'task.throw',
    group: 'one-stop',
    stage: 'receipt',
    hidden: 'task',
    passed: 'BPMN_ERROR_NOT_CAUGHT',
    call: (as, d) => as.post(`/api/tasks/${d.taskId}/bpmn-error`, { errorCode: 'MISSING_DOCUMENTS' }),
  },
  {
    name: 'task bpmn-escalation (the sample has no escalation catcher: an authorized caller gets ESCALATION_NOT_CAUGHT)',
    permission: 'task.throw',
    group: 'one-stop',
    stage: 'receipt',
    hidden: 'task',
    passed: 'ESCALATION_NOT_CAUGHT',
    call: (as, d) => as.post(`/api/tasks/${d.taskId}/bpmn-escalation`, { escalationCode: 'LATE' }),
  },
  {
    name: "the applicant's notifications",
    permission: 'citizenNotification.read',
    group: 'none',
    stage: 'appraisal',
    hidden: 'dossier',
    call: (as, d) => as.get(`/api/dossiers/${d.id}/notifications`),
  },
  {
    name: 'notification retry (the receipt had no address: an authorized caller gets NOTIFICATION_NOT_RETRYABLE)',
    permission: 'citizenNotification.retry',
    group: 'none',
    stage: 'appraisal',
    hidden: 'dossier',
    passed: 'NOTIFICATION_NOT_RETRYABLE',
    call: (as, d) => as.post(`/api/citizen-notifications/${d.notificationId}/retry`),
  },
  {
    name: 'supervision deadlines',
    permission: 'supervision.view',
    group: 'none',
    stage: 'receipt',
    call: (as) => as.get(`/api/supervision/deadlines?state=all&agency=${AGENCY}`),
  },
  {
    name: 'supervision indicators',
    permission: 'supervision.view',
    group: 'none',
    stage: 'receipt',
    call: (as) => as.get(`/api/supervision/indicators?from=2026-11-01&to=2026-11-30&agency=${AGENCY}`),
  },
  {
    name: 'incidents of the agency',
    permission: 'incident.manage',
    group: 'none',
    stage: 'receipt',
    call: (as) => as.get(`/api/incidents?agency=${AGENCY}`),
  },
  {
    name: 'task queue of the agency',
    permission: 'task.queue',
    group: 'none',
    stage: 'receipt',
    call: (as) => as.get(`/api/tasks/queue?agency=${AGENCY}`),
  },
  {
    name: 'portal sync incidents of the agency',
    permission: 'incident.portalSync.manage',
    group: 'none',
    stage: 'receipt',
    call: (as) => as.get(`/api/incidents?type=failedPortalSync&agency=${AGENCY}`),
  },
  {
    name: 'external tasks list',
    permission: 'externalTask.read',
    group: 'none',
    stage: 'receipt',
    call: (as) => as.get('/api/external-tasks'),
  },
  {
    name: 'external task fetch-and-lock',
    permission: 'externalTask.work',
    group: 'none',
    stage: 'receipt',
    call: (as) =>
      as.post('/api/external-tasks/fetch-and-lock', { workerId: 'w1', maxTasks: 1, topics: [{ topicName: 'x', lockDuration: 1000 }] }),
  },
  {
    name: 'supervision today',
    permission: 'supervision.view',
    group: 'none',
    stage: 'receipt',
    call: (as) => as.get(`/api/supervision/today?from=2026-11-01&to=2026-11-30&agency=${AGENCY}`),
  },
  {
    name: 'supervision export (report, XLSX)',
    permission: 'supervision.export',
    group: 'none',
    stage: 'receipt',
    call: (as) => as.get(`/api/supervision/export/report?from=2026-11-01&to=2026-11-30&agency=${AGENCY}&format=xlsx`),
  },
  {
    name: 'supervision export (overdue steps, CSV)',
    permission: 'supervision.export',
    group: 'none',
    stage: 'receipt',
    call: (as) => as.get(`/api/supervision/export/tasks?state=all&agency=${AGENCY}`),
  },
  {
    name: 'metrics (Prometheus)',
    permission: 'metrics.read',
    group: 'none',
    stage: 'receipt',
    call: (as) => as.get('/metrics'),
  },
  {
    name: 'procedure deploy (owned by the agency)',
    permission: 'procedure.deploy',
    group: 'none',
    stage: 'receipt',
    call: (as) => as.post('/api/procedures', S3, { 'content-type': 'application/xml' }),
  },
]

/** Can the persona see the resource at all (else a refusal is a 404)? */
function sees(route: Route, p: Persona, group: string): boolean {
  if (route.hidden === 'dossier') return allowedBy('dossier.read', p, group, route.stage)
  // Tasks: citizens and analysts are turned away at the door (403); staff outside the task's reach get 404.
  if (route.hidden === 'task') return !['officer', 'supervisor'].includes(p.role) || allowedBy('task.read', p, group, route.stage)
  return true
}

async function dossierAt(ctx: TestContext, stage: Stage) {
  const applicant = await caller(ctx, { userId: APPLICANT, roles: ['citizen'] })
  const staff = await caller(ctx, { userId: 'setup', roles: ['officer'], groups: ['one-stop'], agency: AGENCY })
  const sub = await applicant.post('/api/dossiers', {
    procedureCode: '2.000575',
    applicant: { name: 'Lê Văn A', idNumber: '001099001234' },
    channel: 2,
    data: {},
  })
  const id = sub.body.dossier.id as string
  const up = await ctx.app.inject({
    method: 'POST',
    url: `/api/dossiers/${id}/documents?fileName=don.pdf&documentCode=GDN`,
    headers: { ...applicant.headers, 'content-type': 'application/pdf' },
    payload: PDF,
  })
  if (stage === 'appraisal' || stage === 'claimed') await staff.act(id, 'accept', {})
  if (stage === 'supplement') await staff.act(id, 'request-supplement', { items: ['GDN'], reason: 'Thiếu giấy đề nghị' })
  const tasks = (await applicant.get(`/api/dossiers/${id}`)).body.tasks
  if (stage === 'claimed')
    await (
      await caller(ctx, { userId: CLAIMANT, roles: ['officer'], groups: ['specialists'], agency: AGENCY })
    ).post(`/api/tasks/${tasks[0].id}/claim`)
  const instanceId = (await ctx.db('process_instances').where({ dossier_id: id }).first()).id as string
  const notice = await ctx.db('citizen_notifications').where({ dossier_id: id }).first('id')
  return {
    id,
    code: sub.body.dossier.code as string,
    taskId: tasks[0]?.id as string,
    documentId: up.json().id as string,
    instanceId,
    notificationId: (notice?.id as string | undefined) ?? null,
  }
}

t.test('authorization matrix: every route × role × agency × group answers as the rule table says', async (t) => {
  const ctx = await testContext(t, { clock: manualClock('2026-11-23T02:00:00Z') })
  t.equal((await ctx.deploy(S3)).status, 201)
  t.equal((await ctx.deploy(MESSAGE_START)).status, 201)
  const covered = new Set(ROUTES.map((r) => r.permission))
  t.same(
    [...Object.keys(POLICY)].filter((p) => !covered.has(p as Permission)),
    [],
    'every rule of the table has a route in the matrix',
  )
  // The personas of one route run side by side, each on its own dossier.
  for (const route of ROUTES) {
    const results = await Promise.all(
      PERSONAS.map(async (p) => {
        const group = p.rightGroup ? route.group : 'archive'
        const as = await caller(ctx, {
          userId: p.applicant ? APPLICANT : `${p.role}-${p.own ? 'own' : 'other'}-${group}`,
          roles: [p.role],
          groups: [group],
          agency: p.own ? AGENCY : OTHER,
        })
        const res = await route.call(as, await dossierAt(ctx, route.stage))
        const expected = allowedBy(route.permission, p, group, route.stage) ? 'allowed' : sees(route, p, group) ? 'forbidden' : 'not-found'
        const got =
          res.status < 300 || (route.passed && res.body?.error?.code === route.passed)
            ? 'allowed'
            : res.status === 403
              ? 'forbidden'
              : res.status === 404
                ? 'not-found'
                : `status ${res.status} ${res.body?.error?.code}`
        return { name: `${route.name} by ${p.name}`, got, expected }
      }),
    )
    for (const r of results) t.equal(r.got, r.expected, r.name)
  }
})
