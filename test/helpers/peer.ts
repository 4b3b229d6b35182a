import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Teardown } from './context.ts'

/** One request the peer system received. */
export interface PeerRequest {
  headers: http.IncomingHttpHeaders
  raw: string
  body: any
}

/**
 * Another agency's system on a real local port: it records what it receives and answers as the
 * test says (`reply`), 200 `{variables: {}}` by default.
 */
export async function peerSystem(t: Teardown) {
  const requests: PeerRequest[] = []
  const state = {
    reply: (_r: PeerRequest): { status: number; body?: unknown } => ({ status: 200, body: { variables: {} } }),
  }
  const server = http.createServer((req, res) => {
    let raw = ''
    req.setEncoding('utf8')
    req.on('data', (c: string) => (raw += c))
    req.on('end', () => {
      const r = { headers: req.headers, raw, body: raw ? JSON.parse(raw) : null }
      requests.push(r)
      const out = state.reply(r)
      res.writeHead(out.status, { 'content-type': 'application/json' })
      res.end(out.body === undefined ? '' : JSON.stringify(out.body))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/lien-thong`,
    requests,
    answer(fn: (r: PeerRequest) => { status: number; body?: unknown }) {
      state.reply = fn
    },
  }
}

/** The API over real HTTP, as one user. */
export function overHttp(base: string, token: string) {
  const send = async (method: string, url: string, body?: unknown, headers: Record<string, string> = {}) => {
    const raw = Buffer.isBuffer(body) || typeof body === 'string'
    const res = await fetch(base + url, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined && !raw ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined
        ? { body: Buffer.isBuffer(body) ? new Uint8Array(body) : typeof body === 'string' ? body : JSON.stringify(body) }
        : {}),
    })
    const text = await res.text()
    return { status: res.status, body: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text }
  }
  return {
    get: (url: string) => send('GET', url),
    post: (url: string, body: unknown = {}, headers?: Record<string, string>) => send('POST', url, body, headers),
  }
}
