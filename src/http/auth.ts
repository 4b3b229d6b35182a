import type { FastifyReply, FastifyRequest } from 'fastify'
import { AppError } from '../errors.ts'
import { hasRole, type Principal, type Role, type TokenService } from '../auth/principal.ts'

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal
  }
}

/** onRequest hook for /api: every request carries a bearer JWT. */
export function authenticate(tokens: TokenService) {
  return async (req: FastifyRequest, _reply: FastifyReply) => {
    const header = req.headers.authorization
    if (!header || !/^Bearer\s+\S+$/i.test(header)) throw new AppError('UNAUTHENTICATED', 'Thiếu bearer token (Authorization: Bearer <JWT>)')
    req.principal = await tokens.verify(header.replace(/^Bearer\s+/i, ''))
  }
}

export function requireRole(req: FastifyRequest, ...roles: Role[]): Principal {
  if (!hasRole(req.principal, ...roles)) throw new AppError('FORBIDDEN', `Cần một trong các vai trò: ${roles.join(', ')}`)
  return req.principal
}
