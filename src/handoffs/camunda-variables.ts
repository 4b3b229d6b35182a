import { AppError } from '../errors.ts'

/** A variable as Camunda 7's REST API writes it: `{ value, type, valueInfo }`. */
export interface TypedValue {
  value: unknown
  type?: string
  valueInfo?: Record<string, unknown>
}

function typeOf(v: unknown): string {
  if (v === null || v === undefined) return 'Null'
  if (typeof v === 'string') return 'String'
  if (typeof v === 'boolean') return 'Boolean'
  if (typeof v === 'number') return Number.isInteger(v) ? (Math.abs(v) <= 2_147_483_647 ? 'Integer' : 'Long') : 'Double'
  return 'Json'
}

/** Process variables as Camunda 7 sends them to a worker; objects and lists as `Json` (their JSON text). */
export function toTyped(vars: Record<string, unknown>, only?: readonly string[]): Record<string, Required<TypedValue>> {
  const out: Record<string, Required<TypedValue>> = {}
  for (const [name, value] of Object.entries(vars)) {
    if (only && !only.includes(name)) continue
    const type = typeOf(value)
    out[name] = { type, value: type === 'Json' ? JSON.stringify(value) : (value ?? null), valueInfo: {} }
  }
  return out
}

/** A worker's typed variables as plain values; a `Json` or `Object` value that is not JSON is refused. */
export function fromTyped(vars: Record<string, TypedValue> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [name, v] of Object.entries(vars ?? {})) {
    const type = (v.type ?? '').toLowerCase()
    if ((type === 'json' || type === 'object') && typeof v.value === 'string') {
      try {
        out[name] = JSON.parse(v.value)
      } catch {
        throw new AppError('VALIDATION_FAILED', `Biến ${name} kiểu ${v.type} không phải JSON hợp lệ`, { variable: name })
      }
    } else if (['integer', 'long', 'short', 'double'].includes(type) && typeof v.value === 'string' && v.value.trim() !== '') {
      out[name] = Number(v.value)
    } else if (type === 'null') {
      out[name] = null
    } else {
      out[name] = v.value ?? null
    }
  }
  return out
}
