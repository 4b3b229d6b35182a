import { checkExpression, evaluateExpression, isExpression } from './expressions.ts'

/**
 * Call activities (hoạt động gọi quy trình khác) to another deployed procedure: what the diagram
 * says of each, read at deploy time and stored with the version. The called procedure runs as its
 * own process instance of the same dossier (src/steps/calls.ts); calls to a process of the same file
 * or of the shared library keep running inside the caller's engine and never get here.
 */

/** One `camunda:in` or `camunda:out` mapping. */
export interface VariableMapping {
  /** `variables="all"`: every variable of the source scope. */
  all?: boolean
  source?: string
  sourceExpression?: string
  target?: string
  /** `local="true"`: only the local variables of the source (here: the multi-instance element variables with `all`). */
  local?: boolean
}

export type CallBinding = 'latest' | 'deployment' | 'version'

export interface CallSpec {
  /** `calledElement` as drawn: the called process id (Camunda 7's definition key) or a procedure code. */
  calledElement: string
  /** The procedure it resolved to at deploy time. */
  procedureCode: string
  binding: CallBinding
  /** `camunda:calledElementVersion` (binding `version`): a number or an expression. */
  version: string | null
  /** Binding `deployment`: the id of the version that was the latest when the caller was deployed. */
  deploymentVersionId: number | null
  inputs: VariableMapping[]
  outputs: VariableMapping[]
}

/** The call activities of a version that start another procedure, by activity id. */
export type CallSpecs = Record<string, CallSpec>

/** A deployed procedure a call activity may name (looked up at deploy time). */
export interface DeployedProcedure {
  procedureCode: string
  /** Its version numbers, and the id of the latest one. */
  versions: number[]
  latestVersionId: number
}

type Report = (elementId: string | null, code: string, message: string) => void

/** A bpmn-moddle element, loosely: the attributes read here. */
interface El {
  $type: string
  id?: string
  name?: string
  calledElement?: string
  calledElementBinding?: string
  calledElementVersion?: string | number
  extensionElements?: { values?: El[] }
  [k: string]: unknown
}

/** Reads a call activity to a deployed procedure; problems are reported as findings. */
export function readCallSpec(el: El, target: DeployedProcedure, error: Report): CallSpec {
  const id = el.id ?? null
  const label = `"${el.name ?? el.id}"`
  const binding = (el.calledElementBinding ?? 'latest') as CallBinding
  const version = el.calledElementVersion === undefined ? null : String(el.calledElementVersion).trim()
  if (binding === 'version') {
    if (!version) {
      error(
        id,
        'CALLED_ELEMENT_VERSION_MISSING',
        `Hoạt động gọi ${label} dùng calledElementBinding="version" nhưng thiếu camunda:calledElementVersion`,
      )
    } else if (isExpression(version)) {
      try {
        checkExpression(version)
      } catch (err) {
        error(id, 'EXPRESSION_INVALID', `camunda:calledElementVersion: ${(err as Error).message}`)
      }
    } else if (!/^\d+$/.test(version) || !target.versions.includes(Number(version))) {
      error(
        id,
        'CALLED_ELEMENT_VERSION_UNKNOWN',
        `Hoạt động gọi ${label} gọi phiên bản ${version} của thủ tục ${target.procedureCode}, phiên bản này không tồn tại (có: ${target.versions.join(', ')})`,
      )
    }
  }
  const inputs: VariableMapping[] = []
  const outputs: VariableMapping[] = []
  for (const ext of el.extensionElements?.values ?? []) {
    if (ext.$type !== 'camunda:In' && ext.$type !== 'camunda:Out') continue
    // `businessKey` is the dossier's code: every instance of a dossier shares it (nothing to map).
    if (ext.businessKey !== undefined) continue
    const m: VariableMapping = {}
    if (ext.variables === 'all') m.all = true
    if (typeof ext.source === 'string') m.source = ext.source
    if (typeof ext.sourceExpression === 'string') m.sourceExpression = ext.sourceExpression
    if (typeof ext.target === 'string') m.target = ext.target
    if (ext.local === true) m.local = true
    if (!m.all && !((m.source || m.sourceExpression) && m.target)) {
      error(id, 'CALL_ACTIVITY_MAPPING_INVALID', `${ext.$type} trên ${label} cần variables="all", hoặc source/sourceExpression cùng target`)
      continue
    }
    if (m.sourceExpression) {
      try {
        checkExpression(m.sourceExpression)
      } catch (err) {
        error(id, 'EXPRESSION_INVALID', `${ext.$type} sourceExpression: ${(err as Error).message}`)
      }
    }
    ;(ext.$type === 'camunda:In' ? inputs : outputs).push(m)
  }
  return {
    calledElement: String(el.calledElement),
    procedureCode: target.procedureCode,
    binding,
    version: binding === 'version' ? version : null,
    deploymentVersionId: binding === 'deployment' ? target.latestVersionId : null,
    inputs,
    outputs,
  }
}

/**
 * The variables a set of mappings hands over, as Camunda 7 does: without any mapping, none; `all`
 * copies every variable (with `local`, only `locals`); `source` copies one variable to `target`;
 * `sourceExpression` evaluates in the safe evaluator. Applied in order: later mappings win.
 */
export function mapVariables(
  mappings: readonly VariableMapping[],
  variables: Record<string, unknown>,
  locals: Record<string, unknown> = {},
): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const all = { ...variables, ...locals }
  for (const m of mappings) {
    if (m.all) Object.assign(out, m.local ? locals : all)
    else if (m.sourceExpression) out[m.target!] = evaluateExpression(m.sourceExpression, all)
    else if (m.source && Object.hasOwn(all, m.source)) out[m.target!] = all[m.source]
  }
  return out
}

/** The version number binding `version` names, evaluated against the caller's variables; null when it is not a whole number. */
export function calledVersion(spec: CallSpec, variables: Record<string, unknown>): number | null {
  if (!spec.version) return null
  const v = isExpression(spec.version) ? evaluateExpression(spec.version, variables) : spec.version
  const n = Number(v)
  return Number.isInteger(n) && n > 0 ? n : null
}
