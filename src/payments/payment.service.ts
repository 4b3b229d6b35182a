import { createHash } from 'node:crypto'
import type { Db } from '../db/knex.ts'
import type { Clock } from '../clock.ts'
import { AppError } from '../errors.ts'
import type { Principal } from '../auth/principal.ts'
import type { DossierService } from '../dossiers/dossier.service.ts'
import type { DossierRow } from '../records/dossier.repository.ts'
import { Channel, DossierStatus } from '../records/statuses.ts'
import type { HistoryRepository } from '../records/history.repository.ts'
import type { LifecycleService } from '../lifecycle/lifecycle.service.ts'
import type { ProcedureVersionCache } from '../procedures/version-cache.ts'
import { UnitOfWork } from '../db/unit-of-work.ts'
import type { CitizenNotices } from '../notifications/citizen-notices.ts'
import { callbackFields, gatewayTime, signFields, verifyFields, type PaymentCallback } from './signature.ts'

export interface PaymentRow {
  reference: string
  dossier_id: string
  purpose: 'fee' | 'obligation'
  amount: number
  status: 'pending' | 'paid' | 'cancelled'
  created_by: string
  created_at: Date
  transaction_id: string | null
  receipt_no: string | null
  paid_at: Date | null
  callback: unknown
}

const norm = (r: PaymentRow): PaymentRow => ({ ...r, amount: Number(r.amount) })

/**
 * Online payment (thanh toán trực tuyến) through the national payment platform: a payment request
 * for what the dossier owes now (the procedure's fees before an online result, or the financial
 * obligation the agency set), and the platform's signed callback. A verified success completes the
 * diagram's `PaymentReceived` message catch in the same transaction; forged, replayed or mismatched
 * callbacks change nothing, and a duplicate genuine callback is a no-op.
 */
