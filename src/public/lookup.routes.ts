import { timingSafeEqual, createHash } from 'node:crypto'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { Db } from '../db/knex.ts'
import type { Clock } from '../clock.ts'
import { createRateLimiter } from './rate-limiter.ts'
import { AppError } from '../errors.ts'
import { STATUS_LABEL_VI, type DossierStatus } from '../records/statuses.ts'

const same = (a: string, b: string) => timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest())

/**
 * Public lookup (tra cứu hồ sơ) without login, by dossier code plus the applicant's ID number. Shows
 * only the code and how far the dossier got (docs/domain.md#public-lookup); rate-limited per client.
 * A wrong code and a wrong ID number answer alike, so codes cannot be probed.
 */
export async function lookupRoutes(app: FastifyInstance, opts: { db: Db; clock: Clock; perMinute: number }) {
  const limiter = createRateLimiter({ max: opts.perMinute, windowMs: 60_000, now: () => opts.clock.now() })
  app.addHook('onRequest', async (req, reply) => {
    const wait = limiter.hit(req.ip)
    if (wait > 0) {
      reply.header('retry-after', String(wait))
      throw new AppError('RATE_LIMITED', `Quá nhiều lượt tra cứu, vui lòng thử lại sau ${wait} giây`)
    }
  })
  app.get('/public/lookup', {
    schema: {
      tags: ['public'],
      summary: 'Public dossier lookup by code + ID number (no login, rate-limited)',
      security: [],
      querystring: Type.Object({
        code: Type.String({ pattern: '^[0-9A-Za-z.]{1,40}-[0-9]{6}-[0-9]{4}$' }),
        idNumber: Type.String({ pattern: '^[0-9A-Za-z]{6,20}$' }),
      }, { additionalProperties: false }),
    },
  }, async (req) => {
    const { code, idNumber } = req.query as { code: string; idNumber: string }
    const d = await opts.db('dossiers').where({ code }).first('code', 'status', 'national_status', 'applicant')
    if (!d || !same(String(d.applicant?.idNumber ?? ''), idNumber)) throw new AppError('LOOKUP_NOT_FOUND', 'Không tìm thấy hồ sơ với mã và số giấy tờ đã nhập')
    return { code: d.code, nationalStatus: d.national_status, completion: STATUS_LABEL_VI[d.status as DossierStatus] ?? d.status }
  })
}
