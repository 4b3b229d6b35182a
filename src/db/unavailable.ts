/** Socket-level failures reaching Postgres. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE'])
/** Postgres SQLSTATEs that mean "not now": admin/crash shutdown, cannot connect now, too many connections. */
const PG_CODES = new Set(['57P01', '57P02', '57P03', '53300'])

/**
 * Whether an error means the database is unreachable or restarting (an outage, not a bug): the API
 * answers 503 with Retry-After for these. Looks through AggregateError (IPv4 + IPv6 attempts) and `cause`.
 */
export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 4) return false
  const e = err as { code?: unknown; name?: unknown; message?: unknown; errors?: unknown; cause?: unknown }
  const code = typeof e.code === 'string' ? e.code : ''
  if (NETWORK_CODES.has(code) || PG_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code)) return true
  // knex: no connection from the pool in time; node-pg: the server closed the connection.
  if (e.name === 'KnexTimeoutError') return true
  if (
    typeof e.message === 'string' &&
    /^Connection terminated|Client has encountered a connection error|Connection terminated unexpectedly/.test(e.message)
  )
    return true
  if (Array.isArray(e.errors) && e.errors.some((x) => isDatabaseUnavailable(x, depth + 1))) return true
  return isDatabaseUnavailable(e.cause, depth + 1)
}
