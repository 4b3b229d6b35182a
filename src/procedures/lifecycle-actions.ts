/**
 * The one-stop lifecycle actions (thao tác một cửa) a diagram's user task may offer with `tthc:actions`
 * (docs/procedures.md); a deployment refuses any other name.
 */
export const LIFECYCLE_ACTIONS = [
  'accept',
  'request-supplement',
  'refuse',
  'transfer',
  'propose',
  'consult',
  'answer',
  'request-financial-obligation',
  'approve',
  'return',
] as const
export type LifecycleAction = (typeof LIFECYCLE_ACTIONS)[number]
