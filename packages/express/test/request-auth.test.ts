/**
 * `req.auth` is declared once, as an accessor on the request prototype Express's apps share
 * (src/request-auth.ts), instead of being added to every request object. These tests pin what
 * that must keep true: each request sees its own token, a request no guard verified has none,
 * user code can still assign it, and two apps (and both Express majors) do not see each other's.
 */
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearerGuard } from '../src/index.js'
import { bearer, frameworks, listen, type Running } from './support.js'

const audience = 'https://api.example.com'

let issuer: TestIssuer
beforeAll(async () => {
  issuer = await createTestIssuer()
})
afterAll(async () => {
  await issuer.close()
})

describe.each(frameworks)('$name: req.auth', ({ express }) => {
  let api: Running
  let open: Running
  beforeAll(async () => {
    const app = express()
    // A route before the guard: no token was verified for it.
    app.get('/before', (req, res) => res.json({ auth: req.auth === undefined ? null : 'set' }))
    // User code may set req.auth itself (a test double, another authenticator).
    app.get('/assigned', (req, res, next) => {
      ;(req as { auth?: unknown }).auth = { claims: { sub: 'assigned' } }
      next()
    })
    app.get('/assigned', (req, res) => res.json({ sub: req.auth?.claims.sub }))
    const guard = bearerGuard({ issuer: issuer.issuer, audience, logger: false })
    app.use(guard)
    app.get('/me', (req, res) => {
      // Answer late, so concurrent requests overlap while each reads its own req.auth.
      setTimeout(() => res.json({ sub: req.auth?.claims.sub }), 5)
    })
    api = await listen(app)
    // A second app in the same process, without any guard.
    const other = express()
    other.get('/', (req, res) => res.json({ auth: req.auth === undefined ? null : 'set' }))
    open = await listen(other)
  })
  afterAll(async () => {
    await api.close()
    await open.close()
  })

  it('each of many concurrent requests sees its own verified token', async () => {
    const subjects = Array.from({ length: 20 }, (_, i) => `user-${String(i)}`)
    const tokens = await Promise.all(subjects.map((sub) => issuer.mint({ sub })))
    const answers = await Promise.all(
      tokens.map(async (token) => (await api.request('/me', bearer(token))).json()),
    )
    expect(answers.map((a) => (a as { sub: string }).sub)).toEqual(subjects)
  })

  it('a request no guard verified has no req.auth, in this app and in another', async () => {
    const token = await issuer.mint({ sub: 'first' })
    await api.request('/me', bearer(token))
    expect(await (await api.request('/before', bearer(token))).json()).toEqual({ auth: null })
    expect(await (await open.request('/', bearer(token))).json()).toEqual({ auth: null })
  })

  it('code that assigns req.auth itself reads back what it assigned', async () => {
    expect(await (await api.request('/assigned')).json()).toEqual({ sub: 'assigned' })
  })
})
