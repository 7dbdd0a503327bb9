import { isBearerGuardError } from '@bearer-guard/core'
import type { FastifyReply, HookHandlerDoneFunction } from 'fastify'

/**
 * Renders a bearer-guard refusal as CONTRACT.md says (status, `WWW-Authenticate`, `Retry-After`,
 * RFC 6750 JSON body) and ends the hook chain; in `'throw'` mode, or for any other error, hands it
 * to `done` for the context's error handler.
 */
export function refuse(
  error: unknown,
  mode: 'respond' | 'throw',
  reply: FastifyReply,
  done: HookHandlerDoneFunction,
): void {
  if (mode === 'respond' && isBearerGuardError(error)) {
    // A reply sent from a callback hook ends the chain; `done` is not called.
    void reply.code(error.status).headers(error.headers).send(error.body)
    return
  }
  done(error instanceof Error ? error : new Error(String(error)))
}
