import { SignJWT, jwtVerify } from 'jose'
import { AppError } from '../errors.ts'

/** `worker`: a machine (another agency's external-task worker), limited to the `topics` its token names. */
export const ROLES = ['citizen', 'officer', 'analyst', 'supervisor', 'admin', 'worker'] as const
export type Role = (typeof ROLES)[number]

/** Who is calling: taken from the bearer JWT on every /api request. */
export interface Principal {
  userId: string
  roles: Role[]
  /** Candidate groups the user belongs to (e.g. `one-stop`, `specialists`). */
  groups: string[]
  /** Agency (cơ quan) whose dossiers the user may act on. */
  agency: string
  /** For a `worker`: the external-task topics it may fetch and answer. */
  topics?: string[]
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** '90s', '30m', '12h', '1d' in milliseconds. */
function durationMs(text: string): number {
  const m = /^(\d+)\s*([smhd])$/.exec(text.trim())
  if (!m) throw new AppError('VALIDATION_FAILED', `Thời hạn token không hợp lệ: "${text}" (ví dụ 12h, 30m)`)
  return Number(m[1]) * UNIT_MS[m[2]!]!
}

export const hasRole = (p: Principal, ...roles: Role[]) => roles.some((r) => p.roles.includes(r))

/** How many verified tokens are remembered (officers reuse one token for a whole working day). */
const VERIFIED_TOKENS_KEPT = 10_000
/** Longest token lifetime accepted when the caller names none (config: TOKEN_MAX_LIFETIME_HOURS). */
const DEFAULT_MAX_LIFETIME_HOURS = 24

/**
 * Signs and verifies bearer JWTs (HS256). A token that verified once is remembered until its own
 * expiry (bounded, oldest forgotten first): an officer's token is checked once, not on every request.
 * Expiry is checked against `now` on every use, remembered or not; a rejected token is never remembered.
 * Every token must carry `exp`, and live no longer than `maxLifetimeHours` (counted from `iat`, and
 * from now): a token that never expires, or expires too far away, is refused.
 */
export function createTokenService(secret: string, opts: { now?: () => Date; kept?: number; maxLifetimeHours?: number } = {}) {
  const key = new TextEncoder().encode(secret)
  const now = opts.now ?? (() => new Date())
  const kept = opts.kept ?? VERIFIED_TOKENS_KEPT
  const maxLifetimeMs = (opts.maxLifetimeHours ?? DEFAULT_MAX_LIFETIME_HOURS) * 3_600_000

  /** The token's expiry instant (ms), refused when missing or beyond the maximum lifetime. */
  function expiryOf(payload: Record<string, unknown>, at: Date): number {
    if (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp))
      throw new AppError('UNAUTHENTICATED', 'Token không có thời hạn (exp)')
    const exp = payload.exp * 1000
    const issued = typeof payload.iat === 'number' ? Math.min(payload.iat * 1000, at.getTime()) : at.getTime()
    if (exp - issued > maxLifetimeMs) throw new AppError('UNAUTHENTICATED', `Token có thời hạn dài hơn ${maxLifetimeMs / 3_600_000} giờ`)
    return exp
  }
  const verified = new Map<string, { principal: Principal; expiresAt: number }>()

  function principalOf(payload: Record<string, unknown>): Principal {
    const roles = payload.roles
    const groups = payload.groups ?? []
    if (typeof payload.sub !== 'string' || !payload.sub) throw new AppError('UNAUTHENTICATED', 'Token has no subject (user id)')
    if (!Array.isArray(roles) || roles.length === 0 || !roles.every((r) => (ROLES as readonly unknown[]).includes(r))) {
      throw new AppError('UNAUTHENTICATED', `Token roles must be a non-empty list of ${ROLES.join(', ')}`)
    }
    if (!Array.isArray(groups) || !groups.every((g) => typeof g === 'string'))
      throw new AppError('UNAUTHENTICATED', 'Token groups must be a list of strings')
    if (typeof payload.agency !== 'string' || !payload.agency) throw new AppError('UNAUTHENTICATED', 'Token has no agency')
    const topics = payload.topics
    if (topics !== undefined && (!Array.isArray(topics) || !topics.every((x) => typeof x === 'string')))
      throw new AppError('UNAUTHENTICATED', 'Token topics must be a list of strings')
    // Frozen: one principal serves every request that carries the token.
    return Object.freeze({
      userId: payload.sub,
      roles: Object.freeze([...roles]) as Role[],
      groups: Object.freeze([...groups]) as string[],
      agency: payload.agency,
      ...(topics ? { topics: Object.freeze([...topics]) as string[] } : {}),
    })
  }

  return {
    /** `expiresIn`: a jose duration ('12h') or an absolute expiry in epoch seconds. */
    async sign(p: Principal, expiresIn: string | number = '12h'): Promise<string> {
      const at = now()
      const token = await new SignJWT({ roles: p.roles, groups: p.groups, agency: p.agency, ...(p.topics ? { topics: p.topics } : {}) })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(p.userId)
        .setIssuedAt(at)
        .setExpirationTime(typeof expiresIn === 'number' ? expiresIn : new Date(at.getTime() + durationMs(expiresIn)))
        .sign(key)
      // Never hand out a token this service would refuse.
      expiryOf(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')), at)
      return token
    },
    async verify(token: string): Promise<Principal> {
      const at = now()
      const known = verified.get(token)
      if (known) {
        if (known.expiresAt > at.getTime()) return known.principal
        verified.delete(token)
      }
      let payload: Record<string, unknown>
      try {
        ;({ payload } = await jwtVerify(token, key, { algorithms: ['HS256'], currentDate: at, requiredClaims: ['exp'] }))
      } catch (err) {
        throw new AppError('UNAUTHENTICATED', `Invalid bearer token: ${(err as Error).message}`)
      }
      const expiresAt = expiryOf(payload, at)
      const principal = principalOf(payload)
      if (verified.size >= kept) verified.delete(verified.keys().next().value!)
      verified.set(token, { principal, expiresAt })
      return principal
    },
  }
}
export type TokenService = ReturnType<typeof createTokenService>
