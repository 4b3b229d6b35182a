/**
 * Prints a bearer token for local use. The last line is the token.
 *   npm run token -- --role officer --groups one-stop [--agency UBND-TINH] [--user officer1] [--expires 12h]
 *   npm run token -- --role worker --topics police-residence,tax-obligation --agency CA-XA   (an external-task worker)
 */
import { parseArgs } from 'node:util'
import { createTokenService, ROLES, type Role } from '../src/auth/principal.ts'
import { loadConfig } from '../src/config.ts'

const { values } = parseArgs({
  options: {
    role: { type: 'string', multiple: true, default: ['officer'] },
    groups: { type: 'string', default: '' },
    agency: { type: 'string' },
    user: { type: 'string' },
    expires: { type: 'string', default: '12h' },
    topics: { type: 'string', default: '' },
  },
})
const roles = values
  .role!.flatMap((r) => r.split(','))
  .map((r) => r.trim())
  .filter(Boolean)
const bad = roles.filter((r) => !(ROLES as readonly string[]).includes(r))
if (bad.length) {
  console.error(`unknown role(s) ${bad.join(', ')}: use ${ROLES.join(', ')}`)
  process.exit(2)
}
const config = loadConfig()
const principal = {
  userId: values.user ?? `${roles[0]}-1`,
  roles: roles as Role[],
  groups: values
    .groups!.split(',')
    .map((g) => g.trim())
    .filter(Boolean),
  agency: values.agency ?? config.defaultAgency,
  ...(values.topics
    ? {
        topics: values.topics
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
      }
    : {}),
}
const token = await createTokenService(config.jwtSecret, { maxLifetimeHours: config.tokenMaxLifetimeHours }).sign(principal, values.expires)
console.error(`# ${JSON.stringify(principal)}`)
console.log(token)
