// Sources: kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin (bound
// service-account tokens: `aud` the projected volume's audiences, `sub`
// system:serviceaccount:<namespace>:<name>, `kubernetes.io` the bound objects) and
// kubernetes.io/docs/tasks/configure-pod-container/configure-service-account ("Service account
// issuer discovery": <issuer>/.well-known/openid-configuration, jwks_uri usually
// <api server>/openid/v1/jwks, or --service-account-jwks-uri).
import type { IssuerOptions, StaticKeys } from '@bearer-guard/core'
import {
  fail,
  frozen,
  optionalList,
  optionalString,
  presetOptions,
  requiredList,
  requiredString,
} from './options.js'

/** Options of {@link kubernetes}. */
export interface KubernetesOptions {
  /**
   * The cluster's service-account issuer, its API server's `--service-account-issuer`:
   * `'https://kubernetes.default.svc.cluster.local'`, or a managed cluster's public URL (EKS
   * `https://oidc.eks.<region>.amazonaws.com/id/<id>`, GKE
   * `https://container.googleapis.com/v1/projects/<p>/locations/<l>/clusters/<c>`). Required.
   */
  readonly issuer: string
  /**
   * The audience the workload's projected token is minted for (`serviceAccountToken.audience` of
   * the pod's projected volume), or several: a token's `aud` must contain one of them. Required;
   * use your own, not the API server's.
   */
  readonly audience: string | readonly string[]
  /**
   * The cluster's verification keys, when its discovery document is not reachable over public
   * https (an in-cluster issuer behind the cluster's own CA): a PEM public key, a JWKS (`kubectl
   * get --raw /openid/v1/jwks`), or a `file:` URL of one. Default: none. Give at most one of `keys`
   * and `jwksUri`.
   */
  readonly keys?: StaticKeys
  /**
   * The cluster's JWKS URL. Default: none; with neither `keys` nor `jwksUri`, the keys are found
   * by discovery at `<issuer>/.well-known/openid-configuration`.
   */
  readonly jwksUri?: string
  /**
   * The service accounts allowed to call, as `'<namespace>:<name>'`: a token's `sub` must be
   * `system:serviceaccount:<namespace>:<name>` for one of them. Default: any service account of
   * the cluster whose token carries the audience.
   */
  readonly serviceAccounts?: readonly string[]
}

const OPTIONS: Readonly<Record<keyof KubernetesOptions, true>> = {
  issuer: true,
  audience: true,
  keys: true,
  jwksUri: true,
  serviceAccounts: true,
}

/** A namespace or service-account name: a DNS label or subdomain. */
const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/

/**
 * The issuer of a Kubernetes cluster's service-account tokens, for an API that workloads call
 * with their projected (bound) token.
 *
 * @remarks
 * Checks: `iss` is `issuer` exactly, verified with `keys`, the keys of `jwksUri`, or those found
 * by discovery; `aud` contains `audience`; with `serviceAccounts`, `sub` is one of
 * `system:serviceaccount:<namespace>:<name>`. Bound tokens expire (an hour by default) and carry
 * `nbf`; both are enforced. No scopes are read (these tokens carry none).
 *
 * Kubernetes issues no ID tokens. Legacy secret-based service-account tokens have no `aud` and
 * are refused (`ERR_TOKEN_AUDIENCE_INVALID`); so are tokens minted for another audience, such as
 * the API server's own. A token of a deleted pod stays valid until it expires: this check is
 * local, not a `TokenReview`.
 *
 * @param options - See {@link KubernetesOptions}.
 * @returns One issuer entry, frozen.
 * @throws TypeError for an unknown, missing or malformed option.
 * @example
 * ```ts
 * import { createAccessTokenValidator } from '@bearer-guard/core'
 * import { kubernetes } from '@bearer-guard/presets'
 *
 * const validator = createAccessTokenValidator({
 *   issuer: kubernetes({
 *     issuer: 'https://kubernetes.default.svc.cluster.local',
 *     audience: 'orders-api',
 *     keys: new URL('file:///etc/orders-api/cluster-jwks.json'),
 *     serviceAccounts: ['billing:invoicer'],
 *   }),
 * })
 * ```
 */
export function kubernetes(options: KubernetesOptions): readonly IssuerOptions[] {
  const where = 'kubernetes()'
  const given = presetOptions<KubernetesOptions>(options, OPTIONS, where)
  // Kubernetes' legacy default, `kubernetes/serviceaccount`, is not a URL: core accepts it with
  // `keys` or `jwksUri` and refuses it (at construction) for discovery.
  const issuer = requiredString(where, 'issuer', given.issuer)
  const audience = requiredList(where, 'audience', given.audience)
  if (given.keys !== undefined && given.jwksUri !== undefined) {
    fail(where, 'give one of "keys" and "jwksUri"')
  }
  // Checked by core when the validator is built (https, or http on loopback), like `keys`.
  const jwksUri = optionalString(where, 'jwksUri', given.jwksUri)
  const keys: unknown = given.keys
  if (
    keys !== undefined &&
    typeof keys !== 'string' &&
    (typeof keys !== 'object' || keys === null)
  ) {
    fail(where, '"keys" must be a PEM string, a JWK or JWKS object, or a file: URL')
  }
  const accounts = optionalList(where, 'serviceAccounts', given.serviceAccounts)
  const subjects = accounts?.map((account) => {
    const [namespace, name, ...rest] = account.split(':')
    if (rest.length > 0 || !NAME.test(namespace ?? '') || !NAME.test(name ?? '')) {
      fail(
        where,
        `"serviceAccounts" entries must be '<namespace>:<name>', such as 'billing:invoicer'`,
      )
    }
    return `system:serviceaccount:${account}`
  })
  return frozen([
    {
      issuer,
      ...(given.keys === undefined ? {} : { keys: given.keys }),
      ...(jwksUri === undefined ? {} : { jwksUri }),
      audience,
      ...(subjects === undefined ? {} : { requiredClaimValues: { sub: subjects } }),
      scopeClaims: [],
    },
  ])
}
