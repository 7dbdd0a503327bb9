import type { VerifiedAccessToken } from '@bearer-guard/core'

// Express 4 and 5 both merge their `Request` into the global `Express.Request`, so augmenting it
// here types `req.auth` for either version without importing `express` at run time.
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /**
       * The verified access token, set by `bearerGuard()` before the next handler runs; absent on
       * routes the guard does not cover. Type your own claims by merging them into
       * `AccessTokenClaims` of `@bearer-guard/core`.
       */
      auth?: VerifiedAccessToken
    }
  }
}

export {}
