import type { FastifyReply } from 'fastify'
import { vietnamDateTime } from '../calendar/vietnam-time.ts'
import { dossierDeadlineView, taskDeadlineView } from '../deadlines/outcome.ts'
import type { Api } from '../http/schemas.ts'
import { CHANNEL_NAME, STATUS_LABEL_VI, type Channel, type DossierStatus } from '../records/statuses.ts'
import type { TaskRow } from '../records/task.repository.ts'
import type { ListedDossier } from './board.repository.ts'
import {
  boardDossiersSchema,
  boardTasksSchema,
  exportDossiersSchema,
  exportIndicatorsSchema,
  exportReportSchema,
  exportTasksSchema,
  reportSchema,
  stepCountsSchema,
  todaySchema,
} from './board.schemas.ts'
import type { BoardService } from './board.service.ts'
import { CONTENT_TYPE, exportStream, primed, type Column, type ExportFormat } from './export.ts'
import type { SupervisionService } from './supervision.service.ts'

type LateTask = TaskRow & { dossier_code: string; appointment_at: Date | null }

export function boardDossierDto(i: { dossier: ListedDossier; workingMinutesLeft: number | null }) {
  const d = i.dossier
  return {
    id: d.id,
    code: d.code,
    procedureCode: d.procedure_code,
    agency: d.agency,
    status: d.status,
    statusLabel: STATUS_LABEL_VI[d.status as DossierStatus] ?? d.status,
    channel: d.channel,
    applicantName: typeof d.applicant?.name === 'string' ? d.applicant.name : null,
    submittedAt: d.submitted_at,
    appointmentAt: d.appointment_at ?? null,
    finishedAt: d.finished_at,
    // Finished: the stored outcome (it also counts more than one supplement request as late).
    deadlineState: (d.finished_at && d.outcome) || dossierDeadlineView(d),
    workingMinutesLeft: i.workingMinutesLeft,
  }
}

export function boardTaskDto(i: { task: LateTask; workingMinutesLeft: number | null }) {
  const t = i.task
  return {
    id: t.id,
    dossierId: t.dossier_id,
    dossierCode: t.dossier_code,
    procedureCode: t.procedure_code,
    agency: t.agency,
    activityId: t.activity_id,
    name: t.name,
    assignee: t.assignee,
    candidateGroups: t.candidate_groups,
    dueAt: t.due_at,
    appointmentAt: t.appointment_at,
    deadlineState: taskDeadlineView(t),
    workingMinutesLeft: i.workingMinutesLeft,
  }
}

const DEADLINE_VI: Record<string, string> = {
  on_track: 'Trong hạn',
  due_soon: 'Sắp đến hạn',
  overdue: 'Quá hạn',
  early: 'Trước hạn',
  on_time: 'Đúng hạn',
  late: 'Quá hạn',
  none: '',
}
const CHANNEL_VI: Record<string, string> = { counter: 'Trực tiếp', online: 'Trực tuyến', post: 'Bưu chính công ích' }

const DOSSIER_COLUMNS: Column<ReturnType<typeof boardDossierDto>>[] = [
  { header: 'Mã hồ sơ', value: (r) => r.code },
  { header: 'Mã thủ tục', value: (r) => r.procedureCode },
  { header: 'Cơ quan', value: (r) => r.agency },
  { header: 'Trạng thái', value: (r) => r.statusLabel },
  { header: 'Kênh nộp', value: (r) => CHANNEL_VI[CHANNEL_NAME[r.channel as Channel]] ?? String(r.channel) },
  { header: 'Người nộp', value: (r) => r.applicantName },
  { header: 'Ngày nộp', value: (r) => vietnamDateTime(r.submittedAt) },
  { header: 'Ngày hẹn trả', value: (r) => vietnamDateTime(r.appointmentAt) },
  { header: 'Ngày kết thúc xử lý', value: (r) => vietnamDateTime(r.finishedAt) },
  { header: 'Tình trạng hạn', value: (r) => DEADLINE_VI[r.deadlineState] ?? r.deadlineState },
  { header: 'Thời gian làm việc còn lại (phút)', value: (r) => r.workingMinutesLeft },
]

