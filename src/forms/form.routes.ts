import type { FastifyReply } from 'fastify'
import type { Api } from '../http/schemas.ts'
import { dossierFormSchema, registerFormSchema } from './form.schemas.ts'
import type { FormService } from './form.service.ts'

const pdf = (reply: FastifyReply, name: string, body: Buffer) =>
  reply.header('content-type', 'application/pdf').header('content-disposition', `inline; filename="${name}.pdf"`).send(body)

/** Printable forms (biểu mẫu) as PDFs. */
export async function formRoutes(app: Api, opts: { forms: FormService }) {
  app.get('/dossiers/:id/forms/:form', { schema: dossierFormSchema }, async (req, reply) => {
    const { id, form } = req.params
    return pdf(reply, form, await opts.forms.dossierForm(req.principal, id, form))
  })
  app.get('/forms/mau-06', { schema: registerFormSchema }, async (req, reply) => {
    return pdf(reply, 'mau-06', await opts.forms.register(req.principal, req.query.from, req.query.to))
  })
}
