import path from 'node:path'
import { createRequire } from 'node:module'
import fastifyStatic from '@fastify/static'
import type { TokenService } from '../auth/principal.ts'
import type { Api } from '../http/schemas.ts'
import { devSignInSchema, settingsSchema } from './console.schemas.ts'

/** How long a dev sign-in token lives: one working day. */
const DEV_TOKEN_HOURS = 8

/** Where bpmn-js keeps its browser bundles (the diagram viewer of the procedure and dossier pages). */
function bpmnJsDist(): string {
  const require = createRequire(import.meta.url)
  return path.join(path.dirname(require.resolve('bpmn-js/package.json')), 'dist')
}

/**
 * The supervisors' console (bảng điều hành): static pages under /console/ that call the same /api with
 * the same bearer tokens, kept in the browser tab's session storage. No server-side session, no build
 * step: plain ES modules in ./public, and bpmn-js's own browser bundle under /console/vendor/bpmn-js/.
 * Outside production, POST /console/dev-sign-in hands out a token for a demo user.
 */
export async function consoleRoutes(app: Api, opts: { production: boolean; tokens: TokenService }) {
  app.get('/console', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/console/', 301))
  await app.register(fastifyStatic, {
    root: path.join(import.meta.dirname, 'public'),
    prefix: '/console/',
    index: ['index.html'],
    cacheControl: true,
    maxAge: '5m',
  })
  await app.register(fastifyStatic, {
    root: bpmnJsDist(),
    prefix: '/console/vendor/bpmn-js/',
    decorateReply: false,
    allowedPath: (p) => p === '/bpmn-navigated-viewer.production.min.js' || p.startsWith('/assets/'),
    maxAge: '1d',
  })
  app.get('/console/settings.json', { schema: settingsSchema }, async () => ({ devSignIn: !opts.production }))
  if (!opts.production) {
    app.post('/console/dev-sign-in', { schema: devSignInSchema }, async (req) => {
      const { role, agency, userId, groups } = req.body
      const token = await opts.tokens.sign(
        { userId: userId ?? `${role}-demo`, roles: [role], agency, groups: groups ?? (role === 'officer' ? ['one-stop'] : []) },
        `${DEV_TOKEN_HOURS}h`,
      )
      return { token, expiresInHours: DEV_TOKEN_HOURS }
    })
  }
}