const TASK_COLUMNS: Column<ReturnType<typeof boardTaskDto>>[] = [
  { header: 'Mã hồ sơ', value: (r) => r.dossierCode },
  { header: 'Mã thủ tục', value: (r) => r.procedureCode },
  { header: 'Cơ quan', value: (r) => r.agency },
  { header: 'Bước xử lý', value: (r) => r.name },
  { header: 'Mã bước', value: (r) => r.activityId },
  { header: 'Người xử lý', value: (r) => r.assignee },
  { header: 'Nhóm xử lý', value: (r) => r.candidateGroups.join('; ') },
  { header: 'Hạn xử lý bước', value: (r) => vietnamDateTime(r.dueAt) },
  { header: 'Ngày hẹn trả', value: (r) => vietnamDateTime(r.appointmentAt) },
  { header: 'Tình trạng hạn', value: (r) => DEADLINE_VI[r.deadlineState] ?? r.deadlineState },
  { header: 'Thời gian làm việc còn lại (phút)', value: (r) => r.workingMinutesLeft },
]

type ReportLine = Awaited<ReturnType<BoardService['report']>>['rows'][number]
const reportColumns = (by: 'agency' | 'procedure'): Column<ReportLine>[] => [
  { header: by === 'agency' ? 'Cơ quan' : 'Mã thủ tục', value: (r) => r.key },
  { header: 'Kỳ trước chuyển qua', value: (r) => r.carried_over },
  { header: 'Tiếp nhận trong kỳ', value: (r) => r.received },
  { header: 'Trực tuyến', value: (r) => r.online },
  { header: 'Trực tiếp', value: (r) => r.counter },
  { header: 'Bưu chính công ích', value: (r) => r.postal },
  { header: 'Đã giải quyết', value: (r) => r.resolved },
  { header: 'Trước hạn', value: (r) => r.resolved_early },
  { header: 'Đúng hạn', value: (r) => r.resolved_on_time },
  { header: 'Quá hạn', value: (r) => r.resolved_late },
  { header: 'Đang giải quyết cuối kỳ', value: (r) => r.in_progress },
]

interface IndicatorLine {
  name: string
  numerator: number
  denominator: number
  rate: number | null
}
const INDICATOR_COLUMNS: Column<IndicatorLine>[] = [
  { header: 'Chỉ số', value: (r) => r.name },
  { header: 'Tử số', value: (r) => r.numerator },
  { header: 'Mẫu số', value: (r) => r.denominator },
  { header: 'Tỷ lệ (%)', value: (r) => (r.rate === null ? null : Math.round(r.rate * 10_000) / 100) },
]

async function* mapped<A, B>(source: AsyncIterable<A[]>, f: (a: A) => B): AsyncIterable<B[]> {
  for await (const batch of source) yield batch.map(f)
}
async function* once<T>(rows: T[]): AsyncIterable<T[]> {
  yield rows
}

function send<T>(
  reply: FastifyReply,
  format: ExportFormat,
  file: { name: string; sheet: string },
  columns: Column<T>[],
  batches: AsyncIterable<T[]>,
) {
  return reply
    .header('content-type', CONTENT_TYPE[format])
    .header('content-disposition', `attachment; filename="${file.name}.${format}"`)
    .send(exportStream(format, file.sheet, columns, batches))
}

