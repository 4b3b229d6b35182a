import { AppError, type ErrorCode } from '../errors.ts'
import { hasRole, type Principal } from './principal.ts'

/**
 * Who may do what (phân quyền): the single home of authorization rules. Services describe the
 * resource (its agency, the dossier's applicant, the groups of the task that offers the action) and
 * ask `authorize`; the table below is also what the authorization matrix test is generated from.
 * docs/security.md says the same in prose.
 */

/** The kinds of caller a rule names. Agency-bound subjects match only the resource's own agency. */
export const SUBJECTS = {
  /** The citizen who submitted the dossier or is its applicant (người nộp hồ sơ). */
  applicant: (p: Principal, r: Resource) => hasRole(p, 'citizen') && !!r.applicantIds?.includes(p.userId),
  /** Any officer (cán bộ) of the resource's agency. */
  agencyOfficer: (p: Principal, r: Resource) => hasRole(p, 'officer') && p.agency === r.agency,
  /** An officer of the agency in a candidate group of the task that offers the action, or its assignee. */
  taskGroup: (p: Principal, r: Resource) => hasRole(p, 'officer') && p.agency === r.agency && isMember(p, r),
  /** An officer of the agency at the one-stop counter (bộ phận một cửa, group `one-stop`). */
  oneStop: (p: Principal, r: Resource) => hasRole(p, 'officer') && p.agency === r.agency && p.groups.includes('one-stop'),
  /** A leader (lãnh đạo, group `leaders`) of the agency. */
  leader: (p: Principal, r: Resource) => hasRole(p, 'officer') && p.agency === r.agency && p.groups.includes('leaders'),
  /** A supervisor (giám sát) of the agency. */
  agencySupervisor: (p: Principal, r: Resource) => hasRole(p, 'supervisor') && p.agency === r.agency,
  /** A business analyst of the agency that owns the procedure. */
  agencyAnalyst: (p: Principal, r: Resource) => hasRole(p, 'analyst') && p.agency === r.agency,
  admin: (p: Principal) => hasRole(p, 'admin'),
  /** A machine worker (role `worker`) of the receiving agency whose token names the task's topic (any of its topics for a list). */
  topicWorker: (p: Principal, r: Resource) =>
    hasRole(p, 'worker') && p.agency === r.agency && (r.topic === undefined || !!p.topics?.includes(r.topic)),
} satisfies Record<string, (p: Principal, r: Resource) => boolean>
export type Subject = keyof typeof SUBJECTS

/** What a rule is checked against. */
export interface Resource {
  agency: string
  /** User ids that count as the dossier's applicant (submitter and applicant account). */
  applicantIds?: string[]
  /** Candidate groups and users of the task(s) that offer the action; its assignee. */
  candidateGroups?: string[]
  candidateUsers?: string[]
  assignee?: string | null
  /** The topic of an external task. */
  topic?: string
}

function isMember(p: Principal, r: Resource): boolean {
  return r.assignee === p.userId || !!r.candidateUsers?.includes(p.userId) || !!r.candidateGroups?.some((g) => p.groups.includes(g))
}

export interface Rule {
  who: readonly Subject[]
  /** Dossier states in which the action is possible (checked by the service, stated here). */
  when: string
  /** What must accompany the request, and from whom. */
  evidence?: string
  /** A caller who may not even read the resource gets a 404 (nothing is revealed), otherwise this 403. */
  refusal: ErrorCode
  message: string
}

