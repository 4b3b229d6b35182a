import { SMTPServer } from 'smtp-server'
import type { AddressInfo } from 'node:net'
import type { Teardown } from './context.ts'

/** A received mail, parsed as far as the tests read it. */
export interface ReceivedMail {
  raw: string
  headers: Record<string, string>
  subject: string
  to: string
  messageId: string
  text: string
  html: string
}

function decodeQuotedPrintable(s: string): string {
  const flat = s.replace(/=\r?\n/g, '')
  const out: number[] = []
  for (let i = 0; i < flat.length; i++) {
    if (flat[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(flat.slice(i + 1, i + 3))) {
      out.push(parseInt(flat.slice(i + 1, i + 3), 16))
      i += 2
    } else out.push(...Buffer.from(flat[i]!, 'utf8'))
  }
  return Buffer.from(out).toString('utf8')
}

/** RFC 2047 encoded words (=?UTF-8?Q?…?= / =?UTF-8?B?…?=), adjacent ones joined. */
function decodeHeader(v: string): string {
  return v
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?[^?]+\?([BbQq])\?([^?]*)\?=/g, (_, enc: string, body: string) =>
      enc.toUpperCase() === 'B' ? Buffer.from(body, 'base64').toString('utf8') : decodeQuotedPrintable(body.replace(/_/g, ' ')),
    )
}

function splitHead(part: string): { headers: Record<string, string>; body: string } {
  const at = part.indexOf('\r\n\r\n')
  const head = at < 0 ? part : part.slice(0, at)
  const body = at < 0 ? '' : part.slice(at + 4)
  const headers: Record<string, string> = {}
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const i = line.indexOf(':')
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim()
  }
  return { headers, body }
}

function decodeBody(headers: Record<string, string>, body: string): string {
  const enc = (headers['content-transfer-encoding'] ?? '').toLowerCase()
  if (enc === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
  if (enc === 'quoted-printable') return decodeQuotedPrintable(body)
  return body
}

export function parseMail(raw: string): ReceivedMail {
  const { headers, body } = splitHead(raw)
  let text = ''
  let html = ''
  const boundary = /boundary="?([^";]+)"?/i.exec(headers['content-type'] ?? '')?.[1]
  const parts = boundary ? body.split(`--${boundary}`).slice(1, -1) : [raw]
  for (const p of parts) {
    const part = splitHead(p.replace(/^\r\n/, ''))
    const type = part.headers['content-type'] ?? ''
    if (type.startsWith('text/plain')) text = decodeBody(part.headers, part.body)
    if (type.startsWith('text/html')) html = decodeBody(part.headers, part.body)
  }
  return {
    raw,
    headers,
    subject: decodeHeader(headers.subject ?? ''),
    to: headers.to ?? '',
    messageId: headers['message-id'] ?? '',
    text: text.replace(/\r\n/g, '\n'),
    html,
  }
}

/**
 * A real SMTP server on a free port that keeps what it accepts. `refuse(n)` (n: the 1-based number
 * of the transaction) answers 451 to MAIL FROM instead; `onMessage` runs before a message is accepted.
 */
export async function startSmtp(
  t: Teardown,
  opts: { refuse?: (n: number) => boolean; onMessage?: (mail: ReceivedMail) => void | Promise<void> } = {},
) {
  const mails: ReceivedMail[] = []
  let transactions = 0
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onMailFrom(_address, _session, cb) {
      transactions++
      if (opts.refuse?.(transactions)) {
        const err = new Error('Hệ thống thư tạm thời bận, thử lại sau') as Error & { responseCode: number }
        err.responseCode = 451
        return cb(err)
      }
      cb()
    },
    onData(stream, _session, cb) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        const mail = parseMail(Buffer.concat(chunks).toString('utf8'))
        void Promise.resolve(opts.onMessage?.(mail)).then(() => {
          mails.push(mail)
          cb()
        })
      })
    },
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>((r) => server.close(() => r())))
  const port = (server.server.address() as AddressInfo).port
  return { url: `smtp://127.0.0.1:${port}`, mails, transactions: () => transactions }
}
