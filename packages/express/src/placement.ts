/**
 * Finding a guard that guards nothing. Express runs an app's middleware and routes in the order
 * they were declared, so a route declared before `app.use(bearerGuard(…))` is public: on purpose
 * (`/health`), or by mistake. The mistake is a guard declared after *every* route, which then
 * protects nothing while the app looks protected (`req.auth` undefined, 200s).
 *
 * Express gives two places to see where the guard sits, both through its router stacks
 * (`app._router.stack` in Express 4, `app.router.stack` in Express 5; `router.stack`):
 *
 * 1. `app.use(fn)` emits `mount` on `fn` (with the app) when `fn` looks like an Express app, i.e.
 *    has `handle` and `set`. The guard does, so it learns its app at mount and looks, once the
 *    synchronous set-up has run (`setImmediate`), whether routes came before it and nothing
 *    after. Routes added later (after an `await`) are missed, so it only warns.
 * 2. On the guard's first request, `req.app`'s router stacks show where it sits, whether it was
 *    mounted on the app or on a `Router`: with nothing after it, it guards nothing.
 *
 * Neither sees a guard whose only followers are catch-alls (a 404 handler): they count as
 * guarded. This file reads Express's router stacks; the one thing it changes is its own layer's
 * handle, which `app.use()` wrapped as a sub-app and which it sets back to the guard itself.
 */
import { warn, type BearerGuardLogger } from './logger.js'

/** What this file (and metadata.ts) reads of an Express 4/5 router layer. */
export interface Layer {
  readonly handle?: unknown
  readonly route?: unknown
}

/** A router's or a route's `stack`: its layers, in declaration order. */
export type Stack = readonly Layer[]

/** How deep nested routers are searched; real apps stay far below it. */
export const MAX_DEPTH = 16

/** The layers of a router or a route (`stack`), if `value` has any. */
export function stackOf(value: unknown): Stack | undefined {
  if ((typeof value !== 'function' && typeof value !== 'object') || value === null) return undefined
  const { stack } = value as { stack?: unknown }
  return Array.isArray(stack) ? (stack as Stack) : undefined
}

/** The router of an Express 4 (`_router`) or Express 5 (`router`) app. */
export function routerOf(app: unknown): unknown {
  if (typeof app !== 'function') return undefined
  const legacy = (app as { _router?: unknown })._router
  if (legacy !== undefined) return legacy
  try {
    // Express 5 creates its router on first access; Express 4's `router` getter throws.
    return (app as { router?: unknown }).router
  } catch {
    return undefined
  }
}

/** A layer that handles requests: anything but an error handler (arity 4). */
function handlesRequests(layer: Layer): boolean {
  return typeof layer.handle === 'function' && layer.handle.length !== 4
}

/** A layer that declares routes: a route, a router, or a mounted app. */
function declaresRoutes(layer: Layer): boolean {
  if (layer.route !== undefined) return true
  if (stackOf(layer.handle) !== undefined) return true
  return typeof layer.handle === 'function' && layer.handle.name === 'mounted_app'
}

/**
 * Whether the layers `isGuard` recognises in this stack tree are followed by something they
 * guard: `true` as soon as one is, `false` when all are last, `undefined` when none is found.
 */
function guardsSomething(
  stack: Stack,
  isGuard: (handle: unknown) => boolean,
  depth: number,
): boolean | undefined {
  let found: boolean | undefined
  for (let i = 0; i < stack.length; i++) {
    const layer = stack[i] as Layer
    if (isGuard(layer.handle)) {
      if (stack.slice(i + 1).some(handlesRequests)) return true
      found = false
      continue
    }
    if (depth >= MAX_DEPTH) continue
    const inner = stackOf(layer.route) ?? stackOf(layer.handle)
    if (inner === undefined) continue
    const result = guardsSomething(inner, isGuard, depth + 1)
    if (result === true) return true
    found ??= result
  }
  return found
}

function misplaced(what: string): string {
  return (
    `bearer-guard: bearerGuard() ${what}, so it guards nothing: routes declared before it are ` +
    'served without a token (req.auth is undefined). Declare the routes it must protect after ' +
    'it; only routes meant to be public (such as /health) go before it'
  )
}

/**
 * Makes `guard` watch where it is mounted and report, once through `logger`, a placement where it
 * guards nothing. Returns the check to run on the guard's first request.
 */
export function watchPlacement(
  guard: object,
  logger: BearerGuardLogger | undefined,
): (req: unknown) => void {
  // The layers Express wraps the guard in when `app.use()` mounts it as an app (`mounted_app`).
  const wrappers = new WeakSet<object>()
  const isGuard = (handle: unknown): boolean =>
    handle === guard || (typeof handle === 'function' && wrappers.has(handle))
  let reported = false
  const report = (what: string): void => {
    if (reported) return
    reported = true
    warn(logger, misplaced(what))
  }

  function onMount(app: unknown, path: unknown): void {
    const layer = stackOf(routerOf(app))?.at(-1)
    if (typeof layer?.handle !== 'function') return
    wrappers.add(layer.handle)
    // Express wrapped the guard as a sub-app (`mounted_app`: a closure and two prototype changes
    // per request). The guard is plain middleware: put it back in its layer, so a request costs
    // exactly what `app.use(middleware)` costs. Only that wrapper, only in this layer.
    // (`Layer` is read-only everywhere else in this file: this is the one write.)
    if (layer.handle.name === 'mounted_app') (layer as { handle: unknown }).handle = guard
    const shown = typeof path === 'string' ? ` (app.use() at '${path}')` : ''
    // Once the synchronous set-up has declared everything it will.
    setImmediate(() => {
      const stack = stackOf(routerOf(app)) ?? []
      const index = stack.indexOf(layer)
      if (index === -1 || stack.slice(index + 1).some(handlesRequests)) return
      const before = stack.slice(0, index).filter((l) => !isGuard(l.handle))
      if (before.some(declaresRoutes)) report(`is mounted after every route of its app${shown}`)
    })
  }

  // What makes `app.use()` treat the guard as an app and emit `mount`. Not enumerable, and not
  // part of the type: `handle` is the guard itself, `set` is never called by `app.use()`.
  Object.defineProperties(guard, {
    handle: { value: guard },
    set: { value: () => undefined },
    emit: {
      value(this: { mountpath?: unknown }, event: unknown, app: unknown): boolean {
        if (event !== 'mount') return false
        try {
          onMount(app, this.mountpath)
        } catch {
          // Detection is best effort; mounting must not fail because of it.
        }
        return true
      },
    },
  })

  return function checkFirstRequest(req: unknown): void {
    if (reported) return
    try {
      const stack = stackOf(routerOf((req as { app?: unknown }).app))
      if (stack !== undefined && guardsSomething(stack, isGuard, 0) === false) {
        report('has no route or middleware after it')
      }
    } catch {
      // Best effort, as above.
    }
  }
}
