import { createRequire } from 'node:module'
import PDFDocument from 'pdfkit'
import QRCode from 'qrcode'

const require = createRequire(import.meta.url)
/** DejaVu covers every Vietnamese letter with its tone marks; embedded, so the text stays extractable. */
const FONT = require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf')
const FONT_BOLD = require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf')

export interface FormContent {
  size: 'A5' | 'A4'
  layout?: 'portrait' | 'landscape'
  title: string
  subtitle?: string
  /** The agency line at the top left (tên cơ quan). */
  agency: string
  lines: Array<[label: string, value: string] | string>
  table?: { headers: string[]; widths: number[]; rows: string[][] }
  footer?: string[]
  qrUrl: string
}

/** Renders one form as a PDF: national motto, agency, title, fields, optional table, QR code to the public lookup. */
export async function renderForm(c: FormContent): Promise<Buffer> {
  const qr = await QRCode.toBuffer(c.qrUrl, { errorCorrectionLevel: 'M', margin: 1, width: 160 })
  const doc = new PDFDocument({ size: c.size, layout: c.layout ?? 'portrait', margin: 36, info: { Title: c.title, Creator: 'dvc-bpmn' } })
  doc.registerFont('regular', FONT)
  doc.registerFont('bold', FONT_BOLD)
  const chunks: Buffer[] = []
  doc.on('data', (b: Buffer) => chunks.push(b))
  const done = new Promise<Buffer>((resolve) => doc.on('end', () => resolve(Buffer.concat(chunks))))
  const width = doc.page.width - 72

  doc
    .font('bold')
    .fontSize(8)
    .text(c.agency.toUpperCase(), 36, 36, { width: width / 2 })
  doc
    .font('bold')
    .fontSize(8)
    .text('CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM', 36 + width / 2, 36, { width: width / 2, align: 'center' })
  doc
    .font('regular')
    .fontSize(8)
    .text('Độc lập - Tự do - Hạnh phúc', { width: width / 2, align: 'center' })
  doc.image(qr, doc.page.width - 36 - 56, 70, { width: 56 })
  doc.moveDown(2.5)
  doc.font('bold').fontSize(12).text(c.title, 36, undefined, { width, align: 'center' })
  if (c.subtitle) doc.font('regular').fontSize(8).text(c.subtitle, { width, align: 'center' })
  doc.moveDown()
  for (const line of c.lines) {
    if (typeof line === 'string') doc.font('regular').fontSize(9).text(line, 36, undefined, { width })
    else
      doc
        .font('bold')
        .fontSize(9)
        .text(`${line[0]}: `, 36, undefined, { continued: true, width })
        .font('regular')
        .text(line[1] || '—')
    doc.moveDown(0.2)
  }
  if (c.table) {
    doc.moveDown(0.5)
    const t = c.table
    const total = t.widths.reduce((a, b) => a + b, 0)
    const cols = t.widths.map((w) => (w / total) * width)
    const row = (cells: string[], font: 'regular' | 'bold') => {
      doc.font(font).fontSize(7)
      const heights = cells.map((cell, i) => doc.heightOfString(cell || ' ', { width: cols[i]! - 4 }))
      const h = Math.max(...heights) + 4
      if (doc.y + h > doc.page.height - 48) doc.addPage()
      const y = doc.y
      let x = 36
      cells.forEach((cell, i) => {
        doc.rect(x, y, cols[i]!, h).stroke()
        doc.text(cell || ' ', x + 2, y + 2, { width: cols[i]! - 4 })
        x += cols[i]!
      })
      doc.x = 36
      doc.y = y + h
    }
    row(t.headers, 'bold')
    for (const r of t.rows) row(r, 'regular')
  }
  if (c.footer) {
    doc.moveDown()
    for (const f of c.footer) doc.font('regular').fontSize(8).text(f, 36, undefined, { width })
  }
  doc.moveDown(0.5)
  doc.font('regular').fontSize(7).text(`Tra cứu hồ sơ: ${c.qrUrl}`, 36, undefined, { width })
  doc.end()
  return done
}
