/**
 * Request generation for the fuzz test: a seeded random source, valid-looking values from a JSON
 * schema, and the nasty values every input must survive with a 4xx (never a 5xx).
 */

/** mulberry32: small, fast and reproducible. */
export function seededRandom(seed: number) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = Math.imul(a ^ (a >>> 15), 1 | a)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number) => Math.floor(next() * n)
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!
  return { next, int, pick, chance: (p: number) => next() < p }
}
export type Random = ReturnType<typeof seededRandom>

/** Stand-ins replaced in the serialized JSON by what JSON.stringify cannot write. */
export const RAW = { INFINITY: '\u0001INF\u0001', DEEP: '\u0001DEEP\u0001' } as const

export const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\ud83d',
  '😀 Nguyễn Văn Ánh',
  'ệ'.repeat(3000),
  'x'.repeat(70_000),
  '../../etc/passwd',
  "' OR 1=1 --",
  '%00',
  '${process.exit(1)}',
  '1e309',
  '-1',
  '2147483648',
  '99999999999999999999999',
  'NaN',
  'null',
  'true',
  '9999-12-31T23:59:59Z',
  '0000-01-01T00:00:00Z',
  '+275760-09-13T00:00:00Z',
  '2026-02-30',
  '9999-12-31',
  '00000000-0000-0000-0000-000000000000',
  '\u202e\u200b',
  '\r\n\t',
]
/** Text Postgres cannot store (NUL) or that is not Unicode (lone surrogates): the commonest 500s. */
export const POISON = ['\u0000', 'a\u0000b', '\ud800', 'x\udfffy', '\ud83d', { k: '\u0000' }, ['\ud800']]
export const NASTY_VALUES: unknown[] = [
  ...NASTY_STRINGS,
  -1,
  0,
  1.5,
  2 ** 31,
  2 ** 53,
  1e21,
  -1e21,
  RAW.INFINITY,
  RAW.DEEP,
  true,
  false,
  null,
  [],
  {},
  [[[]]],
  { a: { b: { c: '\u0000' } } },
  { constructor: { prototype: 1 }, __proto__: 1 },
  Array.from({ length: 2000 }, (_, i) => i),
]

/** Serializes a body, writing 1e309 and a 5,000-level nesting where the stand-ins are. */
export function serialize(body: unknown): string {
  const deep = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000)
  return JSON.stringify(body).replaceAll(JSON.stringify(RAW.INFINITY), '1e309').replaceAll(JSON.stringify(RAW.DEEP), deep)
}

/** Percent-encodes a path or query value; strings that encodeURIComponent refuses (lone surrogates) go as raw UTF-8 bytes. */
export function encode(v: unknown): string {
  const s = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v)
  if (s === RAW.INFINITY) return '1e309'
  try {
    return encodeURIComponent(s)
  } catch {
    return s === '\ud800' ? '%ED%A0%80' : [...Buffer.from(s)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')
  }
}

/** A plausible value for a schema (what a well-behaved client would send). */
export function sample(schema: any, rnd: Random, known: Record<string, string>, name = ''): unknown {
  if (!schema) return undefined
  if (schema.default !== undefined && rnd.chance(0.3)) return schema.default
  if (schema.const !== undefined) return schema.const
  if (schema.enum) return rnd.pick(schema.enum)
  if (schema.anyOf || schema.oneOf) return sample(rnd.pick(schema.anyOf ?? schema.oneOf), rnd, known, name)
  switch (schema.type) {
    case 'object': {
      const out: Record<string, unknown> = {}
      for (const [k, s] of Object.entries<any>(schema.properties ?? {})) {
        if ((schema.required ?? []).includes(k) || rnd.chance(0.5)) out[k] = sample(s, rnd, known, k)
      }
      if (!schema.properties && schema.patternProperties) out.fee = 0
      return out
    }
    case 'array':
      return schema.items ? [sample(schema.items, rnd, known, name)] : []
    case 'integer':
    case 'number':
      return schema.minimum ?? 1
    case 'boolean':
      return rnd.chance(0.5)
    case 'string':
      return sampleString(schema, known, name)
    default:
      return undefined
  }
}

function sampleString(schema: any, known: Record<string, string>, name: string): string {
  if (known[name]) return known[name]!
  if (schema.format === 'uuid') return known.dossierId ?? '00000000-0000-4000-8000-000000000000'
  if (schema.format === 'date-time') return '2026-11-30T03:00:00Z'
  if (schema.format === 'date') return '2026-11-01'
  if (schema.format === 'email') return 'a@example.vn'
  if (schema.pattern === '^[0-9]{2}$') return '00'
  if (schema.pattern === '^[0-9]{14}$') return '20261123090000'
  if (schema.pattern) return '001099001234'
  return 'Nội dung thử ' + name
}
