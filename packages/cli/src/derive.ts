/**
 * The explanation's steps, in core's order, each evaluated as far as the token allows; and which
 * of them core reaches before its verdict.
 */
import type { ExplainStep, StepId, Verdict } from './explanation.js'
import type { IssuerRules } from './rules.js'
import { bindingStep, keyIssuerStep, routeStep, scopesStep } from './steps-access.js'
import { audienceStep, claimsStep, issuerStep, timeStep, tokenTypeStep } from './steps-claims.js'
import {
  formatStep,
  headerStep,
  keyHint,
  keyStep,
  selectionStep,
  signatureStep,
} from './steps-jws.js'
import { skip, type Context, type Found } from './steps.js'

/** The checks, in core's order; later steps are evaluated as far as the token allows. */
export async function deriveSteps(
  c: Context,
): Promise<{ readonly steps: Found[]; readonly issuer: IssuerRules | undefined }> {
  const steps: Found[] = [formatStep(c)]
  const rest = (ids: readonly StepId[], why: string) => {
    for (const id of ids) steps.push(skip(id, why))
  }
  const AFTER_HEADER: readonly StepId[] = [
    'key',
    'signature',
    'time',
    'issuer',
    'audience',
    'token-type',
    'claims',
    'scopes',
    'binding',
    'route',
  ]
  const d = c.decoded
  if (!d.ok) {
    rest(
      [...(c.rules.single ? [] : (['issuer-selection'] as const)), 'header', ...AFTER_HEADER],
      'cannot be checked: the token does not decode',
    )
    return { steps, issuer: c.rules.single ? c.rules.issuers[0] : undefined }
  }
  let issuer = c.rules.single ? c.rules.issuers[0] : undefined
  if (!c.rules.single) {
    const selected = selectionStep(c, d.payload)
    steps.push(selected.step)
    issuer = selected.issuer
  }
  if (issuer === undefined) {
    rest(['header', ...AFTER_HEADER], 'cannot be checked: no accepted issuer is selected')
    return { steps, issuer: undefined }
  }
  const header = headerStep(c, issuer, d.header, d.signature)
  steps.push(header.step)
  const keys = c.keysOf(issuer)
  let signer: Awaited<ReturnType<typeof signatureStep>>['signer']
  if (header.alg === undefined) {
    rest(['key', 'signature'], 'cannot be checked without an accepted alg')
  } else {
    const key = keyStep(keys, header.alg, d.header.kid)
    steps.push(await keyHint(c, keys, header.alg, key.step))
    if (key.step.status === 'fail') {
      steps.push(skip('signature', 'cannot be checked without a key'))
    } else {
      const signature = await signatureStep(c, keys, header.alg, key.candidates)
      steps.push(signature.step)
      signer = signature.signer
    }
  }
  steps.push(
    timeStep(c, issuer, d.payload),
    issuerStep(issuer, d.payload),
    audienceStep(issuer, d.payload),
    tokenTypeStep(issuer, d.payload),
    claimsStep(issuer, d.payload),
  )
  if (signer?.issuer !== undefined) steps.push(keyIssuerStep(signer, d.payload))
  const scopes = scopesStep(issuer, d.payload)
  steps.push(scopes.step, bindingStep(c, d.payload), routeStep(c.route, scopes.granted))
  return { steps, issuer }
}

/** Marks the steps core runs: up to its failing one (all, when it accepts). */
export function markReached(found: readonly Found[], verdict: Verdict): ExplainStep[] {
  let last = found.length - 1
  if (verdict.code !== undefined) {
    const first = found.findIndex((step) => step.status === 'fail')
    const same = found.findIndex((step) => step.status === 'fail' && step.code === verdict.code)
    if (first !== -1 && found[first]?.code === verdict.code) last = first
    else if (same !== -1) last = same
  }
  return found.map((step, index) => ({ ...step, reached: index <= last }))
}
