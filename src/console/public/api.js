// The console's one way to the API: the bearer token of this browser tab, one error shape.
const KEY = 'dvc.console.token'

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message)
    this.status = status
    this.code = code
  }
}

export const session = {
  get token() {
    return sessionStorage.getItem(KEY)
  },
  set token(value) {
    if (value) sessionStorage.setItem(KEY, value)
    else sessionStorage.removeItem(KEY)
  },
  /** Who the token names (its payload, read without verifying: the API verifies it on every call). */
  get principal() {
    const token = this.token
    if (!token) return null
    try {
      const payload = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')))
      return { userId: payload.sub, roles: payload.roles ?? [], agency: payload.agency, exp: payload.exp }
    } catch {
      return null
    }
  },
}

/** Calls /api; answers JSON (or the Response with `raw`). A 401 sends the user to the sign-in page. */
export async function api(path, { method = 'GET', body, raw = false } = {}) {
  const headers = { accept: raw ? '*/*' : 'application/json' }
  if (session.token) headers.authorization = `Bearer ${session.token}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(`/api${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  if (res.status === 401) {
    session.token = null
    location.hash = `#/sign-in?next=${encodeURIComponent(location.hash)}`
    throw new ApiError(401, 'UNAUTHENTICATED', 'Phiên đăng nhập đã hết hạn, hãy đăng nhập lại')
  }
  if (!res.ok) {
    const err = await res.json().catch(() => null)
    throw new ApiError(res.status, err?.error?.code ?? 'HTTP_' + res.status, err?.error?.message ?? `Lỗi ${res.status}`)
  }
  return raw ? res : res.json()
}

/** Query string from an object, skipping empty values. */
export function qs(params) {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v))
  const s = q.toString()
  return s ? `?${s}` : ''
}

/** Downloads what an authenticated call answers (PDF forms, exports) as a file. */
export async function download(path, filename) {
  const res = await api(path, { raw: true })
  const url = URL.createObjectURL(await res.blob())
  const a = Object.assign(document.createElement('a'), { href: url, download: filename })
  document.body.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}
