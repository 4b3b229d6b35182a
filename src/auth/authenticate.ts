import type { FastifyReply, FastifyRequest } from 'fastify'
import { AppError } from '../errors.ts'
import type { Principal, Role, TokenService } from './principal.ts'
import { requireAnyRole } from './policy.ts'

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal
  }
}

/** onRequest hook for /api: every request carries a bearer JWT. */
export function authenticate(tokens: TokenService) {
  return async (req: FastifyRequest, _reply: FastifyReply) => {
    const header = req.headers.authorization
    if (!header || !/^Bearer\s+\S+$/i.test(header))
      throw new AppError('UNAUTHENTICATED', 'Thiếu bearer token (Authorization: Bearer <JWT>)')
    req.principal = await tokens.verify(header.replace(/^Bearer\s+/i, ''))
  }
}

/** Coarse role gate of a route; the rules themselves live in auth/policy.ts. */
export function requireRole(req: FastifyRequest, ...roles: Role[]): Principal {
  return requireAnyRole(req.principal, ...roles)
}
