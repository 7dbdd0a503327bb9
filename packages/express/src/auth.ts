import type { VerifiedAccessToken } from '@bearer-guard/core'
import type { BearerGuardRequest } from './types.js'

/**
 * Returns the verified access token of a request guarded by {@link bearerGuard}: `req.auth`,
 * without the `undefined` that unguarded routes would have.
 *
 * @throws `Error` when no guard verified this request: a server misconfiguration (the guard is
 * not mounted before this route), which should surface as a 500, never as a pass.
 *
 * @example
 * ```ts
 * app.get('/me', (req, res) => {
 *   const { claims, scopes } = getAuth(req)
 *   res.json({ sub: claims.sub, scopes: [...scopes] })
 * })
 * ```
 */
export function getAuth(req: BearerGuardRequest): VerifiedAccessToken {
  const { auth } = req
  if (auth === undefined) {
    throw new Error(
      `bearer-guard: no verified token on ${req.method} ${req.path}; mount bearerGuard() before this route`,
    )
  }
  return auth
}
