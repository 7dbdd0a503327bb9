import { isBearerGuardError } from '@bearer-guard/core'
import type { FastifyReply } from 'fastify'

/**
 * Renders a bearer-guard refusal as CONTRACT.md says (status, `WWW-Authenticate`, `Retry-After`,
 * RFC 6750 JSON body) and returns the reply, as an async hook that answers must; in `'throw'`
 * mode, or for any other error, throws it on to the context's error handler.
 */
export function refuse(
  error: unknown,
  mode: 'respond' | 'throw',
  reply: FastifyReply,
): FastifyReply {
  if (mode === 'respond' && isBearerGuardError(error)) {
    return reply.code(error.status).headers(error.headers).send(error.body)
  }
  throw error
}
