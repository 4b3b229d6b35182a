/**
 * Internal dossier states (trạng thái hồ sơ), each mapped to the national DVCQG 1–10 status code
 * (docs/domain.md#national-status-codes). Overdue, extended-once, channel and sync state are flags, not states.
 */
export const DossierStatus = {
  SUBMITTED_ONLINE: 'SUBMITTED_ONLINE', // Mới đăng ký
  RECEIVING: 'RECEIVING', // Đang kiểm tra tiếp nhận (chưa có kết quả tiếp nhận)
  ACCEPTED: 'ACCEPTED', // Được tiếp nhận
  REFUSED_AT_RECEIPT: 'REFUSED_AT_RECEIPT', // Không được tiếp nhận
  IN_PROCESS: 'IN_PROCESS', // Đang xử lý
  SUPPLEMENT_REQUESTED: 'SUPPLEMENT_REQUESTED', // Yêu cầu bổ sung giấy tờ
  FINANCIAL_OBLIGATION: 'FINANCIAL_OBLIGATION', // Yêu cầu thực hiện nghĩa vụ tài chính
  WITHDRAWN: 'WITHDRAWN', // Công dân yêu cầu rút hồ sơ
  STOPPED: 'STOPPED', // Dừng xử lý
  RESULT_READY: 'RESULT_READY', // Đã xử lý xong
  RETURNED: 'RETURNED', // Đã trả kết quả
} as const
export type DossierStatus = (typeof DossierStatus)[keyof typeof DossierStatus]

export const NATIONAL_STATUS: Record<DossierStatus, number> = {
  SUBMITTED_ONLINE: 1,
  RECEIVING: 1,
  ACCEPTED: 2,
  REFUSED_AT_RECEIPT: 3,
  IN_PROCESS: 4,
  SUPPLEMENT_REQUESTED: 5,
  FINANCIAL_OBLIGATION: 6,
  WITHDRAWN: 7,
  STOPPED: 8,
  RESULT_READY: 9,
  RETURNED: 10,
}

export const STATUS_LABEL_VI: Record<DossierStatus, string> = {
  SUBMITTED_ONLINE: 'Mới đăng ký',
  RECEIVING: 'Đang kiểm tra, chờ tiếp nhận',
  ACCEPTED: 'Được tiếp nhận',
  REFUSED_AT_RECEIPT: 'Không được tiếp nhận',
  IN_PROCESS: 'Đang xử lý',
  SUPPLEMENT_REQUESTED: 'Yêu cầu bổ sung giấy tờ',
  FINANCIAL_OBLIGATION: 'Yêu cầu thực hiện nghĩa vụ tài chính',
  WITHDRAWN: 'Công dân yêu cầu rút hồ sơ',
  STOPPED: 'Dừng xử lý',
  RESULT_READY: 'Đã xử lý xong',
  RETURNED: 'Đã trả kết quả',
}

export const FINAL_STATUSES: ReadonlySet<DossierStatus> = new Set(['REFUSED_AT_RECEIPT', 'WITHDRAWN', 'STOPPED', 'RETURNED'])

export function isDossierStatus(v: unknown): v is DossierStatus {
  return typeof v === 'string' && Object.hasOwn(DossierStatus, v)
}

/** Channels (kênh nộp): 1 counter (trực tiếp), 2 online (trực tuyến), 3 public post (bưu chính công ích). */
export const Channel = { COUNTER: 1, ONLINE: 2, POST: 3 } as const
export type Channel = (typeof Channel)[keyof typeof Channel]

/** The channel as diagrams see it in conditions: `${channel == 'online'}`. */
export const CHANNEL_NAME: Record<Channel, 'counter' | 'online' | 'post'> = { 1: 'counter', 2: 'online', 3: 'post' }