/** The console's data: Today, the lists behind its figures, late steps, step counts, the periodic report, and their exports. */
export function boardRoutes(app: Api, opts: { board: BoardService; supervision: SupervisionService }) {
  const { board } = opts
  app.get('/supervision/today', { schema: todaySchema }, async (req) => board.today(req.principal, req.query))

  app.get('/supervision/dossiers', { schema: boardDossiersSchema }, async (req) => {
    const page = await board.dossiers(req.principal, req.query)
    return { items: page.items.map(boardDossierDto), nextCursor: page.next && encode(page.next) }
  })

  app.get('/supervision/tasks', { schema: boardTasksSchema }, async (req) => {
    const page = await board.tasks(req.principal, req.query)
    return { items: page.items.map(boardTaskDto), nextCursor: page.next && encode(page.next) }
  })

  app.get('/supervision/steps', { schema: stepCountsSchema }, async (req) => board.steps(req.principal, req.query))

  app.get('/supervision/report', { schema: reportSchema }, async (req) => board.report(req.principal, req.query))

  app.get('/supervision/export/dossiers', { schema: exportDossiersSchema }, async (req, reply) => {
    const { format, ...q } = req.query
    const batches = await primed(board.allDossiers(req.principal, q))
    return send(reply, format, { name: `ho-so-${q.figure}`, sheet: 'Hồ sơ' }, DOSSIER_COLUMNS, mapped(batches, boardDossierDto))
  })

  app.get('/supervision/export/tasks', { schema: exportTasksSchema }, async (req, reply) => {
    const { format, ...q } = req.query
    const batches = await primed(board.allTasks(req.principal, q))
    return send(reply, format, { name: `buoc-xu-ly-${q.state}`, sheet: 'Bước xử lý' }, TASK_COLUMNS, mapped(batches, boardTaskDto))
  })

  app.get('/supervision/export/report', { schema: exportReportSchema }, async (req, reply) => {
    const { format, ...q } = req.query
    board.authorizeExport(req.principal, q)
    const r = await board.report(req.principal, q)
    const rows = [...r.rows, { key: 'Tổng cộng', ...r.total }]
    return send(
      reply,
      format,
      { name: `bao-cao-tthc-${r.period.from}-${r.period.to}`, sheet: 'Báo cáo' },
      reportColumns(q.groupBy),
      once(rows),
    )
  })

  app.get('/supervision/export/indicators', { schema: exportIndicatorsSchema }, async (req, reply) => {
    const { format, ...q } = req.query
    board.authorizeExport(req.principal, q)
    const i = await opts.supervision.indicators(req.principal, q)
    const line = (name: string, numerator: number, denominator: number, rate: number | null): IndicatorLine => ({
      name,
      numerator,
      denominator,
      rate,
    })
    const rows = [
      line('Hồ sơ giải quyết trước hạn, đúng hạn (2.1)', i.onTime.onTime, i.onTime.finished, i.onTime.rate),
      line('Hồ sơ giải quyết trước hạn', i.early.early, i.early.finished, i.early.rate),
      line('Hồ sơ nộp trực tuyến (3.3)', i.onlineDossiers.online, i.onlineDossiers.received, i.onlineDossiers.rate),
      line('Hồ sơ nộp qua bưu chính công ích', i.postalDossiers.postal, i.postalDossiers.received, i.postalDossiers.rate),
      line('Thủ tục trực tuyến toàn trình (3.1)', i.level4Procedures.level4, i.level4Procedures.procedures, i.level4Procedures.rate),
      line('Thủ tục có dịch vụ công trực tuyến', i.onlineProcedures.online, i.onlineProcedures.procedures, i.onlineProcedures.rate),
      line('Hồ sơ thanh toán trực tuyến (3.6)', i.paidOnline.paidOnline, i.paidOnline.received, i.paidOnline.rate),
      line('Hồ sơ trả kết quả điện tử (4.1)', i.electronicResults.electronic, i.electronicResults.returned, i.electronicResults.rate),
      line('Hồ sơ số hóa (4.2)', i.digitised.digitised, i.digitised.received, i.digitised.rate),
      line('Mức độ hài lòng (5.4)', i.satisfaction.satisfied, i.satisfaction.evaluated, i.satisfaction.rate),
    ]
    return send(reply, format, { name: `chi-so-766-${q.from}-${q.to}`, sheet: 'Chỉ số 766' }, INDICATOR_COLUMNS, once(rows))
  })
}

function encode(p: { k: string; id: string }) {
  return Buffer.from(JSON.stringify(p)).toString('base64url')
}
