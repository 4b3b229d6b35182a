import t from 'tap'
import { SignJWT } from 'jose'
import { createTokenService, type Principal } from '../src/auth/principal.ts'

const SECRET = 'token-test-secret-0123456789abcdefghij'
const officer: Principal = { userId: 'mc-1', roles: ['officer'], groups: ['one-stop'], agency: 'UBND-XA-DEMO' }
const epoch = (d: Date) => Math.floor(d.getTime() / 1000)

t.test('a token verified once is remembered until its own expiry, then refused', async (t) => {
  let now = new Date()
  const tokens = createTokenService(SECRET, { now: () => now })
  const token = await tokens.sign(officer, epoch(now) + 60)
  const first = await tokens.verify(token)
  t.same(first, officer)
  t.equal(await tokens.verify(token), first, 'the second request reuses the verified principal')
  t.ok(Object.isFrozen(first) && Object.isFrozen(first.groups), 'one principal serves many requests: it cannot be changed')
  now = new Date(now.getTime() + 61_000)
  await t.rejects(tokens.verify(token), { code: 'UNAUTHENTICATED' }, 'expired: refused although remembered')
  await t.rejects(tokens.verify(token), { code: 'UNAUTHENTICATED' }, 'and again on the next request')
})

t.test('only tokens that verify are remembered', async (t) => {
  const tokens = createTokenService(SECRET)
  const token = await tokens.sign(officer)
  await tokens.verify(token)
  const [h, , s] = token.split('.')
  const forged = `${h}.${Buffer.from(JSON.stringify({ sub: 'mc-1', roles: ['admin'], groups: [], agency: 'UBND-XA-DEMO' })).toString('base64url')}.${s}`
  await t.rejects(tokens.verify(forged), { code: 'UNAUTHENTICATED' }, 'a changed payload with the old signature')
  const other = await createTokenService('another-secret-0123456789abcdefghij').sign(officer)
  await t.rejects(tokens.verify(other), { code: 'UNAUTHENTICATED' }, 'signed with another key')
  const noAgency = await new SignJWT({ roles: ['officer'], groups: [] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('x')
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(SECRET))
  await t.rejects(tokens.verify(noAgency), { code: 'UNAUTHENTICATED' })
  await t.rejects(tokens.verify(noAgency), { code: 'UNAUTHENTICATED' }, 'a token refused for its claims stays refused')
})

t.test('a token not yet valid is refused, then accepted once its time comes', async (t) => {
  let now = new Date()
  const tokens = createTokenService(SECRET, { now: () => now })
  const token = await new SignJWT({ roles: ['officer'], groups: ['one-stop'], agency: 'UBND-XA-DEMO' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('mc-1')
    .setNotBefore(epoch(now) + 30)
    .setExpirationTime(epoch(now) + 3600)
    .sign(new TextEncoder().encode(SECRET))
  await t.rejects(tokens.verify(token), { code: 'UNAUTHENTICATED' })
  now = new Date(now.getTime() + 31_000)
  t.equal((await tokens.verify(token)).userId, 'mc-1')
})

t.test('memory is bounded: the oldest remembered token is verified again when needed', async (t) => {
  const tokens = createTokenService(SECRET, { kept: 2 })
  const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((userId) => tokens.sign({ ...officer, userId })))
  const pa = await tokens.verify(a!)
  await tokens.verify(b!)
  await tokens.verify(c!)
  const again = await tokens.verify(a!)
  t.not(again, pa, 'forgotten, verified afresh')
  t.same(again, pa)
})

t.test('a token without exp is refused every time, and never remembered', async (t) => {
  const tokens = createTokenService(SECRET)
  const forever = await new SignJWT({ roles: ['officer'], groups: ['one-stop'], agency: 'UBND-XA-DEMO' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('mc-1')
    .setIssuedAt()
    .sign(new TextEncoder().encode(SECRET))
  await t.rejects(tokens.verify(forever), { code: 'UNAUTHENTICATED' })
  await t.rejects(tokens.verify(forever), { code: 'UNAUTHENTICATED' }, 'still refused on the next request')
})

t.test('a token living longer than the maximum lifetime is refused; the signer never issues one', async (t) => {
  const now = new Date()
  const tokens = createTokenService(SECRET, { now: () => now, maxLifetimeHours: 24 })
  const key = new TextEncoder().encode(SECRET)
  const claims = { roles: ['officer'], groups: ['one-stop'], agency: 'UBND-XA-DEMO' }
  const long = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('mc-1')
    .setIssuedAt(epoch(now))
    .setExpirationTime(epoch(now) + 25 * 3600)
    .sign(key)
  await t.rejects(tokens.verify(long), { code: 'UNAUTHENTICATED' }, 'iat now, exp in 25 h')
  const noIat = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('mc-1')
    .setExpirationTime(epoch(now) + 365 * 86400)
    .sign(key)
  await t.rejects(tokens.verify(noIat), { code: 'UNAUTHENTICATED' }, 'no iat, exp in a year')
  const day = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('mc-1')
    .setIssuedAt(epoch(now))
    .setExpirationTime(epoch(now) + 24 * 3600)
    .sign(key)
  t.equal((await tokens.verify(day)).userId, 'mc-1', 'exactly the maximum is accepted')
  await t.rejects(tokens.sign(officer, '25h'), { code: 'UNAUTHENTICATED' }, 'the signer refuses too')
  t.ok(await tokens.verify(await tokens.sign(officer)), 'the default token (12 h) verifies')
})
