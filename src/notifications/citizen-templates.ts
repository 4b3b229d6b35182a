import { vietnamClock, vietnamDate, vietnamDateTime } from '../calendar/vietnam-time.ts'

/** The events the applicant (người nộp hồ sơ) is told about, one template each (docs/notifications.md). */
export const CITIZEN_EVENTS = ['receipt', 'supplement_request', 'result_ready', 'apology', 'payment_request'] as const
export type CitizenEvent = (typeof CITIZEN_EVENTS)[number]

/** What every template gets; each template also names the fields of its own it cannot do without. */
export interface TemplateData {
  code?: string
  procedureName?: string
  applicantName?: string
  /** receipt: the appointment (ngày hẹn trả), null for a procedure without a time limit. */
  appointmentAt?: string | null
  /** supplement_request */
  items?: Array<{ code: string; name: string }>
  reason?: string
  deadlineAt?: string | null
  /** result_ready: the channel the dossier came by (1 counter, 2 online, 3 post), and the postal address. */
  channel?: number
  postalAddress?: string | null
  /** apology (Mẫu 04) */
  newAppointmentAt?: string
  previousAppointmentAt?: string
  /** payment_request */
  amount?: number
  reference?: string
  purpose?: 'fee' | 'obligation'
}

export interface RenderedMessage {
  subject: string
  text: string
  html: string
  /** The short text for SMS. */
  sms: string
}

/** A template asked for a field the event did not carry: nothing is sent with a hole in it. */
export class TemplateDataMissing extends Error {
  constructor(
    readonly event: CitizenEvent,
    readonly missing: string[],
  ) {
    super(`mẫu thông báo "${event}" thiếu dữ liệu: ${missing.join(', ')}`)
  }
}

