import type { Principal } from '../../src/auth/principal.ts'
import type { TestContext } from './context.ts'

/** A caller of the API with one identity: `await as.post(url, body)` → { status, body }. */
export async function caller(ctx: TestContext, p: Partial<Principal> & Pick<Principal, 'roles'>) {
  const headers = { authorization: `Bearer ${await ctx.token(p)}` }
  const send = async (method: 'GET' | 'POST', url: string, payload?: unknown, extra: Record<string, string> = {}) => {
    const res = await ctx.app.inject({
      method,
      url,
      headers: { ...headers, ...extra },
      ...(payload === undefined ? {} : { payload: payload as any }),
    })
    const type = String(res.headers['content-type'] ?? '')
    return { status: res.statusCode, body: type.includes('json') ? res.json() : undefined, raw: res.rawPayload, headers: res.headers }
  }
  return {
    headers,
    get: (url: string) => send('GET', url),
    post: (url: string, payload: unknown = {}, extra?: Record<string, string>) => send('POST', url, payload, extra),
    /** POST /api/dossiers/:id/actions/:action */
    act: (dossierId: string, action: string, payload: unknown = {}) =>
      send('POST', `/api/dossiers/${dossierId}/actions/${action}`, payload),
  }
}
export type Caller = Awaited<ReturnType<typeof caller>>

/** The dossier's status moves from its history, as [status, national code] pairs. */
export async function statusTrail(as: Caller, dossierId: string): Promise<Array<[string, number]>> {
  const v = await as.get(`/api/dossiers/${dossierId}`)
  return v.body.history
    .filter((h: any) => h.action === 'dossier.status_changed' || h.action === 'dossier.submitted')
    .map((h: any) => [h.status, h.details.nationalStatus])
}
