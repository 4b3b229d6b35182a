/**
 * Procedure metadata that BPMN has no place for (thông tin thủ tục hành chính), read from
 * `<tthc:procedure>` in the process's extensionElements. Everything optional: a diagram without it
 * deploys, and its procedure code is then the process id.
 */
export const TIME_LIMIT_UNITS = ['workingDays', 'calendarDays', 'hours', 'months'] as const
export type TimeLimitUnit = (typeof TIME_LIMIT_UNITS)[number]
export const SUPPLEMENT_POLICIES = ['PAUSE', 'RESTART'] as const
export type SupplementPolicy = (typeof SUPPLEMENT_POLICIES)[number]

export interface ProcedureFee {
  code: string
  name: string
  amount: number
}
export interface ProcedureDocument {
  code: string
  name: string
  required: boolean
  copies: number
}

export interface ProcedureMetadata {
  code: string
  name: string
  agency: string
  unitId: string
  /** Online service level: 2 information only, 3 một phần (submit online), 4 toàn trình (fully online). */
  level: 2 | 3 | 4
  timeLimit: number | null
  timeLimitUnit: TimeLimitUnit
  /** Extra time for dossiers from mountainous, island or difficult areas (vùng khó khăn), same unit; `data.difficultArea = true`. */
  difficultAreaExtra: number | null
  supplementPolicy: SupplementPolicy
  /** Channels allowed: 1 counter, 2 online, 3 public post. */
  channels: number[]
  legalBasis: string | null
  fees: ProcedureFee[]
  documents: ProcedureDocument[]
  /**
   * The variables a dossier handed to us by a peer deployment sends back with its callback (docs/handoffs.md),
   * besides its outcome: e.g. the tax authority's notice (`obligationAmount`, `taxNoticeNumber`).
   */
  answerVariables: string[]
}

export interface MetadataFinding {
  elementId: string | null
  code: string
  message: string
}

interface RawProcedure {
  code?: string
  name?: string
  agency?: string
  unitId?: string
  level?: string
  timeLimit?: string
  timeLimitUnit?: string
  difficultAreaExtra?: string
  supplementPolicy?: string
  channels?: string
  legalBasis?: string
  answerVariables?: string
  fees?: Array<{ code?: string; name?: string; amount?: string }>
  documents?: Array<{ code?: string; name?: string; required?: string; copies?: string }>
}

export function readProcedureMetadata(
  process: { id: string; name?: string; extensionElements?: { values?: Array<{ $type: string }> } },
  defaults: { agency: string; unitId: string },
): { metadata: ProcedureMetadata; findings: MetadataFinding[] } {
  const findings: MetadataFinding[] = []
  const raw = (process.extensionElements?.values ?? []).find((v) => v.$type === 'tthc:Procedure') as RawProcedure | undefined
  const bad = (code: string, message: string) => findings.push({ elementId: process.id, code, message })
  const r: RawProcedure = raw ?? {}

  const level = r.level === undefined ? 3 : Number(r.level)
  if (![2, 3, 4].includes(level)) bad('METADATA_INVALID', `tthc:procedure level must be 2, 3 or 4, got "${r.level}"`)
  const timeLimit = r.timeLimit === undefined ? null : Number(r.timeLimit)
  if (timeLimit !== null && !(Number.isFinite(timeLimit) && timeLimit >= 0))
    bad('METADATA_INVALID', `tthc:procedure timeLimit must be a non-negative number, got "${r.timeLimit}"`)
  const extra = r.difficultAreaExtra === undefined ? null : Number(r.difficultAreaExtra)
  if (extra !== null && !(Number.isFinite(extra) && extra >= 0))
    bad('METADATA_INVALID', `tthc:procedure difficultAreaExtra must be a non-negative number, got "${r.difficultAreaExtra}"`)
  const unit = (r.timeLimitUnit ?? 'workingDays') as TimeLimitUnit
  if (!TIME_LIMIT_UNITS.includes(unit))
    bad('METADATA_INVALID', `tthc:procedure timeLimitUnit must be one of ${TIME_LIMIT_UNITS.join(', ')}`)
  const policy = (r.supplementPolicy ?? 'PAUSE') as SupplementPolicy
  if (!SUPPLEMENT_POLICIES.includes(policy)) bad('METADATA_INVALID', `tthc:procedure supplementPolicy must be PAUSE or RESTART`)
  const channels = (r.channels ?? '1,2,3').split(',').map((s) => Number(s.trim()))
  if (channels.some((c) => ![1, 2, 3].includes(c)))
    bad('METADATA_INVALID', 'tthc:procedure channels must list 1 (counter), 2 (online), 3 (post)')
  const code = (r.code ?? process.id).trim()
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(code))
    bad('METADATA_INVALID', `procedure code "${code}" may only hold letters, digits, ".", "_" and "-"`)

  // The receiving unit's identifier (mã định danh, groups of digits and letters separated by dots): the dossier code starts with it.
  const unitId = (r.unitId ?? defaults.unitId).trim()
  if (!/^[A-Za-z0-9]+(\.[A-Za-z0-9]+)*$/.test(unitId))
    bad('METADATA_INVALID', `tthc:procedure unitId "${unitId}" must be groups of letters and digits separated by "." (e.g. 000.00.20.H12)`)

  const answerVariables = (r.answerVariables ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  if (answerVariables.some((v) => !/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(v)))
    bad('METADATA_INVALID', 'tthc:procedure answerVariables must list variable names separated by commas')

  const fees = (r.fees ?? []).map((f, i) => {
    const amount = Number(f.amount ?? 0)
    if (!Number.isFinite(amount) || amount < 0) bad('METADATA_INVALID', `fee #${i + 1} amount must be a non-negative number`)
    return { code: f.code ?? `fee-${i + 1}`, name: f.name ?? '', amount }
  })
  const documents = (r.documents ?? []).map((d, i) => ({
    code: d.code ?? `doc-${i + 1}`,
    name: d.name ?? '',
    required: d.required === undefined ? true : d.required === 'true',
    copies: d.copies === undefined ? 1 : Number(d.copies),
  }))

  return {
    metadata: {
      code,
      name: r.name ?? process.name ?? process.id,
      agency: r.agency ?? defaults.agency,
      unitId,
      level: (level === 2 || level === 4 ? level : 3) as 2 | 3 | 4,
      timeLimit,
      timeLimitUnit: unit,
      difficultAreaExtra: extra,
      supplementPolicy: policy,
      channels,
      legalBasis: r.legalBasis ?? null,
      fees,
      documents,
      answerVariables,
    },
    findings,
  }
}
