import { Type } from '@fastify/type-provider-typebox'
import { AUTH, errorResponses, fileResponse, INPUT } from '../http/schemas.ts'
import { DOSSIER_FORMS } from './form.service.ts'

export const dossierFormSchema = {
  tags: ['forms'],
  summary: 'Mẫu 01 receipt, 02 supplement request, 03 refusal, 04 apology, 05 process-control sheet (PDF, A5)',
  params: Type.Object({ id: Type.String({ format: 'uuid' }), form: Type.Union(DOSSIER_FORMS.map((f) => Type.Literal(f))) }),
  response: {
    200: fileResponse('The form', ['application/pdf']),
    ...errorResponses(AUTH, INPUT, 'DOSSIER_NOT_FOUND', 'FORM_NOT_AVAILABLE'),
  },
}

export const registerFormSchema = {
  tags: ['forms'],
  summary: 'Mẫu 06 register of the agency (PDF, A4)',
  querystring: Type.Object({ from: Type.String({ format: 'date' }), to: Type.String({ format: 'date' }) }, { additionalProperties: false }),
  response: { 200: fileResponse('The register', ['application/pdf']), ...errorResponses(AUTH, INPUT, 'FORBIDDEN') },
}
