import { setTimeout as sleep } from 'node:timers/promises'
import type { ErrorRequestHandler } from 'express'
import { describe, expect, it, vi } from 'vitest'
import { bearerGuard } from '../src/index.js'
import { frameworks, listen } from './support.js'

// No issuer: nothing here gets as far as fetching keys.
const options = { issuer: 'https://auth.example.com/', audience: 'https://api.example.com' }

/** Lets the checks scheduled at mount (setImmediate) run. */
const setUpDone = () => new Promise<void>((resolve) => setImmediate(resolve))

function recorder() {
  const lines: string[] = []
  return { lines, logger: { warn: (message: string) => lines.push(message) } }
}

const MISPLACED = /bearerGuard\(\) .*so it guards nothing: routes declared before it are served/

describe.each(frameworks)('$name: a guard that guards nothing', ({ express }) => {
  it('is reported once set-up has run, when mounted after every route of the app', async () => {
    const { lines, logger } = recorder()
    const app = express()
    app.get('/health', (_req, res) => res.json({ status: 'ok' }))
    app.get('/me', (req, res) => res.json({ auth: req.auth ?? null }))
    app.use(bearerGuard({ ...options, logger }))
    expect(lines).toEqual([])
    await setUpDone()
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(MISPLACED)
    expect(lines[0]).toContain("is mounted after every route of its app (app.use() at '/')")

    // The pitfall itself, as documented: Express serves those routes, unguarded.
    const api = await listen(app)
    try {
      expect((await api.request('/me')).status).toBe(200)
      expect((await api.request('/missing')).status).toBe(401)
      expect(lines).toHaveLength(1) // once
    } finally {
      await api.close()
    }
  })

  it('is reported when only error handlers follow it', async () => {
    const { lines, logger } = recorder()
    const app = express()
    app.get('/me', (_req, res) => res.json({}))
    app.use('/', bearerGuard({ ...options, logger }))
    const handler: ErrorRequestHandler = (_err, _req, res, _next) => {
      res.status(500).end()
    }
    app.use(handler)
    await setUpDone()
    expect(lines).toHaveLength(1)
  })

  it('is not reported for public routes before the guard and guarded routes after it', async () => {
    const { lines, logger } = recorder()
    const app = express()
    app.get('/health', (_req, res) => res.json({ status: 'ok' }))
    app.use(bearerGuard({ ...options, logger }))
    app.get('/me', (_req, res) => res.json({}))
    await setUpDone()
    const api = await listen(app)
    try {
      expect((await api.request('/health')).status).toBe(200)
      expect((await api.request('/me')).status).toBe(401)
      expect(lines).toEqual([])
    } finally {
      await api.close()
    }
  })

  it('is not reported when routes are declared after an await', async () => {
    const { lines, logger } = recorder()
    const app = express()
    app.use(bearerGuard({ ...options, logger }))
    await sleep(20)
    app.get('/me', (_req, res) => res.json({}))
    const api = await listen(app)
    try {
      expect((await api.request('/me')).status).toBe(401)
      expect(lines).toEqual([])
    } finally {
      await api.close()
    }
  })

  it('is reported on its first request when mounted last on a Router', async () => {
    const { lines, logger } = recorder()
    const router = express.Router()
    router.get('/me', (req, res) => res.json({ auth: req.auth ?? null }))
    router.use(bearerGuard({ ...options, logger }))
    const app = express()
    app.use('/api', router)
    await setUpDone()
    const api = await listen(app)
    try {
      // Routes matched before the guard never reach it: nothing to see yet.
      expect((await api.request('/api/me')).status).toBe(200)
      expect(lines).toEqual([])
      // The first request that does reach it shows where it sits.
      expect((await api.request('/api/missing')).status).toBe(401)
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatch(MISPLACED)
      await api.request('/api/other')
      expect(lines).toHaveLength(1)
    } finally {
      await api.close()
    }
  })

  it('is not reported for a guard on a Router before its routes, or on a route', async () => {
    const { lines, logger } = recorder()
    const router = express.Router()
    router.use(bearerGuard({ ...options, logger }))
    router.get('/me', (_req, res) => res.json({}))
    const app = express()
    app.use('/api', router)
    app.get('/one', bearerGuard({ ...options, logger }), (_req, res) => res.json({}))
    const api = await listen(app)
    try {
      expect((await api.request('/api/me')).status).toBe(401)
      expect((await api.request('/one')).status).toBe(401)
      expect(lines).toEqual([])
    } finally {
      await api.close()
    }
  })

  it('is reported for a sub-app too, and silenced with logger: false', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const { lines, logger } = recorder()
    const sub = express()
    sub.get('/me', (_req, res) => res.json({}))
    sub.use(bearerGuard({ ...options, logger }))
    const quiet = express()
    quiet.get('/me', (_req, res) => res.json({}))
    quiet.use(bearerGuard({ ...options, logger: false }))
    const app = express()
    app.use('/sub', sub)
    app.use('/quiet', quiet)
    await setUpDone()
    expect(lines).toHaveLength(1)
    expect(warn).not.toHaveBeenCalled()
    warn.mockRestore()
  })
})

describe.each(frameworks)(
  '$name: mounting the guard costs what mounting middleware costs',
  ({ express }) => {
    it('sits in its app.use() layer as itself, not in a sub-app wrapper', () => {
      const app = express()
      const guard = bearerGuard({ ...options, logger: false })
      app.use(guard)
      app.use('/api', guard)
      type Router = { stack: { handle: unknown }[] }
      // Express 4 keeps `_router` (its `router` getter throws); Express 5 has `router`.
      const legacy = (app as unknown as { _router?: Router })._router
      const stack = (legacy ?? (app as unknown as { router: Router }).router).stack
      expect(stack.filter((layer) => layer.handle === guard)).toHaveLength(2)
      expect(
        stack.some((layer) => (layer.handle as { name?: string }).name === 'mounted_app'),
      ).toBe(false)
    })
  },
)