/** The fields each template cannot do without. */
export const TEMPLATE_NEEDS: Record<CitizenEvent, ReadonlyArray<keyof TemplateData>> = {
  receipt: ['code', 'procedureName', 'applicantName'],
  supplement_request: ['code', 'procedureName', 'applicantName', 'items', 'reason'],
  result_ready: ['code', 'procedureName', 'applicantName', 'channel'],
  apology: ['code', 'procedureName', 'applicantName', 'newAppointmentAt', 'reason'],
  payment_request: ['code', 'procedureName', 'applicantName', 'amount', 'reference'],
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

/** "HH:MM ngày dd/mm/yyyy" in Vietnam time. */
const when = (iso: string) => `${vietnamClock(iso)} ngày ${vietnamDate(iso)}`

/** 1500000 → "1.500.000 đồng". */
export const formatDong = (n: number) => `${String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, '.')} đồng`

/** The public lookup page of a dossier. */
export const lookupLink = (publicBaseUrl: string, code: string) => `${publicBaseUrl}/public/lookup?code=${encodeURIComponent(code)}`

/** A message as paragraphs: plain text joins them, HTML escapes every value and wraps each in <p> (a list as <ul>). */
type Block = string | { list: string[] } | { link: string }

function compose(subject: string, greeting: string, blocks: Block[], sms: string): RenderedMessage {
  const closing = 'Trân trọng,\nBộ phận Một cửa'
  const text = [
    greeting,
    ...blocks.map((b) => (typeof b === 'string' ? b : 'list' in b ? b.list.map((i) => `- ${i}`).join('\n') : b.link)),
    closing,
  ].join('\n\n')
  const html = [
    `<p>${escapeHtml(greeting)}</p>`,
    ...blocks.map((b) =>
      typeof b === 'string'
        ? `<p>${escapeHtml(b)}</p>`
        : 'list' in b
          ? `<ul>${b.list.map((i) => `<li>${escapeHtml(i)}</li>`).join('')}</ul>`
          : `<p><a href="${escapeHtml(b.link)}">${escapeHtml(b.link)}</a></p>`,
    ),
    `<p>Trân trọng,<br>Bộ phận Một cửa</p>`,
  ].join('\n')
  return { subject, text, html: `<!doctype html><html lang="vi"><body>\n${html}\n</body></html>`, sms }
}

/** Plain Vietnamese texts of the five messages. Throws `TemplateDataMissing` rather than print a placeholder. */
export function renderCitizenMessage(event: CitizenEvent, d: TemplateData, opts: { publicBaseUrl: string }): RenderedMessage {
  const missing = TEMPLATE_NEEDS[event].filter((k) => {
    const v = d[k]
    return v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)
  })
  if (missing.length) throw new TemplateDataMissing(event, missing)
  const code = d.code!
  const link = lookupLink(opts.publicBaseUrl, code)
  const greeting = `Kính gửi ông/bà ${d.applicantName!},`
  const lookup = [`Tra cứu tình trạng hồ sơ tại:`, { link }] as Block[]
  switch (event) {
    case 'receipt':
      return compose(
        `Tiếp nhận hồ sơ ${code}`,
        greeting,
        [
          `Hồ sơ thủ tục "${d.procedureName!}" của ông/bà đã được tiếp nhận với mã hồ sơ ${code}.`,
          d.appointmentAt
            ? `Ngày hẹn trả kết quả: ${when(d.appointmentAt)} (giờ Việt Nam).`
            : 'Thủ tục không quy định thời hạn giải quyết; cơ quan sẽ thông báo khi có kết quả.',
          ...lookup,
        ],
        d.appointmentAt
          ? `Ho so ${code} da duoc tiep nhan. Hen tra ket qua ${vietnamDateTime(d.appointmentAt)}. Tra cuu: ${link}`
          : `Ho so ${code} da duoc tiep nhan. Tra cuu: ${link}`,
      )
    case 'supplement_request':
      return compose(
        `Yêu cầu bổ sung hồ sơ ${code}`,
        greeting,
        [
          `Hồ sơ ${code} (thủ tục "${d.procedureName!}") cần được bổ sung, hoàn thiện. Lý do: ${d.reason!}`,
          'Đề nghị ông/bà bổ sung một lần đầy đủ các giấy tờ sau:',
          { list: d.items!.map((i) => i.name) },
          d.deadlineAt
            ? `Thời hạn bổ sung: trước ${when(d.deadlineAt)}.`
            : 'Thời gian chờ bổ sung không tính vào thời hạn giải quyết hồ sơ.',
          ...lookup,
        ],
        `Ho so ${code} can bo sung: ${d.items!.map((i) => i.code).join(', ')}. Chi tiet da gui qua email hoac tra cuu: ${link}`,
      )
    case 'result_ready': {
      const how =
        d.channel === 3
          ? `Kết quả sẽ được gửi qua dịch vụ bưu chính công ích${d.postalAddress ? ` tới địa chỉ: ${d.postalAddress}` : ' tới địa chỉ ông/bà đã đăng ký'}.`
          : d.channel === 2
            ? 'Ông/bà nhận kết quả điện tử trên Cổng Dịch vụ công, hoặc nhận bản giấy tại Bộ phận Một cửa khi có yêu cầu.'
            : 'Ông/bà vui lòng đến Bộ phận Một cửa nơi đã nộp hồ sơ để nhận kết quả, mang theo Giấy tiếp nhận hồ sơ và hẹn trả kết quả và giấy tờ tùy thân.'
      return compose(
        `Hồ sơ ${code} đã có kết quả`,
        greeting,
        [`Hồ sơ ${code} (thủ tục "${d.procedureName!}") đã được giải quyết xong.`, how, ...lookup],
        `Ho so ${code} da co ket qua. Tra cuu: ${link}`,
      )
    }
    case 'apology':
      return compose(
        `Thư xin lỗi và hẹn lại ngày trả kết quả hồ sơ ${code}`,
        greeting,
        [
          `Cơ quan giải quyết thành thật xin lỗi ông/bà vì hồ sơ ${code} (thủ tục "${d.procedureName!}") chưa thể trả kết quả đúng hẹn${d.previousAppointmentAt ? ` (ngày hẹn cũ ${when(d.previousAppointmentAt)})` : ''}.`,
          `Lý do: ${d.reason!}`,
          `Ngày hẹn trả kết quả mới: ${when(d.newAppointmentAt!)} (giờ Việt Nam).`,
          ...lookup,
        ],
        `Xin loi ong/ba: ho so ${code} cham tra ket qua. Hen lai ${vietnamDateTime(d.newAppointmentAt!)}. Tra cuu: ${link}`,
      )
    case 'payment_request':
      return compose(
        `Yêu cầu thanh toán cho hồ sơ ${code}`,
        greeting,
        [
          `Hồ sơ ${code} (thủ tục "${d.procedureName!}") có khoản ${d.purpose === 'obligation' ? 'nghĩa vụ tài chính' : 'phí, lệ phí'} cần thanh toán: ${formatDong(d.amount!)}.`,
          `Mã thanh toán: ${d.reference!}`,
          'Ông/bà thanh toán trực tuyến qua Nền tảng thanh toán trên Cổng Dịch vụ công (mục "Thanh toán" của hồ sơ), hoặc nộp tại Bộ phận Một cửa và ghi rõ mã thanh toán.',
          ...lookup,
        ],
        `Ho so ${code} can thanh toan ${formatDong(d.amount!).replace('đồng', 'dong')}, ma ${d.reference!}. Tra cuu: ${link}`,
      )
  }
}
