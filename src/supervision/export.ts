import { PassThrough, Readable } from 'node:stream'
import ExcelJS from 'exceljs'

/** One column of an export: its Vietnamese header and how a row gives its value. */
export interface Column<T> {
  header: string
  value: (row: T) => string | number | null | undefined
}

export type ExportFormat = 'csv' | 'xlsx'

export const CONTENT_TYPE: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
}

const csvCell = (v: string | number | null | undefined) => {
  if (v === null || v === undefined) return ''
  const s = String(v)
  // Quoted when needed; a leading = + - @ is prefixed so a spreadsheet never runs it as a formula.
  const safe = /^[=+\-@]/.test(s) && typeof v === 'string' ? `'${s}` : s
  return /[",\r\n;]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe
}

/**
 * A streamed export of batches of rows (CSV with a BOM so spreadsheets read UTF-8, or XLSX written by
 * exceljs' streaming WorkbookWriter): each batch is written and dropped before the next one is read.
 */
export function exportStream<T>(format: ExportFormat, sheet: string, columns: Column<T>[], batches: AsyncIterable<T[]>): Readable {
  if (format === 'csv') {
    return Readable.from(
      (async function* () {
        yield '\uFEFF' + columns.map((c) => csvCell(c.header)).join(',') + '\r\n'
        for await (const batch of batches) {
          let chunk = ''
          for (const row of batch) chunk += columns.map((c) => csvCell(c.value(row))).join(',') + '\r\n'
          yield chunk
        }
      })(),
    )
  }
  const out = new PassThrough()
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: false, useSharedStrings: false })
  const ws = workbook.addWorksheet(sheet)
  ws.columns = columns.map((c) => ({ header: c.header, width: Math.max(12, c.header.length + 2) }))
  void (async () => {
    try {
      for await (const batch of batches) {
        for (const row of batch) ws.addRow(columns.map((c) => c.value(row) ?? null)).commit()
        // Let the zip stream drain before the next batch is read.
        if (out.writableNeedDrain) await new Promise((r) => out.once('drain', r))
      }
      ws.commit()
      await workbook.commit()
    } catch (err) {
      out.destroy(err as Error)
    }
  })()
  return out
}

/** Starts an async iteration and reads its first element, so that errors (validation, authorization) surface before a reply streams. */
export async function primed<T>(source: AsyncIterable<T>): Promise<AsyncIterable<T>> {
  const it = source[Symbol.asyncIterator]()
  const first = await it.next()
  return {
    [Symbol.asyncIterator]: () => {
      let sentFirst = false
      return {
        next: () => {
          if (!sentFirst) {
            sentFirst = true
            return Promise.resolve(first)
          }
          return it.next()
        },
        return: (v?: unknown) => it.return?.(v) ?? Promise.resolve({ done: true, value: undefined }),
      } as AsyncIterator<T>
    },
  }
}
