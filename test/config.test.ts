import t from 'tap'
import { loadConfig } from '../src/config.ts'

const REAL = { JWT_SECRET: 'a-real-jwt-secret-from-the-vault-0123456789', PAYMENT_SECRET: 'a-real-payment-secret-from-the-platform-42' }

t.test('production refuses to start without real secrets, and never with a simulator', async (t) => {
  const prod = (env: Record<string, string>) => () => loadConfig({ NODE_ENV: 'production', ...env })
  t.throws(prod({ PAYMENT_SECRET: REAL.PAYMENT_SECRET }), { code: 'CONFIG_INVALID', message: /JWT_SECRET/ }, 'no JWT secret')
  t.throws(
    prod({ JWT_SECRET: '', PAYMENT_SECRET: REAL.PAYMENT_SECRET }),
    { code: 'CONFIG_INVALID', message: /JWT_SECRET/ },
    'an empty JWT secret',
  )
  t.throws(
    prod({ JWT_SECRET: 'change-me-change-me-change-me-change-me', PAYMENT_SECRET: REAL.PAYMENT_SECRET }),
    { code: 'CONFIG_INVALID', message: /JWT_SECRET/ },
    'the old compose default',
  )
  t.throws(
    prod({ JWT_SECRET: 'dev-only-secret-change-me-0123456789abcdef', PAYMENT_SECRET: REAL.PAYMENT_SECRET }),
    { code: 'CONFIG_INVALID', message: /JWT_SECRET/ },
    'the development secret',
  )
  t.throws(prod({ JWT_SECRET: REAL.JWT_SECRET }), { code: 'CONFIG_INVALID', message: /PAYMENT_SECRET/ }, 'no payment secret')
  t.throws(
    prod({ JWT_SECRET: REAL.JWT_SECRET, PAYMENT_SECRET: 'dev-only-payment-secret-0123456789' }),
    { code: 'CONFIG_INVALID', message: /PAYMENT_SECRET/ },
    'the development payment secret',
  )
  t.throws(
    prod({ ...REAL, PAYMENT_SIMULATOR: 'true' }),
    { code: 'CONFIG_INVALID', message: /SIMULATOR/ },
    'the payment simulator asked for',
  )
  const ok = loadConfig({ NODE_ENV: 'production', ...REAL })
  t.equal(ok.paymentSimulator, false, 'with real secrets it starts, simulator off')
  t.equal(ok.jwtSecret, REAL.JWT_SECRET)
})

t.test('development keeps working without secrets; the token lifetime is configurable', async (t) => {
  const dev = loadConfig({})
  t.equal(dev.paymentSimulator, true)
  t.equal(dev.tokenMaxLifetimeHours, 24)
  t.equal(loadConfig({ TOKEN_MAX_LIFETIME_HOURS: '8' }).tokenMaxLifetimeHours, 8)
  t.throws(() => loadConfig({ TOKEN_MAX_LIFETIME_HOURS: '0' }), { code: 'CONFIG_INVALID' })
})

t.test('the portal retry cycle: R3/PT5M by default, a cycle of its own, a refusal for anything unreadable', async (t) => {
  t.equal(loadConfig({}).portalRetryCycle, 'R3/PT5M')
  t.equal(loadConfig({ PORTAL_RETRY_CYCLE: 'PT1M,PT5M,PT30M' }).portalRetryCycle, 'PT1M,PT5M,PT30M')
  for (const bad of ['mỗi 5 phút', 'R0/PT5M', 'R3/5M'])
    t.throws(() => loadConfig({ PORTAL_RETRY_CYCLE: bad }), /PORTAL_RETRY_CYCLE/, `"${bad}" refused`)
})
