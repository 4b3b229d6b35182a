import type { Clock } from '../clock.ts'
import { AppError } from '../errors.ts'
import type { Api } from '../http/schemas.ts'
import { createRateLimiter } from './rate-limiter.ts'
import { lookupSchema } from './lookup.schemas.ts'
import type { LookupService } from './lookup.service.ts'

/** Public lookup (tra cứu hồ sơ) without login; rate-limited per client (docs/domain.md#public-lookup). */
export async function lookupRoutes(app: Api, opts: { lookup: LookupService; clock: Clock; perMinute: number }) {
  const limiter = createRateLimiter({ max: opts.perMinute, windowMs: 60_000, now: () => opts.clock.now() })
  app.addHook('onRequest', async (req, reply) => {
    const wait = limiter.hit(req.ip)
    if (wait > 0) {
      reply.header('retry-after', String(wait))
      throw new AppError('RATE_LIMITED', `Quá nhiều lượt tra cứu, vui lòng thử lại sau ${wait} giây`)
    }
  })
  app.get('/public/lookup', { schema: lookupSchema }, async (req) => opts.lookup.lookup(req.query.code, req.query.idNumber))
}
