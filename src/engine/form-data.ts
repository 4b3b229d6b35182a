/**
 * Embedded task forms (biểu mẫu nhúng, `camunda:formData`) read at deploy: the fields a user task
 * shows and the constraints its completion must meet (docs/procedures.md#task-forms). What this
 * system could not enforce as Camunda 7 does (a custom type or validator, an expression default)
 * is refused here.
 */

export const FORM_FIELD_TYPES = ['string', 'long', 'boolean', 'date', 'enum'] as const
export type FormFieldType = (typeof FORM_FIELD_TYPES)[number]

/** Camunda 7's built-in validators (`camunda:constraint name`). */
export const FORM_CONSTRAINTS = ['required', 'readonly', 'minlength', 'maxlength', 'min', 'max'] as const
export type FormConstraintName = (typeof FORM_CONSTRAINTS)[number]

export interface FormField {
  id: string
  label: string | null
  type: FormFieldType
  /** Already converted to the field's type (a date stays its ISO text). */
  defaultValue: string | number | boolean | null
  /** Enum values: id (what is stored) and name (what is shown). */
  values: Array<{ id: string; name: string | null }>
  constraints: Array<{ name: FormConstraintName; config: number | null }>
}

export interface TaskForm {
  fields: FormField[]
}

type Report = (elementId: string | null, code: string, message: string) => void

/** The moddle shapes read here (camunda:FormData and its children). */
interface FormDataEl {
  fields?: Array<{
    id?: string
    label?: string
    type?: string
    defaultValue?: string
    datePattern?: string
    values?: Array<{ id?: string; name?: string }>
    validation?: { constraints?: Array<{ name?: string; config?: string }> }
  }>
  businessKey?: string
}

const FIELD_ID = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/

/**
 * Converts a submitted (or default) value to the field's type, as Camunda 7's form types do; `null`
 * when it is not a value of that type. Longs accept integers and their decimal text, booleans
 * `true`/`false` and their text, dates an ISO 8601 date or date-time.
 */
export function convertFormValue(field: Pick<FormField, 'type' | 'values'>, value: unknown): { value: string | number | boolean } | null {
  switch (field.type) {
    case 'string':
      return typeof value === 'string' ? { value } : null
    case 'long': {
      const n = typeof value === 'string' && /^-?\d{1,16}$/.test(value.trim()) ? Number(value.trim()) : value
      return typeof n === 'number' && Number.isSafeInteger(n) ? { value: n } : null
    }
    case 'boolean':
      if (typeof value === 'boolean') return { value }
      return value === 'true' || value === 'false' ? { value: value === 'true' } : null
    case 'date':
      return typeof value === 'string' && ISO_DATE.test(value) && !Number.isNaN(Date.parse(value)) ? { value } : null
    case 'enum':
      return typeof value === 'string' && field.values.some((v) => v.id === value) ? { value } : null
  }
}

/** Reads a user task's `camunda:formData`; problems become findings (`error`) and the form is then null. */
export function readFormData(elementId: string, data: object, error: Report): TaskForm | null {
  const before = { count: 0 }
  const fail: Report = (id, code, message) => {
    before.count++
    error(id, code, message)
  }
  const form = data as FormDataEl
  if (form.businessKey !== undefined)
    fail(elementId, 'FORM_DATA_UNSUPPORTED', 'camunda:formData businessKey chỉ dùng cho biểu mẫu bắt đầu: hồ sơ đã có mã của nó')
  const fields: FormField[] = []
  const seen = new Set<string>()
  for (const f of form.fields ?? []) {
    const field = readField(elementId, f, fail)
    if (!field) continue
    if (seen.has(field.id)) fail(elementId, 'FORM_FIELD_DUPLICATE', `Trường "${field.id}" khai báo hai lần trong biểu mẫu`)
    seen.add(field.id)
    fields.push(field)
  }
  return before.count ? null : { fields }
}

function readField(elementId: string, f: NonNullable<FormDataEl['fields']>[number], fail: Report): FormField | null {
  const id = f.id ?? ''
  if (!FIELD_ID.test(id)) {
    fail(elementId, 'FORM_FIELD_INVALID', `Trường biểu mẫu "${id}" phải có id là một tên biến (chữ, số, _; tối đa 64 ký tự)`)
    return null
  }
  const type = (f.type ?? 'string') as FormFieldType
  if (!FORM_FIELD_TYPES.includes(type)) {
    fail(
      elementId,
      'FORM_FIELD_TYPE_UNSUPPORTED',
      `Trường "${id}" có kiểu "${f.type}": chỉ hỗ trợ các kiểu sẵn có của Camunda 7 (${FORM_FIELD_TYPES.join(', ')})`,
    )
    return null
  }
  if (f.datePattern !== undefined && f.datePattern !== 'dd/MM/yyyy' && type === 'date')
    fail(elementId, 'FORM_FIELD_INVALID', `Trường ngày "${id}": chỉ nhận ngày ISO 8601 (YYYY-MM-DD), không dùng datePattern`)
  const values = (f.values ?? []).map((v) => ({ id: v.id ?? '', name: v.name ?? null }))
  if (type === 'enum' && (!values.length || values.some((v) => !v.id)))
    fail(elementId, 'FORM_FIELD_INVALID', `Trường "${id}" kiểu enum cần danh sách giá trị (camunda:value) có id`)
  const constraints: FormField['constraints'] = []
  for (const c of f.validation?.constraints ?? []) {
    const name = c.name as FormConstraintName
    if (!FORM_CONSTRAINTS.includes(name)) {
      fail(
        elementId,
        'FORM_CONSTRAINT_UNSUPPORTED',
        `Ràng buộc "${c.name ?? ''}" của trường "${id}" không được hỗ trợ: chỉ có ${FORM_CONSTRAINTS.join(', ')} (bộ kiểm tra tự viết không chạy được)`,
      )
      continue
    }
    const bounded = name === 'min' || name === 'max' || name === 'minlength' || name === 'maxlength'
    const config = bounded ? Number(c.config) : null
    if (bounded && !(c.config !== undefined && c.config.trim() !== '' && Number.isFinite(config))) {
      fail(elementId, 'FORM_CONSTRAINT_INVALID', `Ràng buộc ${name} của trường "${id}" cần một số (config), không phải "${c.config ?? ''}"`)
      continue
    }
    if ((name === 'min' || name === 'max') && type !== 'long')
      fail(elementId, 'FORM_CONSTRAINT_INVALID', `Ràng buộc ${name} chỉ áp dụng cho trường số (long), trường "${id}" có kiểu ${type}`)
    if ((name === 'minlength' || name === 'maxlength') && type !== 'string')
      fail(elementId, 'FORM_CONSTRAINT_INVALID', `Ràng buộc ${name} chỉ áp dụng cho trường chữ (string), trường "${id}" có kiểu ${type}`)
    constraints.push({ name, config })
  }
  let defaultValue: FormField['defaultValue'] = null
  if (f.defaultValue !== undefined) {
    if (/\$\{|#\{/.test(f.defaultValue)) {
      fail(elementId, 'FORM_FIELD_DEFAULT_UNSUPPORTED', `Giá trị mặc định của trường "${id}" là biểu thức: chỉ hỗ trợ giá trị cố định`)
    } else {
      const converted = convertFormValue({ type, values }, f.defaultValue)
      if (converted) defaultValue = converted.value
      else fail(elementId, 'FORM_FIELD_INVALID', `Giá trị mặc định "${f.defaultValue}" của trường "${id}" không phải kiểu ${type}`)
    }
  }
  return { id, label: f.label ?? null, type, defaultValue, values, constraints }
}
