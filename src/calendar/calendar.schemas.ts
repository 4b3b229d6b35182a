import { Type } from '@fastify/type-provider-typebox'
import { AUTH, errorResponses, INPUT, JSON_BODY } from '../http/schemas.ts'

/** Printable text: no control characters but tab and line breaks, no lone UTF-16 surrogates. */
const TEXT = '^(?:[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\uD800-\\uDFFF]|[\\uD800-\\uDBFF][\\uDC00-\\uDFFF])*$'
const Text = (maxLength: number, description?: string) =>
  Type.String({ minLength: 1, maxLength, pattern: TEXT, ...(description ? { description } : {}) })

const YearParam = Type.Object({ year: Type.Integer({ minimum: 2000, maximum: 2100 }) })
const DayParams = Type.Object({ year: Type.Integer({ minimum: 2000, maximum: 2100 }), date: Type.String({ format: 'date' }) })
const Kind = Type.Union([Type.Literal('day_off'), Type.Literal('working_day')])
const Name = Text(200)
const Source = Text(500, 'Văn bản pháp lý (số hiệu, ngày)')
const Confirm = Type.Boolean({
  default: false,
  description: 'Chấp nhận lịch để một ngày lễ theo luật thành ngày làm việc (theo văn bản chính thức)',
})
const Entry = Type.Object(
  {
    date: Type.String({ format: 'date' }),
    kind: Kind,
    name: Name,
    source: Source,
    confirmed: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
)

/** A year's table as the API shows it: `official` once any entry is confirmed by an official text. */
const YearView = Type.Object({
  year: Type.Integer(),
  official: Type.Boolean(),
  entries: Type.Array(
    Type.Object({
      date: Type.String({ format: 'date' }),
      kind: Kind,
      name: Type.String(),
      source: Type.String(),
      confirmed: Type.Boolean(),
    }),
  ),
})
const CHANGE_ERRORS = errorResponses(AUTH, INPUT, JSON_BODY, 'FORBIDDEN', 'CALENDAR_HOLIDAYS_MISSING')

export const getYearSchema = {
  tags: ['calendar'],
  summary: "A year's days off and make-up working days",
  params: YearParam,
  response: { 200: YearView, ...errorResponses(AUTH, INPUT) },
}

export const replaceYearSchema = {
  tags: ['calendar'],
  summary:
    "Replace a year's official days off and make-up working days (refused when a statutory holiday would become a working day, unless confirmMissingHolidays)",
  params: YearParam,
  body: Type.Object({ entries: Type.Array(Entry, { maxItems: 100 }), confirmMissingHolidays: Confirm }, { additionalProperties: false }),
  response: { 200: YearView, ...CHANGE_ERRORS },
}

export const setDaySchema = {
  tags: ['calendar'],
  summary: 'Add or change one day (day off or make-up working day) with its legal source; the rest of the year stays',
  params: DayParams,
  body: Type.Object(
    { kind: Kind, name: Name, source: Source, confirmed: Type.Boolean({ default: false }), confirmMissingHolidays: Confirm },
    { additionalProperties: false },
  ),
  response: { 200: YearView, ...CHANGE_ERRORS },
}

export const removeDaySchema = {
  tags: ['calendar'],
  summary: "Remove one day's entry, citing the legal source of the change; the day then follows the weekly rule",
  params: DayParams,
  querystring: Type.Object({ source: Source, confirmMissingHolidays: Confirm }, { additionalProperties: false }),
  response: { 200: YearView, ...errorResponses(AUTH, INPUT, 'FORBIDDEN', 'CALENDAR_DAY_NOT_FOUND', 'CALENDAR_HOLIDAYS_MISSING') },
}