/** The one rule table. */
export const POLICY = {
  'dossier.read': {
    who: ['applicant', 'agencyOfficer', 'agencySupervisor', 'admin'],
    when: 'any',
    refusal: 'DOSSIER_NOT_FOUND',
    message: 'Không tìm thấy hồ sơ',
  },
  'dossier.act': {
    who: ['taskGroup', 'admin'],
    when: 'an open task of the dossier offers the action (tthc:actions)',
    refusal: 'FORBIDDEN',
    message: 'Chỉ cán bộ thuộc nhóm xử lý bước này được thực hiện thao tác',
  },
  'dossier.supplement': {
    who: ['applicant', 'oneStop', 'admin'],
    when: 'SUPPLEMENT_REQUESTED',
    refusal: 'FORBIDDEN',
    message: 'Chỉ người nộp hồ sơ hoặc cán bộ một cửa tiếp nhận hồ sơ bổ sung',
  },
  'dossier.withdraw': {
    who: ['applicant', 'oneStop', 'admin'],
    when: 'any open state',
    evidence: "anyone but the applicant attaches the applicant's written withdrawal request, uploaded to the dossier (requestDocumentId)",
    refusal: 'FORBIDDEN',
    message: 'Chỉ người nộp hồ sơ, hoặc cán bộ một cửa ghi nhận đơn đề nghị rút hồ sơ của người nộp, được rút hồ sơ',
  },
  'dossier.stop': {
    who: ['leader', 'agencySupervisor', 'admin'],
    when: 'any open state',
    refusal: 'FORBIDDEN',
    message: 'Chỉ lãnh đạo hoặc người giám sát của cơ quan được dừng xử lý hồ sơ',
  },
  'dossier.extend': {
    who: ['taskGroup', 'oneStop', 'leader', 'agencySupervisor', 'admin'],
    when: 'open, before RESULT_READY, at least one working day before the appointment, once',
    evidence: 'a reason; the new appointment after the current one and no later than the procedure time limit counted again from it',
    refusal: 'FORBIDDEN',
    message: 'Chỉ cán bộ đang xử lý hồ sơ, cán bộ một cửa, lãnh đạo hoặc người giám sát của cơ quan được hẹn lại ngày trả kết quả',
  },
  'task.read': {
    who: ['taskGroup', 'agencySupervisor', 'admin'],
    when: 'any',
    refusal: 'TASK_NOT_FOUND',
    message: 'Không tìm thấy công việc',
  },
  'task.work': {
    who: ['taskGroup', 'admin'],
    when: 'open',
    refusal: 'FORBIDDEN',
    message: 'Chỉ cán bộ thuộc nhóm xử lý được nhận và hoàn thành công việc',
  },
  'task.throw': {
    who: ['taskGroup', 'admin'],
    when: 'open (the same callers as a completion: POST /api/tasks/:id/bpmn-error and /bpmn-escalation)',
    refusal: 'FORBIDDEN',
    message: 'Chỉ cán bộ thuộc nhóm xử lý được báo lỗi nghiệp vụ (BPMN error) hoặc escalation cho công việc',
  },
  'task.release': {
    who: ['taskGroup', 'agencySupervisor', 'admin'],
    when: 'open',
    refusal: 'FORBIDDEN',
    message: 'Chỉ người nhận việc hoặc người giám sát được trả lại công việc',
  },
  'task.queue': {
    who: ['agencyOfficer', 'admin'],
    when: 'any (GET /api/tasks/queue: the open tasks the officer holds or may claim, in their own agency; an admin any agency)',
    refusal: 'FORBIDDEN',
    message: 'Hàng đợi công việc chỉ dành cho cán bộ của cơ quan',
  },
  'procedure.deploy': {
    who: ['agencyAnalyst', 'admin'],
    when: 'the owner agency stays unless an admin transfers it',
    refusal: 'PROCEDURE_AGENCY_FORBIDDEN',
    message: 'Chuyên viên nghiệp vụ chỉ triển khai thủ tục của cơ quan mình',
  },
  'message.deliver': {
    who: ['agencyOfficer', 'admin'],
    when: 'a running instance of the dossier waits for the message (POST /api/messages)',
    refusal: 'FORBIDDEN',
    message: 'Chỉ cán bộ của cơ quan xử lý hồ sơ được gửi thông điệp tới quy trình của hồ sơ',
  },
  'message.start': {
    who: ['oneStop', 'admin'],
    when: "the procedure's latest version has a message start event for the message (POST /api/messages naming no dossier): a new dossier",
    refusal: 'FORBIDDEN',
    message: 'Chỉ cán bộ một cửa của cơ quan giải quyết thủ tục được tiếp nhận hồ sơ bằng thông điệp',
  },
  'signal.deliver': {
    who: ['agencyOfficer', 'admin'],
    when: 'running instances of the agency (tenantId) that wait for the signal (POST /api/signals); an admin without tenantId: every agency',
    refusal: 'FORBIDDEN',
    message: 'Chỉ cán bộ của cơ quan được gửi tín hiệu tới các hồ sơ của cơ quan mình',
  },
  'instance.variables': {
    who: ['agencyOfficer', 'admin'],
    when: 'a running process instance of the dossier (POST /api/process-instances/:id/variables)',
    refusal: 'FORBIDDEN',
    message: 'Chỉ cán bộ của cơ quan xử lý hồ sơ được thay đổi biến của quy trình',
  },
  'citizenNotification.read': {
    who: ['applicant', 'agencyOfficer', 'agencySupervisor', 'admin'],
    when: 'any (GET /api/dossiers/:id/notifications: what was sent to the applicant)',
    refusal: 'DOSSIER_NOT_FOUND',
    message: 'Không tìm thấy hồ sơ',
  },
  'citizenNotification.retry': {
    who: ['agencyOfficer', 'admin'],
    when: 'the notification failed after its retries (POST /api/citizen-notifications/:id/retry)',
    refusal: 'FORBIDDEN',
    message: 'Chỉ cán bộ của cơ quan xử lý hồ sơ được gửi lại thông báo cho người nộp',
  },
  'supervision.view': {
    who: ['agencySupervisor', 'admin'],
    when: 'any',
    refusal: 'FORBIDDEN',
    message: 'Chỉ người giám sát của cơ quan được xem',
  },
  'externalTask.work': {
    who: ['topicWorker'],
    when: 'fetch-and-lock, complete, failure, bpmn-error, extend-lock, unlock: the task is of a topic the token names; answers need the unexpired lock of the same workerId',
    refusal: 'EXTERNAL_TASK_TOPIC_FORBIDDEN',
    message: 'Worker chỉ được nhận và trả lời công việc thuộc các topic ghi trong token',
  },
  'externalTask.read': {
    who: ['topicWorker', 'admin'],
    when: 'any (workers see their topics only)',
    refusal: 'FORBIDDEN',
    message: 'Chỉ worker của topic hoặc quản trị viên được xem công việc bên ngoài',
  },
  'incident.manage': {
    who: ['agencyOfficer', 'admin'],
    when: 'incidents of handoffs, of notifications to the applicant and of callbacks to peer systems, for the agency’s dossiers (list, retry, resolve with a note)',
    refusal: 'FORBIDDEN',
    message: 'Chỉ cán bộ của cơ quan gửi liên thông hoặc quản trị viên được xem và xử lý sự cố',
  },
  'incident.portalSync.manage': {
    who: ['admin'],
    when: 'incidents of status events the national portal never acknowledged (list with type=failedPortalSync, retry, resolve with a note)',
    refusal: 'FORBIDDEN',
    message: 'Chỉ quản trị viên được xem và xử lý sự cố đồng bộ với Cổng Dịch vụ công quốc gia',
  },
  'supervision.export': {
    who: ['agencySupervisor', 'admin'],
    when: 'any (CSV and XLSX exports of the supervision lists, report and indicators)',
    refusal: 'FORBIDDEN',
    message: 'Chỉ người giám sát của cơ quan được xuất dữ liệu giám sát',
  },
  'metrics.read': {
    who: ['admin'],
    when: 'any (GET /metrics; a Prometheus scraper may use the METRICS_TOKEN instead)',
    refusal: 'FORBIDDEN',
    message: 'Chỉ quản trị viên được xem số liệu vận hành',
  },
} as const satisfies Record<string, Rule>
export type Permission = keyof typeof POLICY

