import type { FastifyRequest } from 'fastify'
import { AppError } from '../errors.ts'

/**
 * Rules every input of every route obeys, on top of each route's schema (docs/limits.md lists them):
 * text is Unicode without NUL, numbers are finite, nesting is bounded, dates fall in the years the
 * working calendar covers, and free-form variables (`data`, completion `variables`) stay small.
 */
export const INPUT_LIMITS = {
  /** Nesting of objects and arrays anywhere in a request. */
  maxDepth: 32,
  /** Dates and date-times (`format: date | date-time`) outside these years are refused. */
  years: { min: 2000, max: 2100 },
  /** Free-form variables: they go into the engine state and are recovered at every step. */
  variables: { maxDepth: 10, maxKeys: 1000, maxBytes: 256 * 1024 },
} as const

/** Schema annotation for free-form variables; Ajv checks it (`ajvInputRules`) and OpenAPI shows it. */
export const VARIABLES_KEYWORD = 'x-variables'
export const variablesLimits = { [VARIABLES_KEYWORD]: INPUT_LIMITS.variables }

type Limits = typeof INPUT_LIMITS.variables

/** How a variables value breaks its limits, or null. Stops descending past the depth limit. */
export function variablesViolation(value: unknown, limits: Limits = INPUT_LIMITS.variables): string | null {
  let keys = 0
  const walk = (v: unknown, depth: number): string | null => {
    if (v === null || typeof v !== 'object') return null
    if (depth > limits.maxDepth) return `lồng quá ${limits.maxDepth} cấp`
    const entries = Object.keys(v)
    keys += Array.isArray(v) ? 0 : entries.length
    if (keys > limits.maxKeys) return `quá ${limits.maxKeys} khoá`
    for (const k of entries) {
      const found = walk((v as Record<string, unknown>)[k], depth + 1)
      if (found) return found
    }
    return null
  }
  const found = walk(value, 1)
  if (found) return found
  const bytes = Buffer.byteLength(JSON.stringify(value) ?? '')
  return bytes > limits.maxBytes ? `${bytes} byte, quá ${limits.maxBytes} byte` : null
}

const inYears = (s: string) => {
  const year = Number(s.slice(0, 4))
  return /^\d{4}-/.test(s) && year >= INPUT_LIMITS.years.min && year <= INPUT_LIMITS.years.max && Number.isFinite(Date.parse(s))
}

export interface AjvLike {
  formats: Record<string, unknown>
  addFormat(name: string, format: { validate: (s: string) => boolean }): unknown
  addKeyword(def: Record<string, unknown>): unknown
}

/** Fastify's `ajv.onCreate`: date formats bounded to the calendar's years, and the variables keyword. */
export function ajvInputRules(ajv: AjvLike) {
  for (const name of ['date', 'date-time']) {
    const base = ajv.formats[name] as { validate?: (s: string) => boolean } | ((s: string) => boolean) | undefined
    const check = typeof base === 'function' ? base : base?.validate
    if (check) ajv.addFormat(name, { validate: (s: string) => check(s) && inYears(s) })
  }
  ajv.addKeyword({
    keyword: VARIABLES_KEYWORD,
    schemaType: 'object',
    errors: true,
    validate: function check(limits: Limits, data: unknown) {
      const found = variablesViolation(data, limits)
      if (!found) return true
      ;(check as unknown as { errors: unknown[] }).errors = [
        { keyword: VARIABLES_KEYWORD, message: `vượt giới hạn: ${found}`, params: { ...limits } },
      ]
      return false
    },
  })
}

function fail(
  where: string,
  path: string,
  message: string,
  code: 'VALIDATION_FAILED' | 'INPUT_LIMIT_EXCEEDED' = 'VALIDATION_FAILED',
): never {
  const field = `${where}${path}`
  throw new AppError(code, `Dữ liệu không hợp lệ: ${field} ${message}`, [
    { path: path || '/', in: where, message, ...(code === 'INPUT_LIMIT_EXCEEDED' ? { limit: INPUT_LIMITS.maxDepth } : {}) },
  ])
}

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

function checkText(s: string, where: string, path: string) {
  if (s.includes('\u0000')) fail(where, path, 'chứa ký tự NUL (\\u0000)')
  if (LONE_SURROGATE.test(s)) fail(where, path, 'không phải văn bản Unicode hợp lệ (surrogate đơn lẻ)')
}

function inspect(v: unknown, where: string, path: string, depth: number): void {
  if (typeof v === 'string') return checkText(v, where, path)
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) fail(where, path, 'phải là số hữu hạn')
    return
  }
  if (v === null || typeof v !== 'object' || Buffer.isBuffer(v)) return
  if (depth >= INPUT_LIMITS.maxDepth) fail(where, path, `lồng quá ${INPUT_LIMITS.maxDepth} cấp`, 'INPUT_LIMIT_EXCEEDED')
  for (const [k, inner] of Object.entries(v)) {
    checkText(k, where, `${path}/${k.replaceAll('\u0000', '\\u0000')}`)
    inspect(inner, where, `${path}/${k}`, depth + 1)
  }
}

/**
 * Global preHandler: runs after each route's schema validation (so on coerced values: `limit=1e309`
 * arrives as Infinity) and before any handler, on params, query and parsed bodies of every route.
 */
export async function checkInputs(req: FastifyRequest) {
  inspect(req.params, 'params', '', 0)
  inspect(req.query, 'querystring', '', 0)
  if (typeof req.body === 'string') checkText(req.body, 'body', '')
  else inspect(req.body, 'body', '', 0)
}
