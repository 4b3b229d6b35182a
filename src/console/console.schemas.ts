import { Type } from '@fastify/type-provider-typebox'
import { errorResponses, INPUT, JSON_BODY } from '../http/schemas.ts'

/** Roles the dev-only sign-in hands out: the console's users (citizens use the public portal). */
export const CONSOLE_ROLES = ['supervisor', 'admin', 'officer', 'analyst'] as const

export const devSignInSchema = {
  tags: ['console'],
  summary: 'Outside production only: a short-lived token for a demo user of the console (đăng nhập thử)',
  body: Type.Object(
    {
      role: Type.Union(
        CONSOLE_ROLES.map((r) => Type.Literal(r)),
        { description: 'The demo user’s role' },
      ),
      agency: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9._-]+$', description: 'Cơ quan' }),
      userId: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9._@-]+$' })),
      groups: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$' }), { maxItems: 20 })),
    },
    { additionalProperties: false },
  ),
  response: {
    200: Type.Object({
      token: Type.String(),
      expiresInHours: Type.Integer(),
    }),
    ...errorResponses(INPUT, JSON_BODY),
  },
}

export const settingsSchema = {
  tags: ['console'],
  summary: 'What the console offers on this server',
  response: {
    200: Type.Object({ devSignIn: Type.Boolean({ description: 'POST /console/dev-sign-in exists (never in production)' }) }),
    ...errorResponses(),
  },
}
