import { SignJWT, jwtVerify } from 'jose'
import { AppError } from '../errors.ts'

export const ROLES = ['citizen', 'officer', 'analyst', 'supervisor', 'admin'] as const
export type Role = (typeof ROLES)[number]

/** Who is calling: taken from the bearer JWT on every /api request. */
export interface Principal {
  userId: string
  roles: Role[]
  /** Candidate groups the user belongs to (e.g. `one-stop`, `specialists`). */
  groups: string[]
  /** Agency (cơ quan) whose dossiers the user may act on. */
  agency: string
}

export const hasRole = (p: Principal, ...roles: Role[]) => roles.some((r) => p.roles.includes(r))

/** How many verified tokens are remembered (officers reuse one token for a whole working day). */
const VERIFIED_TOKENS_KEPT = 10_000

/**
 * Signs and verifies bearer JWTs (HS256). A token that verified once is remembered until its own
 * expiry (bounded, oldest forgotten first): an officer's token is checked once, not on every request.
 * Expiry is checked against `now` on every use, remembered or not; a rejected token is never remembered.
 */
export function createTokenService(secret: string, opts: { now?: () => Date; kept?: number } = {}) {
  const key = new TextEncoder().encode(secret)
  const now = opts.now ?? (() => new Date())
  const kept = opts.kept ?? VERIFIED_TOKENS_KEPT
  const verified = new Map<string, { principal: Principal; expiresAt: number }>()

  function principalOf(payload: Record<string, unknown>): Principal {
    const roles = payload.roles
    const groups = payload.groups ?? []
    if (typeof payload.sub !== 'string' || !payload.sub) throw new AppError('UNAUTHENTICATED', 'Token has no subject (user id)')
    if (!Array.isArray(roles) || roles.length === 0 || !roles.every((r) => (ROLES as readonly unknown[]).includes(r))) {
      throw new AppError('UNAUTHENTICATED', `Token roles must be a non-empty list of ${ROLES.join(', ')}`)
    }
    if (!Array.isArray(groups) || !groups.every((g) => typeof g === 'string')) throw new AppError('UNAUTHENTICATED', 'Token groups must be a list of strings')
    if (typeof payload.agency !== 'string' || !payload.agency) throw new AppError('UNAUTHENTICATED', 'Token has no agency')
    // Frozen: one principal serves every request that carries the token.
    return Object.freeze({ userId: payload.sub, roles: Object.freeze([...roles]) as Role[], groups: Object.freeze([...groups]) as string[], agency: payload.agency })
  }

  return {
    async sign(p: Principal, expiresIn: string | number = '12h'): Promise<string> {
      return new SignJWT({ roles: p.roles, groups: p.groups, agency: p.agency })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(p.userId)
        .setIssuedAt()
        .setExpirationTime(expiresIn)
        .sign(key)
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
        ;({ payload } = await jwtVerify(token, key, { algorithms: ['HS256'], currentDate: at }))
      } catch (err) {
        throw new AppError('UNAUTHENTICATED', `Invalid bearer token: ${(err as Error).message}`)
      }
      const principal = principalOf(payload)
      if (verified.size >= kept) verified.delete(verified.keys().next().value!)
      verified.set(token, { principal, expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : Infinity })
      return principal
    },
  }
}
export type TokenService = ReturnType<typeof createTokenService>
