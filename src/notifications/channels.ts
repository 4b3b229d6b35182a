import { createHmac } from 'node:crypto'
import nodemailer from 'nodemailer'
import type { RenderedMessage } from './citizen-templates.ts'
import type { CitizenNotificationRow, NotifyChannel } from './citizen-notification.repository.ts'

/** One message to deliver: the row (its id is the idempotency key) and its rendered text. */
export interface Delivery {
  row: Pick<CitizenNotificationRow, 'id' | 'dossier_id' | 'event' | 'channel' | 'address' | 'data'>
  message: RenderedMessage
}

/** A way of reaching people. `send` resolves once the other side accepted the message; anything else throws. */
export interface ChannelAdapter {
  /** What the row records as the delivery's identifier (the mail's Message-ID, the gateway's key). */
  messageId(row: Delivery['row']): string
  send(d: Delivery): Promise<void>
}

/** `<cn-<row id>@<sender domain>>`: the same row always gets the same Message-ID, so a resend is recognisable. */
export function mailMessageId(rowId: string, mailFrom: string): string {
  const domain = /@([^>\s]+)>?\s*$/.exec(mailFrom)?.[1] ?? 'localhost'
  return `<cn-${rowId}@${domain}>`
}

/** Email through SMTP (nodemailer); `SMTP_URL` smtp://user:pass@host:port, or smtps:// for TLS from the start. */
export function createEmailAdapter(opts: { smtpUrl: string; mailFrom: string; timeoutMs: number }): ChannelAdapter & { close(): void } {
  const u = new URL(opts.smtpUrl)
  const transport = nodemailer.createTransport({
    host: u.hostname,
    port: Number(u.port || (u.protocol === 'smtps:' ? 465 : 587)),
    secure: u.protocol === 'smtps:',
    ...(u.username ? { auth: { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } } : {}),
    connectionTimeout: opts.timeoutMs,
    greetingTimeout: opts.timeoutMs,
    socketTimeout: opts.timeoutMs,
  })
  const messageId = (row: Delivery['row']) => mailMessageId(row.id, opts.mailFrom)
  return {
    messageId,
    async send({ row, message }) {
      await transport.sendMail({
        from: opts.mailFrom,
        to: row.address!,
        subject: message.subject,
        text: message.text,
        html: message.html,
        messageId: messageId(row),
        headers: { 'X-Dossier-Code': String(row.data.code ?? '') },
      })
    },
    close: () => transport.close(),
  }
}

async function post(url: string, body: string, headers: Record<string, string>, timeoutMs: number, what: string): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    signal: AbortSignal.timeout(timeoutMs),
  })
  await res.arrayBuffer().catch(() => undefined)
  if (!res.ok) throw new Error(`${what} answered ${res.status}`)
}

/** SMS through an HTTP gateway: JSON `{ to, text, reference }`, the row id as `Idempotency-Key` (a resend is the same message). */
export function createSmsAdapter(opts: { url: string; timeoutMs: number }): ChannelAdapter {
  return {
    messageId: (row) => `sms-${row.id}`,
    async send({ row, message }) {
      const body = JSON.stringify({ to: row.address, text: message.sms, reference: row.id })
      await post(opts.url, body, { 'idempotency-key': row.id }, opts.timeoutMs, 'SMS gateway')
    },
  }
}

/** `sha256=<hex HMAC-SHA256 of the raw body>`: what the webhook's receiver recomputes with the shared secret. */
export const webhookSignature = (secret: string, body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`

/**
 * A generic webhook: the event, its data and its rendered texts as JSON, signed in `X-Signature`,
 * the row id as `Idempotency-Key` (the receiver drops a second copy of the same id).
 */
export function createWebhookAdapter(opts: { url: string; secret: string; timeoutMs: number }): ChannelAdapter {
  return {
    messageId: (row) => `webhook-${row.id}`,
    async send({ row, message }) {
      const body = JSON.stringify({
        id: row.id,
        dossierId: row.dossier_id,
        event: row.event,
        data: row.data,
        subject: message.subject,
        text: message.text,
        sms: message.sms,
      })
      const headers = { 'idempotency-key': row.id, 'x-signature': webhookSignature(opts.secret, body) }
      await post(opts.url, body, headers, opts.timeoutMs, 'notification webhook')
    },
  }
}

/** The adapters the configuration provides; a channel without one keeps its rows pending. */
export type ChannelAdapters = Partial<Record<NotifyChannel, ChannelAdapter>>

/** The adapters of the configured channels (email needs SMTP_URL, SMS SMS_GATEWAY_URL, the webhook NOTIFY_WEBHOOK_URL). */
export function createChannelAdapters(c: {
  smtpUrl: string | undefined
  mailFrom: string
  smsGatewayUrl: string | undefined
  notifyWebhookUrl: string | undefined
  webhookSecret: string | undefined
  notifyTimeoutMs: number
}): { adapters: ChannelAdapters; close(): void } {
  const email = c.smtpUrl ? createEmailAdapter({ smtpUrl: c.smtpUrl, mailFrom: c.mailFrom, timeoutMs: c.notifyTimeoutMs }) : undefined
  const adapters: ChannelAdapters = {
    ...(email ? { email } : {}),
    ...(c.smsGatewayUrl ? { sms: createSmsAdapter({ url: c.smsGatewayUrl, timeoutMs: c.notifyTimeoutMs }) } : {}),
    ...(c.notifyWebhookUrl && c.webhookSecret
      ? { webhook: createWebhookAdapter({ url: c.notifyWebhookUrl, secret: c.webhookSecret, timeoutMs: c.notifyTimeoutMs }) }
      : {}),
  }
  return { adapters, close: () => email?.close() }
}
