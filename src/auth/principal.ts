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

export function createTokenService(secret: string) {
  const key = new TextEncoder().encode(secret)
  return {
    async sign(p: Principal, expiresIn = '12h'): Promise<string> {
      return new SignJWT({ roles: p.roles, groups: p.groups, agency: p.agency })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(p.userId)
        .setIssuedAt()
        .setExpirationTime(expiresIn)
        .sign(key)
    },
    async verify(token: string): Promise<Principal> {
      let payload: Record<string, unknown>
      try {
        ;({ payload } = await jwtVerify(token, key, { algorithms: ['HS256'] }))
      } catch (err) {
        throw new AppError('UNAUTHENTICATED', `Invalid bearer token: ${(err as Error).message}`)
      }
      const roles = payload.roles
      const groups = payload.groups ?? []
      if (typeof payload.sub !== 'string' || !payload.sub) throw new AppError('UNAUTHENTICATED', 'Token has no subject (user id)')
      if (!Array.isArray(roles) || roles.length === 0 || !roles.every((r) => (ROLES as readonly unknown[]).includes(r))) {
        throw new AppError('UNAUTHENTICATED', `Token roles must be a non-empty list of ${ROLES.join(', ')}`)
      }
      if (!Array.isArray(groups) || !groups.every((g) => typeof g === 'string')) throw new AppError('UNAUTHENTICATED', 'Token groups must be a list of strings')
      if (typeof payload.agency !== 'string' || !payload.agency) throw new AppError('UNAUTHENTICATED', 'Token has no agency')
      return { userId: payload.sub, roles: roles as Role[], groups: groups as string[], agency: payload.agency }
    },
  }
}
export type TokenService = ReturnType<typeof createTokenService>
