import { extractText, getDocumentProxy } from 'unpdf'

/** The text of a PDF, as a reader would copy it (checks that Vietnamese text is real, extractable text). */
export async function pdfText(pdf: Buffer | Uint8Array): Promise<string> {
  const doc = await getDocumentProxy(new Uint8Array(pdf))
  const { text } = await extractText(doc, { mergePages: true })
  return (Array.isArray(text) ? text.join('\n') : text).replace(/\s+/g, ' ')
}
