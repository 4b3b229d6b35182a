/**
 * The catalogue of coded errors. Handlers and clients match on `code`, never on the message.
 */
export const ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  XML_BODY_REQUIRED: 400,
  IDEMPOTENCY_KEY_INVALID: 400,
  CURSOR_INVALID: 400,
  INPUT_LIMIT_EXCEEDED: 400,
  /** A completion's variables do not meet the task's form (camunda:formData): `details.field` names the field. */
  FORM_FIELD_INVALID: 400,
  /** POST /api/process-instances/:id/variables: a value does not fit its declared type, or the name is reserved (`details.name`). */
  VARIABLE_VALUE_INVALID: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  PROCEDURE_AGENCY_FORBIDDEN: 403,
  PROCEDURE_OWNED_BY_OTHER_AGENCY: 403,
  PROCEDURE_NOT_FOUND: 404,
  PROCEDURE_VERSION_NOT_FOUND: 404,
  DOSSIER_NOT_FOUND: 404,
  TASK_NOT_FOUND: 404,
  /** No running process instance with that id within the caller's reach (unknown, finished, or another agency's). */
  PROCESS_INSTANCE_NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  TASK_ALREADY_COMPLETED: 409,
  /** The process left the task (a timer interrupted it, another path ended it): it can no longer be completed. */
  TASK_CANCELLED: 409,
  TASK_CLAIMED_BY_OTHER: 409,
  TASK_NOT_CLAIMED: 409,
  CONCURRENT_MODIFICATION: 409,
  IDEMPOTENCY_KEY_REUSED: 422,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  BPMN_INVALID: 422,
  CHANNEL_NOT_ALLOWED: 422,
  PROCESS_STEP_FAILED: 422,
  /** A BPMN error thrown from a task (POST /api/tasks/:id/bpmn-error) that no boundary event catches: nothing changed. */
  BPMN_ERROR_NOT_CAUGHT: 422,
  /** An escalation raised from a task (POST /api/tasks/:id/bpmn-escalation) that nothing catches: nothing changed. */
  ESCALATION_NOT_CAUGHT: 422,
  /** A call activity's binding names a version of the called procedure that does not exist (or none is left): nothing changed. */
  CALLED_PROCEDURE_NOT_FOUND: 422,
  /** Call activities nested deeper than the limit (a procedure calling itself through others): nothing changed. */
  CALL_DEPTH_EXCEEDED: 422,
  EXTENSION_NOT_ALLOWED: 409,
  EXTENSION_ALREADY_USED: 409,
  EXTENSION_TOO_LATE: 422,
  INVALID_STATUS_TRANSITION: 409,
  ACTION_NOT_AVAILABLE: 409,
  NOT_WAITING_FOR_MESSAGE: 409,
  /** POST /api/messages: no running instance the caller may reach waits for the message (with those keys). */
  MESSAGE_NOT_CORRELATED: 404,
  /** POST /api/messages without `all`: more than one instance waits for the message. */
  MESSAGE_CORRELATION_AMBIGUOUS: 409,
  DOSSIER_CLOSED: 409,
  SUPPLEMENT_ITEMS_INVALID: 422,
  RESULT_DOCUMENT_REQUIRED: 422,
  DOCUMENT_NOT_FOUND: 404,
  DOCUMENT_TYPE_NOT_ALLOWED: 415,
  DOCUMENT_TOO_LARGE: 413,
  DOCUMENT_EMPTY: 400,
  DOCUMENT_CODE_UNKNOWN: 422,
  FORM_NOT_AVAILABLE: 409,
  FORM_NOT_FOUND: 404,
  CALENDAR_HOLIDAYS_MISSING: 422,
  CALENDAR_DAY_NOT_FOUND: 404,
  PAYMENT_NOT_DUE: 409,
  PAYMENT_NOT_FOUND: 404,
  PAYMENT_SIGNATURE_INVALID: 401,
  PAYMENT_AMOUNT_MISMATCH: 422,
  PAYMENT_ALREADY_SETTLED: 409,
  EVALUATION_NOT_ALLOWED: 409,
  EVALUATION_ALREADY_GIVEN: 409,
  EVALUATION_NOT_FOUND: 404,
  LOOKUP_NOT_FOUND: 404,
  RATE_LIMITED: 429,
  POSTAL_HANDOVER_REQUIRED: 422,
  WITHDRAWAL_REQUEST_REQUIRED: 422,
  /** Handoffs (liên thông), incidents and external tasks: docs/handoffs.md. */
  HANDOFF_NOT_FOUND: 404,
  /** The handoff was already answered, cancelled or is in an incident: a second answer changes nothing. */
  HANDOFF_ALREADY_ANSWERED: 409,
  /** A peer's callback whose signature does not verify with the peer's key (or names no configured peer). */
  HANDOFF_SIGNATURE_INVALID: 401,
  /** A peer's callback whose timestamp is too far from now (a replayed or delayed request). */
  HANDOFF_TIMESTAMP_EXPIRED: 401,
  /** A document handed over by a peer system whose content does not match the SHA-256 the sender declared. */
  PEER_DOCUMENT_CHECKSUM_MISMATCH: 422,
  INCIDENT_NOT_FOUND: 404,
  INCIDENT_ALREADY_RESOLVED: 409,
  EXTERNAL_TASK_NOT_FOUND: 404,
  /** The caller's worker does not hold an unexpired lock on the external task. */
  EXTERNAL_TASK_LOCK_NOT_HELD: 409,
  /** A worker token may take only the topics it names. */
  EXTERNAL_TASK_TOPIC_FORBIDDEN: 403,
  /** POST /api/citizen-notifications/:id/retry: no such notification the caller may see. */
  NOTIFICATION_NOT_FOUND: 404,
  /** POST /api/citizen-notifications/:id/retry: only a `failed` notification is retried. */
  NOTIFICATION_NOT_RETRYABLE: 409,
  /** POST /api/postal/tracking: no postal order of ours has this tracking number (mã vận đơn). */
  POSTAL_TRACKING_UNKNOWN: 404,
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
} as const
export type ErrorCode = keyof typeof ERROR_STATUS

export class AppError extends Error {
  readonly status: number
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message)
    this.status = ERROR_STATUS[code]
  }
}
