import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { AppError } from '../errors.ts'
import type { LifecycleAction } from '../procedures/lifecycle-actions.ts'

export type { LifecycleAction }

const Text = (max: number) => Type.String({ minLength: 1, maxLength: max })

/**
 * The body each lifecycle action (thao tác nghiệp vụ) takes. An action completes the dossier's open
 * task that offers it (`tthc:actions` on the diagram) with `outcome = <action>`.
 */
export const ACTION_BODIES = {
  accept: Type.Object({ note: Type.Optional(Text(2000)) }, { additionalProperties: false }), // tiếp nhận
  'request-supplement': Type.Object(
    {
      // yêu cầu bổ sung hồ sơ (Mẫu 02)
      items: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
        minItems: 1,
        maxItems: 50,
        uniqueItems: true,
        description: 'Mã giấy tờ trong danh mục thành phần hồ sơ đã công bố',
      }),
      reason: Text(2000),
    },
    { additionalProperties: false },
  ),
  refuse: Type.Object({ reasons: Type.Array(Text(1000), { minItems: 1, maxItems: 20 }) }, { additionalProperties: false }), // từ chối (Mẫu 03)
  transfer: Type.Object({ toUnit: Type.Optional(Text(200)), note: Type.Optional(Text(2000)) }, { additionalProperties: false }), // chuyển hồ sơ
  propose: Type.Object({ opinion: Type.Optional(Text(4000)) }, { additionalProperties: false }), // đề xuất
  consult: Type.Object({ unit: Text(200), question: Text(4000) }, { additionalProperties: false }), // lấy ý kiến
  answer: Type.Object({ opinion: Text(4000) }, { additionalProperties: false }), // trả lời lấy ý kiến / kết quả xác minh
  'request-financial-obligation': Type.Object(
    { amount: Type.Integer({ minimum: 1000, maximum: 100_000_000_000 }), reason: Text(2000) },
    { additionalProperties: false },
  ), // nghĩa vụ tài chính
  approve: Type.Object({ note: Type.Optional(Text(2000)) }, { additionalProperties: false }), // phê duyệt, ký
  return: Type.Object(
    {
      // trả kết quả
      method: Type.Union([Type.Literal('counter'), Type.Literal('online'), Type.Literal('post')]),
      recipientName: Type.Optional(Text(200)),
      waybill: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9-]{4,40}$' })),
    },
    { additionalProperties: false },
  ),
} satisfies Record<LifecycleAction, TSchema>

export type ActionBody<A extends LifecycleAction> = Static<(typeof ACTION_BODIES)[A]>

const compiled = Object.fromEntries(
  Object.entries(ACTION_BODIES).map(([k, s]) => [k, TypeCompiler.Compile(s as TSchema)]),
) as unknown as Record<LifecycleAction, ReturnType<typeof TypeCompiler.Compile>>

export function isLifecycleAction(a: string): a is LifecycleAction {
  return Object.hasOwn(ACTION_BODIES, a)
}

export function parseActionBody(action: LifecycleAction, body: unknown): Record<string, unknown> {
  const value = body ?? {}
  const check = compiled[action]
  if (!check.Check(value)) {
    const first = check.Errors(value).First()
    throw new AppError(
      'VALIDATION_FAILED',
      `Dữ liệu cho thao tác "${action}" không hợp lệ: ${first ? `${first.path || '/'} ${first.message}` : 'sai cấu trúc'}`,
      { action, path: first?.path ?? null },
    )
  }
  return value as Record<string, unknown>
}

/** History action names (nhật ký) of each lifecycle action. */
export const ACTION_HISTORY: Record<LifecycleAction, string> = {
  accept: 'lifecycle.accepted',
  'request-supplement': 'lifecycle.supplement_requested',
  refuse: 'lifecycle.refused',
  transfer: 'lifecycle.transferred',
  propose: 'lifecycle.proposed',
  consult: 'lifecycle.consultation_requested',
  answer: 'lifecycle.consultation_answered',
  'request-financial-obligation': 'lifecycle.financial_obligation_requested',
  approve: 'lifecycle.approved',
  return: 'lifecycle.returned',
}
