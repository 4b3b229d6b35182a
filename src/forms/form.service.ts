import type { Db } from '../db/knex.ts'
import { AppError } from '../errors.ts'
import { hasRole, type Principal } from '../auth/principal.ts'
import type { DossierService } from '../dossiers/dossier.service.ts'
import type { DossierRow } from '../records/dossier.repository.ts'
import { STATUS_LABEL_VI, type DossierStatus } from '../records/statuses.ts'
import type { ProcedureVersionCache } from '../procedures/version-cache.ts'
import type { ProcedureMetadata } from '../procedures/metadata.ts'
import { renderForm, type FormContent } from './pdf-writer.ts'
import { vietnamDate, vietnamDateTime } from '../calendar/vietnam-time.ts'
import { deadlineOutcome } from '../deadlines/outcome.ts'

/** Forms of TT01/2018/TT-VPCP generated per dossier (Mẫu 01–05); Mẫu 06 is the agency's register. */
export const DOSSIER_FORMS = ['mau-01', 'mau-02', 'mau-03', 'mau-04', 'mau-05'] as const
export type DossierForm = (typeof DOSSIER_FORMS)[number]

const vnDate = vietnamDate
const vnTime = vietnamDateTime
const money = (n: number) => `${n.toLocaleString('vi-VN')} đồng`
const UNIT_LABEL: Record<ProcedureMetadata['timeLimitUnit'], string> = {
  workingDays: 'ngày làm việc',
  calendarDays: 'ngày',
  hours: 'giờ làm việc',
  months: 'tháng',
}
const CHANNEL_LABEL: Record<number, string> = { 1: 'Trực tiếp', 2: 'Trực tuyến', 3: 'Bưu chính công ích' }

const OUTCOME_LABEL = { early: 'Trước hạn', on_time: 'Đúng hạn', late: 'Quá hạn' } as const

/** Timeliness of a step against its due date, compared by date (docs/domain.md#timeliness-by-date; the same outcome the API shows). */
export function timeliness(doneAt: Date | string, dueAt: Date | string | null): 'Trước hạn' | 'Đúng hạn' | 'Quá hạn' | '' {
  return dueAt ? OUTCOME_LABEL[deadlineOutcome(doneAt, dueAt)] : ''
}

interface HistoryRow<D = Record<string, unknown>> {
  action: string
  actor: string
  details: D
  at: Date
  activity_id: string | null
}
/** The details our own services write with each history action that a form prints. */
interface DetailsOf {
  'deadline.appointment_set': { timeLimit?: number | null }
  'lifecycle.supplement_requested': { reason: string; items: Array<{ name: string }> }
  'lifecycle.refused': { stage?: string; reasons: string[] }
  'deadline.extended': { from: string; to: string; reason: string }
}

