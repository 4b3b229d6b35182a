import { createHash, timingSafeEqual } from 'node:crypto'
import type { Db } from '../db/knex.ts'
import { STATUS_LABEL_VI, type DossierStatus } from '../records/statuses.ts'
import { AppError } from '../errors.ts'
import type { LookupRepository } from './lookup.repository.ts'

const same = (a: string, b: string) => timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest())

/**
 * Public lookup (tra cứu hồ sơ) by dossier code plus the applicant's ID number. Shows only the code and
 * how far the dossier got (docs/domain.md#public-lookup). A wrong code and a wrong ID number answer
 * alike, and the ID numbers are compared in constant time, so codes cannot be probed.
 */
export function createLookupService(deps: { db: Db; repo: LookupRepository }) {
  return {
    async lookup(code: string, idNumber: string) {
      const d = await deps.repo.byCode(deps.db, code)
      if (!d || !same(String(d.applicant?.idNumber ?? ''), idNumber))
        throw new AppError('LOOKUP_NOT_FOUND', 'Không tìm thấy hồ sơ với mã và số giấy tờ đã nhập')
      return { code: d.code, nationalStatus: d.national_status, completion: STATUS_LABEL_VI[d.status as DossierStatus] ?? d.status }
    },
  }
}
export type LookupService = ReturnType<typeof createLookupService>
