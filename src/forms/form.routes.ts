import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { DOSSIER_FORMS, type DossierForm, type FormService } from './form.service.ts'

const pdf = (reply: FastifyReply, name: string, body: Buffer) => reply.header('content-type', 'application/pdf').header('content-disposition', `inline; filename="${name}.pdf"`).send(body)

/** Printable forms (biểu mẫu) as PDFs. */
export async function formRoutes(app: FastifyInstance, opts: { forms: FormService }) {
  app.get('/dossiers/:id/forms/:form', {
    schema: {
      tags: ['forms'],
      summary: 'Mẫu 01 receipt, 02 supplement request, 03 refusal, 04 apology, 05 process-control sheet (PDF, A5)',
      params: Type.Object({ id: Type.String({ format: 'uuid' }), form: Type.Union(DOSSIER_FORMS.map((f) => Type.Literal(f))) }),
    },
  }, async (req, reply) => {
    const { id, form } = req.params as { id: string; form: DossierForm }
    return pdf(reply, form, await opts.forms.dossierForm(req.principal, id, form))
  })
  app.get('/forms/mau-06', {
    schema: { tags: ['forms'], summary: 'Mẫu 06 register of the agency (PDF, A4)', querystring: Type.Object({ from: Type.String({ format: 'date' }), to: Type.String({ format: 'date' }) }, { additionalProperties: false }) },
  }, async (req, reply) => {
    const { from, to } = req.query as { from: string; to: string }
    return pdf(reply, 'mau-06', await opts.forms.register(req.principal, from, to))
  })
}