export function allows(permission: Permission, p: Principal, r: Resource): boolean {
  return POLICY[permission].who.some((s) => SUBJECTS[s](p, r))
}

/** Throws the rule's refusal unless the caller is one of the subjects it names. */
export function authorize(permission: Permission, p: Principal, r: Resource): void {
  if (!allows(permission, p, r)) {
    const rule: Rule = POLICY[permission]
    throw new AppError(rule.refusal, rule.message, { permission })
  }
}

/** Dossier fields the rules look at. */
export function dossierResource(d: { agency: string; applicant_user_id: string | null; submitted_by: string }): Resource {
  return { agency: d.agency, applicantIds: [d.applicant_user_id, d.submitted_by].filter((x): x is string => !!x) }
}

/** Can this caller read the dossier? */
export const canReadDossier = (p: Principal, d: Parameters<typeof dossierResource>[0]) => allows('dossier.read', p, dossierResource(d))

/** Which tasks the caller sees (list filter): officers their groups' tasks in their agency, supervisors all their agency's, admins all. */
export function taskScope(p: Principal): { agency: string | null; member: { userId: string; groups: string[] } | null } {
  if (hasRole(p, 'admin')) return { agency: null, member: null }
  if (hasRole(p, 'supervisor')) return { agency: p.agency, member: null }
  if (hasRole(p, 'officer')) return { agency: p.agency, member: { userId: p.userId, groups: p.groups } }
  throw new AppError('FORBIDDEN', 'Chỉ cán bộ mới xem được hàng đợi công việc')
}

/** Fields of a task row the rules look at. */
export function taskResource(t: {
  agency: string
  candidate_groups: string[]
  candidate_users: string[]
  assignee: string | null
}): Resource {
  return { agency: t.agency, candidateGroups: t.candidate_groups, candidateUsers: t.candidate_users, assignee: t.assignee }
}

/** Coarse role gate of a route (before any resource is known). */
export function requireAnyRole(p: Principal, ...roles: Principal['roles']): Principal {
  if (!hasRole(p, ...roles)) throw new AppError('FORBIDDEN', `Cần một trong các vai trò: ${roles.join(', ')}`)
  return p
}
