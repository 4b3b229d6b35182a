/** docs/domain.md#citizen-evaluation: the nine items (a)–(i) the applicant rates, 1 không hài lòng, 2 hài lòng, 3 rất hài lòng. */
export const EVALUATION_ITEMS = {
  a: 'Thời gian giải quyết',
  b: 'Số lượng cơ quan phải liên hệ',
  c: 'Số lần phải liên hệ',
  d: 'Tính chính xác của thông tin công khai',
  e: 'Thái độ của cán bộ',
  f: 'Tính hợp pháp và chi phí',
  g: 'Việc tiếp nhận, xử lý phản ánh, kiến nghị',
  h: 'Chất lượng dịch vụ công trực tuyến',
  i: 'Nội dung khác',
} as const
export type EvaluationItem = keyof typeof EVALUATION_ITEMS
export type Ratings = Record<EvaluationItem, number>