export function createFormService(deps: { db: Db; dossiers: DossierService; versions: ProcedureVersionCache; lookupUrl: string }) {
  const { db } = deps
  const qr = (d: DossierRow) => `${deps.lookupUrl}?ma=${encodeURIComponent(d.code)}`
  const applicantLines = (d: DossierRow): Array<[string, string]> => {
    const a = d.applicant as Record<string, string>
    return [
      ['Người nộp hồ sơ', a.name ?? ''],
      ['Địa chỉ', a.address ?? ''],
      ['Số điện thoại', a.phone ?? ''],
      ['Thư điện tử', a.email ?? ''],
    ]
  }
  const last = <A extends keyof DetailsOf>(h: HistoryRow[], action: A) =>
    [...h].reverse().find((e) => e.action === action) as HistoryRow<DetailsOf[A]> | undefined

  async function content(form: DossierForm, d: DossierRow, meta: ProcedureMetadata, history: HistoryRow[]): Promise<FormContent> {
    const base = { size: 'A5' as const, agency: meta.agency, qrUrl: qr(d) }
    switch (form) {
      case 'mau-01': {
        if (!d.appointment_at) throw new AppError('FORM_NOT_AVAILABLE', 'Mẫu 01 chỉ có khi hồ sơ đã được tiếp nhận')
        const limit = last(history, 'deadline.appointment_set')?.details?.timeLimit ?? meta.timeLimit
        return {
          ...base,
          title: 'GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ',
          subtitle: 'Mẫu 01 - Thông tư 01/2018/TT-VPCP',
          lines: [
            ['Mã hồ sơ', d.code],
            ['Thủ tục hành chính', `${meta.name} (${meta.code})`],
            ...applicantLines(d),
            ['Hình thức nộp', CHANNEL_LABEL[d.channel] ?? ''],
            ['Thời hạn giải quyết', limit === null ? '' : `${limit} ${UNIT_LABEL[meta.timeLimitUnit]}`],
            ['Thời gian nhận hồ sơ', vnTime(d.received_at)],
            ['Thời gian trả kết quả', vnTime(d.appointment_at)],
            ['Phí, lệ phí', meta.fees.length ? meta.fees.map((f) => `${f.name}: ${money(f.amount)}`).join('; ') : 'Không thu'],
            ['Nơi trả kết quả', 'Bộ phận Một cửa, hoặc trực tuyến / qua bưu chính công ích theo đăng ký của người nộp'],
          ],
          table: {
            headers: ['STT', 'Tên giấy tờ', 'Bắt buộc', 'Số lượng'],
            widths: [1, 8, 2, 2],
            rows: meta.documents.map((doc, i) => [String(i + 1), doc.name, doc.required ? 'Có' : 'Không', String(doc.copies)]),
          },
          footer: [
            'Người nộp hồ sơ                                   Người tiếp nhận hồ sơ',
            '(Ký và ghi rõ họ tên)                              (Ký và ghi rõ họ tên)',
          ],
        }
      }
      case 'mau-02': {
        const e = last(history, 'lifecycle.supplement_requested')
        if (!e) throw new AppError('FORM_NOT_AVAILABLE', 'Hồ sơ chưa có yêu cầu bổ sung')
        return {
          ...base,
          title: 'PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ',
          subtitle: 'Mẫu 02 - Thông tư 01/2018/TT-VPCP',
          lines: [
            ['Mã hồ sơ', d.code],
            ['Thủ tục hành chính', meta.name],
            ...applicantLines(d).slice(0, 1),
            ['Lý do', e.details.reason],
            'Đề nghị ông/bà bổ sung, hoàn thiện một lần đầy đủ các giấy tờ sau:',
          ],
          table: {
            headers: ['STT', 'Giấy tờ cần bổ sung, hoàn thiện'],
            widths: [1, 10],
            rows: e.details.items.map((it, i) => [String(i + 1), it.name]),
          },
          footer: [`Ngày ${vnDate(e.at)} - Người hướng dẫn: ${e.actor}`],
        }
      }
      case 'mau-03': {
        const e = last(history, 'lifecycle.refused')
        if (!e) throw new AppError('FORM_NOT_AVAILABLE', 'Hồ sơ không bị từ chối')
        return {
          ...base,
          title: 'PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ',
          subtitle: 'Mẫu 03 - Thông tư 01/2018/TT-VPCP',
          lines: [
            ['Mã hồ sơ', d.code],
            ['Thủ tục hành chính', meta.name],
            ...applicantLines(d).slice(0, 1),
            `Cơ quan ${e.details.stage === 'appraisal' ? 'giải quyết' : 'tiếp nhận'} từ chối ${e.details.stage === 'appraisal' ? 'giải quyết' : 'tiếp nhận'} hồ sơ với lý do sau:`,
            ...e.details.reasons.map((r, i) => `${i + 1}. ${r}`),
          ],
          footer: [`Ngày ${vnDate(e.at)} - Người lập phiếu: ${e.actor}`, 'Xin trân trọng thông báo!'],
        }
      }
      case 'mau-04': {
        const e = last(history, 'deadline.extended')
        if (!e) throw new AppError('FORM_NOT_AVAILABLE', 'Hồ sơ chưa có văn bản xin lỗi và hẹn lại ngày trả')
        return {
          ...base,
          title: 'PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ',
          subtitle: 'Mẫu 04 - Thông tư 01/2018/TT-VPCP',
          lines: [
            ['Mã hồ sơ', d.code],
            ['Thủ tục hành chính', meta.name],
            ...applicantLines(d).slice(0, 1),
            ['Ngày tiếp nhận', vnTime(d.received_at)],
            ['Hẹn trả kết quả', vnTime(e.details.from)],
            ['Lý do chậm trễ', e.details.reason],
            `Cơ quan giải quyết xin lỗi ông/bà vì sự chậm trễ này và xin hẹn lại ngày trả kết quả vào ${vnTime(e.details.to)}.`,
          ],
          footer: ['Thủ trưởng cơ quan giải quyết (Ký, ghi rõ họ tên và đóng dấu)'],
        }
      }
      case 'mau-05': {
        const tasks = await db('tasks')
          .where({ dossier_id: d.id, status: 'completed' })
          .orderBy('completed_at')
          .select('name', 'candidate_groups', 'completed_by', 'completed_at', 'due_at')
        if (!tasks.length) throw new AppError('FORM_NOT_AVAILABLE', 'Hồ sơ chưa có bước xử lý nào hoàn thành')
        let from = `Người nộp (${(d.applicant as { name?: string }).name ?? ''})`
        const rows = (
          tasks as Array<{ name: string; candidate_groups: string[] | null; completed_by: string; completed_at: Date; due_at: Date | null }>
        ).map((t) => {
          const row = [
            `${t.name}`,
            from,
            `${t.completed_by} (${(t.candidate_groups ?? []).join(', ')})`,
            vnTime(t.completed_at),
            timeliness(t.completed_at, t.due_at),
            t.due_at ? `Hạn ${vnTime(t.due_at)}` : '',
          ]
          from = t.completed_by
          return row
        })
        return {
          ...base,
          title: 'PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ',
          subtitle: 'Mẫu 05 - Thông tư 01/2018/TT-VPCP',
          lines: [
            ['Mã hồ sơ', d.code],
            ['Thủ tục hành chính', meta.name],
            ['Ngày nhận', vnTime(d.received_at)],
            ['Hẹn trả', vnTime(d.appointment_at)],
            ['Trạng thái', STATUS_LABEL_VI[d.status as DossierStatus] ?? d.status],
          ],
          table: {
            headers: ['Bước xử lý', 'Bên giao', 'Bên nhận', 'Thời gian giao, nhận', 'Kết quả', 'Ghi chú'],
            widths: [4, 3, 3, 3, 2, 3],
            rows,
          },
        }
      }
    }
  }

  return {
    async dossierForm(p: Principal, dossierId: string, form: DossierForm): Promise<Buffer> {
      const { dossier: d, history } = await deps.dossiers.get(p, dossierId)
      const version = await deps.versions.get(db, d.procedure_version_id)
      return renderForm(await content(form, d, version.metadata, history as HistoryRow[]))
    },

    /** Mẫu 06 — the register (sổ theo dõi hồ sơ) of the caller's agency between two receipt dates (A4 landscape). */
    async register(p: Principal, from: string, to: string): Promise<Buffer> {
      if (!hasRole(p, 'officer', 'supervisor', 'admin')) throw new AppError('FORBIDDEN', 'Chỉ cán bộ xem được sổ theo dõi hồ sơ')
      const start = new Date(`${from}T00:00:00+07:00`),
        end = new Date(`${to}T23:59:59.999+07:00`)
      if (
        Number.isNaN(start.getTime()) ||
        Number.isNaN(end.getTime()) ||
        end < start ||
        end.getTime() - start.getTime() > 366 * 86_400_000
      ) {
        throw new AppError('VALIDATION_FAILED', 'Khoảng ngày không hợp lệ (from ≤ to, tối đa một năm)')
      }
      const q = db<DossierRow>('dossiers')
        .whereBetween('submitted_at', [start, end])
        .orderBy([{ column: 'submitted_at' }, { column: 'code' }])
        .limit(5000)
      if (!hasRole(p, 'admin')) q.where({ agency: p.agency })
      const rows = await q
      const transfers = new Map(
        (
          (await db('history')
            .whereIn(
              'dossier_id',
              rows.map((r) => r.id),
            )
            .where({ action: 'lifecycle.transferred' })
            .select('dossier_id', 'at')) as Array<{ dossier_id: string; at: Date }>
        ).map((h) => [h.dossier_id, h.at]),
      )
      return renderForm({
        size: 'A4',
        layout: 'landscape',
        agency: hasRole(p, 'admin') ? 'Tất cả cơ quan' : p.agency,
        qrUrl: deps.lookupUrl,
        title: 'SỔ THEO DÕI HỒ SƠ',
        subtitle: `Mẫu 06 - Thông tư 01/2018/TT-VPCP — từ ngày ${vnDate(start)} đến ngày ${vnDate(end)}`,
        lines: [['Số hồ sơ', String(rows.length)]],
        table: {
          headers: [
            'STT',
            'Mã hồ sơ',
            'Thủ tục',
            'Người nộp',
            'Địa chỉ, điện thoại',
            'Cơ quan chủ trì',
            'Ngày nhận',
            'Hẹn trả',
            'Ngày chuyển',
            'Ngày có kết quả',
            'Ngày trả',
            'Ghi chú',
          ],
          widths: [1, 7, 3, 3, 4, 3, 3, 3, 3, 3, 3, 3],
          rows: rows.map((d, i) => {
            const a = d.applicant as Record<string, string>
            return [
              String(i + 1),
              d.code,
              d.procedure_code,
              a.name ?? '',
              [a.address, a.phone].filter(Boolean).join(', '),
              d.agency,
              vnDate(d.received_at ?? d.submitted_at),
              vnDate(d.appointment_at),
              vnDate(transfers.get(d.id)),
              vnDate(d.finished_at),
              vnDate(d.returned_at),
              STATUS_LABEL_VI[d.status as DossierStatus] ?? d.status,
            ]
          }),
        },
      })
    },
  }
}
export type FormService = ReturnType<typeof createFormService>
