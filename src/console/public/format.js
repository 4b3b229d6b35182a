// Vietnamese formats for the console's figures.
const dateTime = new Intl.DateTimeFormat('vi-VN', { dateStyle: 'short', timeStyle: 'short', timeZone: 'Asia/Ho_Chi_Minh' })
const number = new Intl.NumberFormat('vi-VN')

export const fmtDateTime = (v) => (v ? dateTime.format(new Date(v)) : '—')
export const fmtNumber = (v) => (v === null || v === undefined ? '—' : number.format(v))
export const fmtRate = (v) => (v === null || v === undefined ? '—' : `${(v * 100).toLocaleString('vi-VN', { maximumFractionDigits: 1 })} %`)

/** Working minutes as working days and hours (8 working hours a day); negative: overdue by. */
export function fmtWorkingTime(minutes) {
  if (minutes === null || minutes === undefined) return '—'
  const abs = Math.abs(minutes)
  const days = Math.floor(abs / 480)
  const hours = Math.floor((abs % 480) / 60)
  const mins = abs % 60
  const parts = []
  if (days) parts.push(`${days} ngày`)
  if (hours) parts.push(`${hours} giờ`)
  if (!days && mins) parts.push(`${mins} phút`)
  const text = parts.join(' ') || '0 phút'
  return minutes < 0 ? `quá ${text}` : `còn ${text}`
}

export const DEADLINE_STATES = {
  on_track: 'Trong hạn',
  due_soon: 'Sắp đến hạn',
  overdue: 'Quá hạn',
  early: 'Trước hạn',
  on_time: 'Đúng hạn',
  late: 'Trễ hạn',
  none: 'Không có hạn',
}

export const CHANNELS = { 1: 'Trực tiếp', 2: 'Trực tuyến', 3: 'Bưu chính công ích' }

/** Escapes text for HTML. */
export function esc(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c])
}

/** `html\`…\`` with every interpolated value escaped, except values made by `html` itself. */
export function html(strings, ...values) {
  let out = ''
  strings.forEach((s, i) => {
    out += s
    if (i < values.length) {
      const v = values[i]
      out += Array.isArray(v) ? v.map((x) => (x instanceof Safe ? x.text : esc(x))).join('') : v instanceof Safe ? v.text : esc(v)
    }
  })
  return new Safe(out)
}
class Safe {
  constructor(text) {
    this.text = text
  }
  toString() {
    return this.text
  }
}
