import { dpopRules, type DpopRules } from '../binding/dpop.js'
import { certificateSource, type CertificateSource } from '../binding/mtls.js'
import { DpopNonces } from '../binding/nonce.js'
import { MemoryReplayStore, type ReplayStore } from '../stores/replay.js'
import type { RevocationStore } from '../stores/revocation.js'
import { fail, isObject } from './checks.js'
import { assertKnownOptions } from './names.js'
import type { AccessTokenValidatorOptions } from './validator-options.js'

/** The binding stage's options, resolved: DPoP (when enabled), certificates, revocation. */
export interface BindingOptions {
  readonly dpop:
    | { readonly rules: DpopRules; readonly required: boolean; readonly replay: ReplayStore }
    | undefined
  readonly certificates: CertificateSource
  readonly revocation: RevocationStore | undefined
}

/** Checks `dpop`, `mtls` and `revocation` once. */
export function resolveBinding(
  top: AccessTokenValidatorOptions,
  clockTolerance: number,
): BindingOptions {
  return Object.freeze({
    dpop: resolveDpop(top.dpop, clockTolerance),
    certificates: resolveMtls(top.mtls),
    revocation: resolveRevocation(top.revocation),
  })
}

function resolveNonces(nonce: unknown): DpopNonces | undefined {
  if (nonce === undefined || nonce === false) return undefined
  if (nonce === true) return new DpopNonces()
  if (!isObject(nonce)) fail('"dpop.nonce" must be a boolean or { secret, step }')
  assertKnownOptions(nonce, new Set(['secret', 'step']), '"dpop.nonce"')
  return new DpopNonces(nonce)
}

function resolveDpop(value: unknown, clockTolerance: number): BindingOptions['dpop'] {
  if (value === undefined || value === false) return undefined
  if (!isObject(value)) fail('"dpop" must be false or { origin, … }')
  assertKnownOptions(
    value,
    new Set(['origin', 'required', 'algorithms', 'maxAge', 'nonce', 'replayStore']),
    '"dpop"',
  )
  const replay = (value.replayStore ?? new MemoryReplayStore({})) as ReplayStore
  if (typeof (replay as Partial<ReplayStore>).claimOnce !== 'function') {
    fail('"dpop.replayStore" must have claimOnce(id, expiresAt)')
  }
  return Object.freeze({
    rules: dpopRules({
      origin: value.origin as string,
      algorithms: value.algorithms as readonly string[] | undefined,
      maxAge: value.maxAge as number | undefined,
      clockTolerance: Math.min(clockTolerance, 60),
      nonces: resolveNonces(value.nonce),
    }),
    required: value.required === true,
    replay,
  })
}

function resolveMtls(value: unknown): CertificateSource {
  if (value === undefined) return certificateSource()
  if (!isObject(value)) fail('"mtls" must be { certificateHeader? }')
  assertKnownOptions(value, new Set(['certificateHeader']), '"mtls"')
  return certificateSource({ header: value.certificateHeader as string | undefined })
}

function resolveRevocation(value: unknown): RevocationStore | undefined {
  if (value === undefined) return undefined
  if (!isObject(value) || typeof value.isRevoked !== 'function') {
    fail('"revocation" must be a RevocationStore (isRevoked, revoke, revokeSubject)')
  }
  return value as unknown as RevocationStore
}
