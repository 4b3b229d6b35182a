import { AppError } from '../errors.ts'
import { convertFormValue, type FormField, type TaskForm } from '../engine/form-data.ts'

const invalid = (field: FormField, reason: string, message: string) =>
  new AppError('FORM_FIELD_INVALID', `Trường "${field.label ?? field.id}" (${field.id}) ${message}`, { field: field.id, reason })

const missing = (v: unknown) => v === undefined || v === null || v === ''

/**
 * The variables a completion sets once its task's form (camunda:formData) accepts them, as Camunda 7
 * submits a form: each field's value converted to the field's type, the default for a field not sent,
 * variables the form does not name passed through. The first field that fails refuses the whole
 * completion (400 FORM_FIELD_INVALID naming the field): nothing is written.
 */
export function applyTaskForm(form: TaskForm | null | undefined, variables: Record<string, unknown>): Record<string, unknown> {
  if (!form?.fields.length) return variables
  const out = { ...variables }
  for (const field of form.fields) {
    const has = (name: string) => field.constraints.some((c) => c.name === name)
    const sent = out[field.id]
    if (missing(sent)) {
      if (has('readonly') && sent !== undefined) throw invalid(field, 'readonly', 'chỉ để đọc, không được gửi giá trị')
      if (field.defaultValue !== null) out[field.id] = field.defaultValue
      else if (has('required')) throw invalid(field, 'required', 'là bắt buộc')
      else delete out[field.id]
      continue
    }
    if (has('readonly')) throw invalid(field, 'readonly', 'chỉ để đọc, không được gửi giá trị')
    const converted = convertFormValue(field, sent)
    if (!converted)
      throw invalid(
        field,
        'type',
        field.type === 'enum' ? `phải là một trong ${field.values.map((v) => v.id).join(', ')}` : `phải có kiểu ${field.type}`,
      )
    const value = converted.value
    for (const c of field.constraints) {
      const bound = c.config ?? 0
      if (c.name === 'min' && typeof value === 'number' && value < bound) throw invalid(field, 'min', `phải từ ${bound} trở lên`)
      if (c.name === 'max' && typeof value === 'number' && value > bound) throw invalid(field, 'max', `phải không quá ${bound}`)
      if (c.name === 'minlength' && typeof value === 'string' && value.length < bound)
        throw invalid(field, 'minlength', `phải có ít nhất ${bound} ký tự`)
      if (c.name === 'maxlength' && typeof value === 'string' && value.length > bound)
        throw invalid(field, 'maxlength', `phải có tối đa ${bound} ký tự`)
    }
    out[field.id] = value
  }
  return out
}
