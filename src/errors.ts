/**
 * The catalogue of coded errors. Handlers and clients match on `code`, never on the message.
 */
export const ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  XML_BODY_REQUIRED: 400,
  IDEMPOTENCY_KEY_INVALID: 400,
  CURSOR_INVALID: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  PROCEDURE_NOT_FOUND: 404,
  PROCEDURE_VERSION_NOT_FOUND: 404,
  DOSSIER_NOT_FOUND: 404,
  TASK_NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  TASK_ALREADY_COMPLETED: 409,
  TASK_CLAIMED_BY_OTHER: 409,
  TASK_NOT_CLAIMED: 409,
  CONCURRENT_MODIFICATION: 409,
  IDEMPOTENCY_KEY_REUSED: 422,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  BPMN_INVALID: 422,
  CHANNEL_NOT_ALLOWED: 422,
  PROCESS_STEP_FAILED: 422,
  EXTENSION_NOT_ALLOWED: 409,
  EXTENSION_ALREADY_USED: 409,
  EXTENSION_TOO_LATE: 422,
  INTERNAL_ERROR: 500,
} as const
export type ErrorCode = keyof typeof ERROR_STATUS

export class AppError extends Error {
  readonly status: number
  constructor(readonly code: ErrorCode, message: string, readonly details?: unknown) {
    super(message)
    this.status = ERROR_STATUS[code]
  }
}