export function createPaymentService(deps: {
  db: Db
  clock: Clock
  secret: string
  partnerCode: string
  dossiers: DossierService
  versions: ProcedureVersionCache
  history: HistoryRepository
  lifecycle: LifecycleService
  /** The applicant is told of a new payment request in the transaction that creates it. */
  notices?: CitizenNotices
}) {
  const { db, clock } = deps

  /** What the dossier owes right now, if anything. */
  async function due(d: DossierRow): Promise<{ purpose: PaymentRow['purpose']; amount: number } | null> {
    if (d.status === DossierStatus.FINANCIAL_OBLIGATION) {
      // The latest notice: an officer's request (its amount), or the tax authority's answer to a handoff (obligationAmount).
      const req = await db('history')
        .where({ dossier_id: d.id })
        .where((q) => {
          void q.where({ action: 'lifecycle.financial_obligation_requested' }).orWhere((h) => {
            void h.where({ action: 'handoff.completed' }).whereRaw(`details->'variables'->>'obligationAmount' is not null`)
          })
        })
        .orderBy('id', 'desc')
        .first('action', 'details')
      const amount = Number((req?.action === 'handoff.completed' ? req.details?.variables?.obligationAmount : req?.details?.amount) ?? 0)
      return amount > 0 ? { purpose: 'obligation', amount } : null
    }
    if (d.status !== DossierStatus.RESULT_READY || d.channel !== Channel.ONLINE) return null
    const version = await deps.versions.get(db, d.procedure_version_id)
    const fee = version.metadata.fees.reduce((s, f) => s + f.amount, 0)
    if (version.metadata.level !== 4 || fee <= 0) return null
    if (await db('history').where({ dossier_id: d.id, action: 'lifecycle.refused' }).first('id')) return null
    if (await db('payments').where({ dossier_id: d.id, purpose: 'fee', status: 'paid' }).first('reference')) return null
    return { purpose: 'fee', amount: fee }
  }

  function initMessage(d: DossierRow, p: PaymentRow, code: string) {
    const fields = {
      LoaiBanTin: 'INIT',
      PhienBan: '1.0.6',
      MaDoiTac: deps.partnerCode,
      MaThamChieu: p.reference,
      SoTien: p.amount,
      LoaiHinhThanhToan: 'PAY',
      MaKenhThanhToan: '1',
      MaThietBi: '1',
      NgonNgu: 'vi-VN',
      MaTienTe: 'VND',
      MaNganHang: '',
      ThongTinGiaoDich: `THANH TOAN HO SO ${d.code}`,
      ThoiGianGD: gatewayTime(new Date(p.created_at)),
      Ip: '',
      ThongTinBienLai: { MaDVC: `${code}.01`, MaTTHC: code, MaDonVi: d.unit_id, MaHoSo: d.code },
    }
    const MaXacThuc = signFields(
      [fields.LoaiBanTin, fields.PhienBan, fields.MaDoiTac, fields.MaThamChieu, fields.SoTien, fields.LoaiHinhThanhToan, fields.ThoiGianGD],
      deps.secret,
    )
    return { ...fields, MaXacThuc }
  }

  const dto = (p: PaymentRow) => ({
    reference: p.reference,
    purpose: p.purpose,
    amount: p.amount,
    status: p.status,
    createdAt: p.created_at,
    paidAt: p.paid_at,
    transactionId: p.transaction_id,
    receiptNo: p.receipt_no,
  })

  return {
    dto,

    async dossierIdOf(reference: string): Promise<string | null> {
      return (await db('payments').where({ reference }).first('dossier_id'))?.dossier_id ?? null
    },

    /** Creates (or returns the pending) payment request for what the dossier owes; idempotent. */
    async request(p: Principal, dossierId: string) {
      const { dossier: d } = await deps.dossiers.get(p, dossierId)
      const owed = await due(d)
      if (!owed)
        throw new AppError('PAYMENT_NOT_DUE', 'Hồ sơ hiện không có khoản phí hoặc nghĩa vụ tài chính phải thanh toán trực tuyến', {
          status: d.status,
        })
      const now = clock.now()
      const reference = `${d.code}.${owed.purpose === 'fee' ? 'P' : 'N'}.${gatewayTime(now)}`
      await db.transaction(async (tx) => {
        const created = await tx('payments')
          .insert({
            reference,
            dossier_id: d.id,
            purpose: owed.purpose,
            amount: owed.amount,
            status: 'pending',
            created_by: p.userId,
            created_at: now,
          })
          .onConflict(db.raw("(dossier_id, purpose) WHERE status = 'pending'"))
          .ignore()
          .returning('reference')
        // Only a new request is announced: asking again for the pending one tells the applicant nothing new.
        if (!created.length || !deps.notices) return
        const uow = new UnitOfWork(tx)
        const procedureName = (await deps.versions.get(db, d.procedure_version_id)).metadata.name
        deps.notices.queue(uow, d, 'payment_request', {
          sequence: reference,
          data: { procedureName, amount: owed.amount, reference, purpose: owed.purpose },
          now,
        })
        await uow.flush()
      })
      const row = norm(
        (await db<PaymentRow>('payments').where({ dossier_id: d.id, purpose: owed.purpose, status: 'pending' }).first()) as PaymentRow,
      )
      return { payment: dto(row), init: initMessage(d, row, d.procedure_code) }
    },

    async list(p: Principal, dossierId: string) {
      const { dossier: d } = await deps.dossiers.get(p, dossierId)
      const rows = await db<PaymentRow>('payments').where({ dossier_id: d.id }).orderBy('created_at')
      return rows.map((r) => dto(norm(r)))
    },

    /** The platform's result callback. Verified first; everything after happens in one transaction. */
    async callback(c: PaymentCallback): Promise<{ result: 'paid' | 'duplicate' | 'failed'; reference: string; receiptNo: string | null }> {
      if (!verifyFields(callbackFields(c), deps.secret, c.MaXacThuc) || c.MaDoiTac !== deps.partnerCode) {
        throw new AppError('PAYMENT_SIGNATURE_INVALID', 'Chữ ký (MaXacThuc) của thông báo thanh toán không hợp lệ')
      }
      return db.transaction(async (tx) => {
        const pay = await tx<PaymentRow>('payments').where({ reference: c.MaThamChieu }).forUpdate().first()
        if (!pay) throw new AppError('PAYMENT_NOT_FOUND', `Không có yêu cầu thanh toán ${c.MaThamChieu}`)
        const row = norm(pay)
        if (row.status === 'paid') {
          if (row.transaction_id === c.MaGiaoDich)
            return { result: 'duplicate' as const, reference: row.reference, receiptNo: row.receipt_no }
          throw new AppError('PAYMENT_ALREADY_SETTLED', 'Yêu cầu thanh toán đã được thanh toán bằng giao dịch khác', {
            transactionId: row.transaction_id,
          })
        }
        if (row.status !== 'pending') throw new AppError('PAYMENT_ALREADY_SETTLED', 'Yêu cầu thanh toán đã bị hủy')
        if (c.SoTien !== row.amount)
          throw new AppError('PAYMENT_AMOUNT_MISMATCH', `Số tiền ${c.SoTien} khác số tiền phải nộp ${row.amount}`)
        const now = clock.now()
        if (c.MaKetQua !== '00') {
          await deps.history.append(tx, [
            {
              dossier_id: row.dossier_id,
              action: 'payment.failed',
              actor: 'payment-platform',
              details: { reference: row.reference, resultCode: c.MaKetQua },
              at: now,
            },
          ])
          return { result: 'failed' as const, reference: row.reference, receiptNo: null }
        }
        const receiptNo = `BL${c.ThoiGianGD.slice(2, 8)}-${createHash('sha256').update(c.MaThamChieu).digest('hex').slice(0, 8).toUpperCase()}`
        await tx('payments')
          .where({ reference: row.reference })
          .update({ status: 'paid', transaction_id: c.MaGiaoDich, receipt_no: receiptNo, paid_at: now, callback: JSON.stringify(c) })
        await deps.lifecycle.deliver(tx, row.dossier_id, 'PaymentReceived', {
          actor: 'payment-platform',
          now,
          history: [
            {
              action: 'payment.received',
              actor: 'payment-platform',
              details: { reference: row.reference, purpose: row.purpose, amount: row.amount, transactionId: c.MaGiaoDich, receiptNo },
            },
          ],
        })
        return { result: 'paid' as const, reference: row.reference, receiptNo }
      })
    },

    /**
     * The local gateway simulator: what the national platform does when the citizen pays. It signs
     * the callback with the shared secret exactly as the platform does and delivers it.
     */
    simulatedCallback(reference: string, amount: number, resultCode = '00'): PaymentCallback {
      const now = clock.now()
      const body = {
        MaDoiTac: deps.partnerCode,
        MaThamChieu: reference,
        MaGiaoDich: `GD${gatewayTime(now)}${createHash('sha256')
          .update(reference + resultCode)
          .digest('hex')
          .slice(0, 6)}`,
        SoTien: amount,
        MaKetQua: resultCode,
        ThoiGianGD: gatewayTime(now),
      }
      return { ...body, MaXacThuc: signFields(callbackFields(body), deps.secret) }
    },
  }
}
export type PaymentService = ReturnType<typeof createPaymentService>
