// Source: kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin (bound tokens).
import { begin, finish, SHAPE_OPTION_NAMES, uuid } from './shape.js'
import type { ShapeOptions, TokenShape } from './shape.js'

/** A Kubernetes object a token is bound to. */
export interface KubernetesObjectRef {
  /** `metadata.name`. */
  readonly name: string
  /** `metadata.uid`. */
  readonly uid: string
}

/** Options of `providers.kubernetes.accessToken`. */
export interface KubernetesTokenOptions extends ShapeOptions {
  /**
   * The cluster's service-account issuer (`--service-account-issuer`). Default
   * `'https://kubernetes.default.svc.cluster.local'`.
   */
  readonly issuer?: string
  /**
   * `aud`, always an array: the projected volume's `audience`, or the API server's when none is
   * set. Default `[issuer]`.
   */
  readonly audience?: string | readonly string[]
  /** The namespace. Default `'default'`. */
  readonly namespace?: string
  /**
   * The service account. Default `{ name: 'orders', uid: 'a709ef71-30e2-489a-bd19-ade97031b9db' }`.
   */
  readonly serviceAccount?: KubernetesObjectRef
  /**
   * The pod the token is bound to; `null` for a token not bound to a pod. Default: an `orders-…`
   * pod.
   */
  readonly pod?: KubernetesObjectRef | null
  /**
   * The node the pod runs on (Kubernetes 1.30+); `null` leaves it out. Default: a `worker-1` node.
   */
  readonly node?: KubernetesObjectRef | null
}

const OPTIONS: Readonly<Record<keyof KubernetesTokenOptions, true>> = {
  ...SHAPE_OPTION_NAMES,
  issuer: true,
  audience: true,
  namespace: true,
  serviceAccount: true,
  pod: true,
  node: true,
}

const ISSUER = 'https://kubernetes.default.svc.cluster.local'

/**
 * Kubernetes service-account token shapes: header `{ alg, kid }` (no `typ`), RS256, 3,600 s.
 * Kubernetes issues no ID tokens: the projected token is what a workload presents.
 */
export const kubernetes = {
  /**
   * A projected (bound) service-account token: `aud` (an array), `exp`, `iat`, `iss`, `jti`,
   * `kubernetes.io: { namespace, node, pod, serviceaccount: { name, uid } }`, `nbf`, `sub:
   * 'system:serviceaccount:<namespace>:<name>'`.
   */
  accessToken(options: KubernetesTokenOptions = {}): TokenShape {
    const { iat, exp } = begin(options, OPTIONS, 'providers.kubernetes.accessToken()', 3600)
    const iss = options.issuer ?? ISSUER
    const audience = options.audience ?? [iss]
    const namespace = options.namespace ?? 'default'
    const serviceAccount = options.serviceAccount ?? {
      name: 'orders',
      uid: 'a709ef71-30e2-489a-bd19-ade97031b9db',
    }
    const pod =
      options.pod === undefined ? { name: 'orders-7c9d8f6b5-x2x4z', uid: uuid() } : options.pod
    const node = options.node === undefined ? { name: 'worker-1', uid: uuid() } : options.node
    const claims = {
      aud: typeof audience === 'string' ? [audience] : [...audience],
      exp,
      iat,
      iss,
      jti: uuid(),
      'kubernetes.io': {
        namespace,
        ...(node === null ? {} : { node: { name: node.name, uid: node.uid } }),
        ...(pod === null ? {} : { pod: { name: pod.name, uid: pod.uid } }),
        serviceaccount: { name: serviceAccount.name, uid: serviceAccount.uid },
      },
      nbf: iat,
      sub: `system:serviceaccount:${namespace}:${serviceAccount.name}`,
    }
    return finish('kubernetes', 'access', {}, claims, options)
  },
}
