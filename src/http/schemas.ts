import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify'
import { Type, type TSchema, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { ERROR_STATUS, type ErrorCode } from '../errors.ts'

/**
 * The Fastify instance routes receive: their TypeBox schemas type `req.params`, `query`, `body` and the
 * replies. HTTP schemas use the TypeBox the provider ships (`import { Type } from
 * '@fastify/type-provider-typebox'`), so what the provider infers is exactly what the schema says.
 */
export type Api = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>

/** A moment: Postgres gives a Date, written as an ISO 8601 string in UTC. */
export const Timestamp = Type.Unsafe<Date | string>({ type: 'string', format: 'date-time' })
export const NullableTimestamp = Type.Unsafe<Date | string | null>({ type: ['string', 'null'], format: 'date-time' })
export const NullableString = Type.Unsafe<string | null>({ type: ['string', 'null'] })
export const NullableInteger = Type.Unsafe<number | null>({ type: ['integer', 'null'] })
export const NullableNumber = Type.Unsafe<number | null>({ type: ['number', 'null'] })
/** An object whose keys are the client's or the diagram's (dossier `data`, metadata): written as is. */
export const OpenObject = (description?: string) =>
  Type.Unsafe<object>({ type: 'object', additionalProperties: true, ...(description ? { description } : {}) })
export const NullableOpenObject = (description?: string) =>
  Type.Unsafe<object | null>({ type: ['object', 'null'], additionalProperties: true, ...(description ? { description } : {}) })
export const Nullable = <T extends TSchema>(s: T) => Type.Union([s, Type.Null()])

export const IdParam = Type.Object({ id: Type.String({ format: 'uuid' }) })

/** The one error shape (src/http/errors.ts): `{ error: { code, message, details? } }`. */
export const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String({ description: 'Stable, machine-readable (docs/api.md lists them by status)' }),
    message: Type.String({ description: 'Vietnamese text for people' }),
    details: Type.Optional(Type.Unknown()),
  }),
})

/** Codes any route under /api can answer; `INPUT` for routes with params, query or a body; `JSON_BODY` for JSON bodies. */
export const AUTH: ErrorCode[] = ['UNAUTHENTICATED']
export const INPUT: ErrorCode[] = ['VALIDATION_FAILED', 'INPUT_LIMIT_EXCEEDED']
export const JSON_BODY: ErrorCode[] = ['PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE']
/** What one engine step can refuse (task completion, lifecycle actions, delivered messages). */
export const STEP: ErrorCode[] = ['CONCURRENT_MODIFICATION', 'INVALID_STATUS_TRANSITION', 'PROCESS_STEP_FAILED', 'TASK_ALREADY_COMPLETED']

/**
 * The error answers of a route, one entry per status, each listing the codes it carries there. Every
 * route may also answer 500 `INTERNAL_ERROR` (its details stay in the server log).
 */
export function errorResponses(...codes: Array<ErrorCode | readonly ErrorCode[]>): Record<number, typeof ErrorBody> {
  const byStatus = new Map<number, Set<ErrorCode>>()
  // Every route may fail unexpectedly (500) or find Postgres unreachable (503 with Retry-After).
  for (const code of [...codes.flat(), 'INTERNAL_ERROR' as const, 'SERVICE_UNAVAILABLE' as const]) {
    const status = ERROR_STATUS[code]
    byStatus.set(status, (byStatus.get(status) ?? new Set()).add(code))
  }
  return Object.fromEntries(
    [...byStatus].sort(([a], [b]) => a - b).map(([status, set]) => [status, { ...ErrorBody, description: [...set].join(', ') }]),
  )
}

/** A binary answer (PDF, XML, an uploaded file), documented with its media types. */
export function fileResponse(description: string, mediaTypes: string[]) {
  return { description, content: Object.fromEntries(mediaTypes.map((m) => [m, { schema: { type: 'string', format: 'binary' } }])) }
}
