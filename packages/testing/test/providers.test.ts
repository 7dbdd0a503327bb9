import { createHash } from 'node:crypto'
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose'
import type { JSONWebKeySet } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestIssuer, providers } from '../src/index.js'
import type { ProviderName, TestIssuer } from '../src/index.js'

// A fixed clock: every time claim is derived from it.
const NOW = Date.UTC(2030, 0, 1, 12, 0, 0) + 750
const T = Date.UTC(2030, 0, 1, 12, 0, 0) / 1000

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const B64URL = (length: number): RegExp => new RegExp(`^[A-Za-z0-9_-]{${length}}$`)
const HALF_HASH = B64URL(22)

let issuer: TestIssuer
let kid: string
beforeAll(async () => {
  issuer = await createTestIssuer({ clock: () => NOW })
  kid = issuer.activeKey.kid
})
afterAll(() => issuer.close())

interface Decoded {
  readonly header: Record<string, unknown>
  readonly claims: Record<string, unknown>
}

function decode(token: string): Decoded {
  return { header: decodeProtectedHeader(token), claims: decodeJwt(token) }
}

/** Verifies the signature against the served JWKS, with the token's own issuer. */
async function verifies(token: string): Promise<void> {
  const jwks = (await (await fetch(issuer.jwksUri)).json()) as JSONWebKeySet
  const { iss } = decodeJwt(token)
  await expect(
    jwtVerify(token, createLocalJWKSet(jwks), { issuer: iss, currentDate: new Date(NOW) }),
  ).resolves.toBeTruthy()
}

describe('Auth0', () => {
  it('mints a user access token: typ JWT, aud with the userinfo URL, azp, scope, permissions', async () => {
    const token = await issuer.mintShaped('auth0', 'accessToken')
    expect(decode(token)).toEqual({
      header: { alg: 'RS256', kid, typ: 'JWT' },
      claims: {
        iss: 'https://example-tenant.us.auth0.com/',
        sub: 'auth0|64f1c0ffee5a7e1d2b3c4d5e',
        aud: ['https://api.example.com', 'https://example-tenant.us.auth0.com/userinfo'],
        iat: T,
        exp: T + 86_400,
        scope: 'openid profile email read:orders',
        azp: 'N5kG7QzVt2pXmR8wLc4HdJ1sYbE6aF3u',
        permissions: ['read:orders'],
      },
    })
    await verifies(token)
  })

  it('mints a client-credentials token on a custom domain: gty, <client>@clients, one audience', async () => {
    const token = await issuer.mintShaped('auth0', 'accessToken', {
      domain: 'login.example.com',
      grant: 'client-credentials',
      clientId: 'm2m-client',
      audience: 'https://orders.example.com',
      permissions: null,
    })
    expect(decode(token).claims).toEqual({
      iss: 'https://login.example.com/',
      sub: 'm2m-client@clients',
      aud: 'https://orders.example.com',
      iat: T,
      exp: T + 86_400,
      scope: 'read:orders',
      gty: 'client-credentials',
      azp: 'm2m-client',
    })
  })

  it('mints the RFC 9068 dialect: typ at+jwt, client_id and jti', async () => {
    const { header, claims } = decode(
      await issuer.mintShaped('auth0', 'accessToken', { profile: 'rfc9068', scope: 'read:orders' }),
    )
    expect(header).toEqual({ alg: 'RS256', kid, typ: 'at+jwt' })
    expect(claims).toMatchObject({ aud: 'https://api.example.com', client_id: expect.any(String) })
    expect(claims.jti).toMatch(B64URL(22))
    expect(claims).not.toHaveProperty('azp')
  })

  it('mints an ID token: aud is the client ID, nonce, sid, profile claims', async () => {
    const token = await issuer.mintShaped('auth0', 'idToken', { nonce: 'n-0S6_WzA2Mj' })
    expect(decode(token)).toEqual({
      header: { alg: 'RS256', kid, typ: 'JWT' },
      claims: {
        nickname: 'jane.doe',
        name: 'jane.doe@example.com',
        picture: expect.stringMatching(/^https:\/\//),
        updated_at: '2030-01-01T12:00:00.000Z',
        email: 'jane.doe@example.com',
        email_verified: true,
        iss: 'https://example-tenant.us.auth0.com/',
        aud: 'N5kG7QzVt2pXmR8wLc4HdJ1sYbE6aF3u',
        sub: 'auth0|64f1c0ffee5a7e1d2b3c4d5e',
        iat: T,
        exp: T + 36_000,
        sid: expect.stringMatching(B64URL(32)),
        nonce: 'n-0S6_WzA2Mj',
      },
    })
    await verifies(token)
  })
})

describe('Okta', () => {
  it('mints a custom authorization server access token: no typ, ver, AT. jti, cid, uid, scp array', async () => {
    const token = await issuer.mintShaped('okta', 'accessToken')
    expect(decode(token)).toEqual({
      header: { alg: 'RS256', kid },
      claims: {
        ver: 1,
        jti: expect.stringMatching(/^AT\.[A-Za-z0-9_-]{43}$/),
        iss: 'https://example.okta.com/oauth2/default',
        aud: 'api://default',
        iat: T,
        exp: T + 3600,
        cid: '0oa8f5j3ecb5w3dF35d7',
        uid: '00u1abcd2EFGH3ijk4l5',
        scp: ['openid', 'orders:read'],
        auth_time: T - 5,
        sub: 'jane.doe@example.com',
      },
    })
    await verifies(token)
  })

  it('mints a client-credentials token: sub is the client, no uid or auth_time', async () => {
    const { claims } = decode(
      await issuer.mintShaped('okta', 'accessToken', {
        grant: 'client-credentials',
        authorizationServerId: 'aus1a2b3c4d5e6f7g8h9',
        scopes: ['orders:write'],
      }),
    )
    expect(claims).toMatchObject({
      iss: 'https://example.okta.com/oauth2/aus1a2b3c4d5e6f7g8h9',
      cid: '0oa8f5j3ecb5w3dF35d7',
      sub: '0oa8f5j3ecb5w3dF35d7',
      scp: ['orders:write'],
    })
    expect(claims).not.toHaveProperty('uid')
    expect(claims).not.toHaveProperty('auth_time')
  })

  it('mints an ID token: ID. jti, aud the client, amr, idp, at_hash', async () => {
    const token = await issuer.mintShaped('okta', 'idToken', { nonce: 'abc' })
    expect(decode(token)).toEqual({
      header: { alg: 'RS256', kid },
      claims: {
        sub: '00u1abcd2EFGH3ijk4l5',
        name: 'Jane Doe',
        email: 'jane.doe@example.com',
        ver: 1,
        iss: 'https://example.okta.com/oauth2/default',
        aud: '0oa8f5j3ecb5w3dF35d7',
        iat: T,
        exp: T + 3600,
        jti: expect.stringMatching(/^ID\.[A-Za-z0-9_-]{43}$/),
        amr: ['pwd'],
        idp: '00o1abcd2EFGH3ijk4l5',
        nonce: 'abc',
        preferred_username: 'jane.doe@example.com',
        auth_time: T - 5,
        at_hash: expect.stringMatching(HALF_HASH),
      },
    })
  })
})

describe('Microsoft Entra ID', () => {
  const TID = '72f988bf-86f1-41af-91ab-2d7cd011db47'
  const OPAQUE = { aio: expect.any(String), rh: expect.any(String), uti: expect.any(String) }

  it('mints a v2.0 user token: iss /v2.0, aud the API client ID, azp, scp string, idtyp user', async () => {
    const token = await issuer.mintShaped('entra', 'accessToken')
    expect(decode(token)).toEqual({
      header: { alg: 'RS256', kid, typ: 'JWT' },
      claims: {
        aud: 'ef1da9d4-ff77-4c3e-a005-840c3f830745',
        iss: `https://login.microsoftonline.com/${TID}/v2.0`,
        iat: T,
        nbf: T,
        exp: T + 3600,
        ...OPAQUE,
        azp: '6e74172b-be56-4843-9ff4-e66a39bb12e3',
        azpacr: '0',
        idtyp: 'user',
        name: 'Jane Doe',
        oid: '690222be-ff1a-4d56-abd1-7e4f7d38e474',
        preferred_username: 'jane.doe@example.com',
        scp: 'access_as_user',
        sub: expect.stringMatching(B64URL(43)),
        tid: TID,
        ver: '2.0',
      },
    })
    await verifies(token)
  })

  it('mints a v1.0 user token: sts.windows.net issuer with a slash, App ID URI, appid, x5t = kid', async () => {
    const token = await issuer.mintShaped('entra', 'accessToken', { version: '1.0' })
    expect(decode(token)).toEqual({
      header: { alg: 'RS256', kid, typ: 'JWT', x5t: kid },
      claims: {
        aud: 'api://ef1da9d4-ff77-4c3e-a005-840c3f830745',
        iss: `https://sts.windows.net/${TID}/`,
        iat: T,
        nbf: T,
        exp: T + 3600,
        acr: '1',
        ...OPAQUE,
        amr: ['pwd'],
        appid: '6e74172b-be56-4843-9ff4-e66a39bb12e3',
        appidacr: '0',
        family_name: 'Doe',
        given_name: 'Jane',
        idtyp: 'user',
        ipaddr: '203.0.113.7',
        name: 'Jane Doe',
        oid: '690222be-ff1a-4d56-abd1-7e4f7d38e474',
        scp: 'access_as_user',
        sub: expect.stringMatching(B64URL(43)),
        tid: TID,
        unique_name: 'jane.doe@example.com',
        upn: 'jane.doe@example.com',
        ver: '1.0',
      },
    })
    await verifies(token)
  })

  it('mints app-only tokens: roles array, idtyp app, no scp, sub = oid', async () => {
    for (const version of ['1.0', '2.0'] as const) {
      const { claims } = decode(
        await issuer.mintShaped('entra', 'accessToken', {
          version,
          app: true,
          audience: 'api://orders',
          objectId: '11111111-2222-4333-8444-555555555555',
        }),
      )
      expect(claims).toMatchObject({
        aud: 'api://orders',
        roles: ['Orders.Read.All'],
        idtyp: 'app',
        oid: '11111111-2222-4333-8444-555555555555',
        sub: '11111111-2222-4333-8444-555555555555',
        ver: version,
      })
      for (const absent of ['scp', 'name', 'preferred_username', 'upn', 'unique_name']) {
        expect(claims).not.toHaveProperty(absent)
      }
      expect(claims).toHaveProperty(version === '1.0' ? 'appid' : 'azp')
    }
  })

  it('mints ID tokens with nonce and aio, aud the signing-in client', async () => {
    const v2 = decode(await issuer.mintShaped('entra', 'idToken', { nonce: 'n1', tenantId: 'b' }))
    expect(v2.header).toEqual({ alg: 'RS256', kid, typ: 'JWT' })
    expect(v2.claims).toEqual({
      aud: '6e74172b-be56-4843-9ff4-e66a39bb12e3',
      iss: 'https://login.microsoftonline.com/b/v2.0',
      iat: T,
      nbf: T,
      exp: T + 3600,
      ...OPAQUE,
      name: 'Jane Doe',
      nonce: 'n1',
      oid: '690222be-ff1a-4d56-abd1-7e4f7d38e474',
      preferred_username: 'jane.doe@example.com',
      sid: expect.stringMatching(UUID),
      sub: expect.stringMatching(B64URL(43)),
      tid: 'b',
      ver: '2.0',
    })
    const v1 = decode(await issuer.mintShaped('entra', 'idToken', { version: '1.0' }))
    expect(v1.header).toEqual({ alg: 'RS256', kid, typ: 'JWT', x5t: kid })
    expect(v1.claims).toMatchObject({
      iss: `https://sts.windows.net/${TID}/`,
      ver: '1.0',
      amr: ['pwd'],
      unique_name: 'jane.doe@example.com',
      aio: expect.any(String),
      nonce: expect.any(String),
    })
  })
})

describe('Keycloak', () => {
  it('mints an access token: header typ JWT, claim typ Bearer, realm and client roles', async () => {
    const token = await issuer.mintShaped('keycloak', 'accessToken', {
      audience: ['orders-api', 'account'],
      clientRoles: { 'orders-api': ['orders:read'] },
    })
    const { header, claims } = decode(token)
    expect(header).toEqual({ alg: 'RS256', kid, typ: 'JWT' })
    expect(claims).toEqual({
      exp: T + 300,
      iat: T,
      auth_time: T - 5,
      jti: expect.stringMatching(UUID),
      iss: 'https://keycloak.example.com/realms/example',
      aud: ['orders-api', 'account'],
      sub: 'f1e2d3c4-b5a6-4978-8695-a4b3c2d1e0f9',
      typ: 'Bearer',
      azp: 'orders-web',
      sid: expect.stringMatching(UUID),
      acr: '1',
      realm_access: { roles: ['default-roles-example', 'offline_access', 'uma_authorization'] },
      resource_access: { 'orders-api': { roles: ['orders:read'] } },
      scope: 'openid profile email',
      email_verified: true,
      name: 'Jane Doe',
      preferred_username: 'jane',
      given_name: 'Jane',
      family_name: 'Doe',
      email: 'jane@example.com',
    })
    await verifies(token)
  })

  it('adds session_state equal to sid on request (Keycloak 24 and older)', async () => {
    const { claims } = decode(
      await issuer.mintShaped('keycloak', 'accessToken', { sessionState: true }),
    )
    expect(claims.session_state).toBe(claims.sid)
    expect(claims.aud).toBe('account')
    expect(claims.resource_access).toEqual({
      account: { roles: ['manage-account', 'manage-account-links', 'view-profile'] },
    })
  })

  it('mints a service-account token for client credentials', async () => {
    const { claims } = decode(
      await issuer.mintShaped('keycloak', 'accessToken', {
        grant: 'client-credentials',
        clientId: 'billing',
        realm: 'acme',
        baseUrl: 'https://sso.acme.dev',
      }),
    )
    expect(claims).toMatchObject({
      iss: 'https://sso.acme.dev/realms/acme',
      typ: 'Bearer',
      azp: 'billing',
      client_id: 'billing',
      preferred_username: 'service-account-billing',
      scope: 'profile email',
      realm_access: { roles: ['default-roles-acme', 'offline_access', 'uma_authorization'] },
    })
    expect(claims).not.toHaveProperty('sid')
    expect(claims).not.toHaveProperty('auth_time')
  })

  it('mints an ID token: claim typ ID, aud the client, nonce, at_hash', async () => {
    const { header, claims } = decode(await issuer.mintShaped('keycloak', 'idToken'))
    expect(header).toEqual({ alg: 'RS256', kid, typ: 'JWT' })
    expect(claims).toMatchObject({
      typ: 'ID',
      aud: 'orders-web',
      azp: 'orders-web',
      nonce: expect.any(String),
      at_hash: expect.stringMatching(HALF_HASH),
      exp: T + 300,
    })
    expect(claims).not.toHaveProperty('realm_access')
  })
})

describe('Amazon Cognito', () => {
  it('mints an access token without aud: client_id, token_use access, cognito:groups, username', async () => {
    const token = await issuer.mintShaped('cognito', 'accessToken', {
      userPoolId: 'us-east-2_XyZ123abc',
    })
    expect(decode(token)).toEqual({
      header: { alg: 'RS256', kid },
      claims: {
        sub: 'a1b2c3d4-e5f6-4789-8abc-def012345678',
        'cognito:groups': ['orders-admins'],
        iss: 'https://cognito-idp.us-east-2.amazonaws.com/us-east-2_XyZ123abc',
        version: 2,
        client_id: '4qf2kc9bm7r1tj5h8vnl3xw6pd',
        origin_jti: expect.stringMatching(UUID),
        event_id: expect.stringMatching(UUID),
        token_use: 'access',
        scope: 'openid email',
        auth_time: T - 5,
        exp: T + 3600,
        iat: T,
        jti: expect.stringMatching(UUID),
        username: 'a1b2c3d4-e5f6-4789-8abc-def012345678',
      },
    })
    await verifies(token)
  })

  it('mints a machine-to-machine token: sub is the client, no username or groups', async () => {
    const { claims } = decode(
      await issuer.mintShaped('cognito', 'accessToken', { grant: 'client-credentials' }),
    )
    expect(claims).toEqual({
      sub: '4qf2kc9bm7r1tj5h8vnl3xw6pd',
      token_use: 'access',
      scope: 'orders-api/read',
      auth_time: T,
      iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEfGhI',
      exp: T + 3600,
      iat: T,
      version: 2,
      jti: expect.stringMatching(UUID),
      client_id: '4qf2kc9bm7r1tj5h8vnl3xw6pd',
    })
  })

  it('mints an ID token: aud the app client, token_use id, cognito:username, email, at_hash', async () => {
    const { header, claims } = decode(
      await issuer.mintShaped('cognito', 'idToken', { username: 'janedoe', groups: [] }),
    )
    expect(header).toEqual({ alg: 'RS256', kid })
    expect(claims).toEqual({
      at_hash: expect.stringMatching(HALF_HASH),
      sub: 'a1b2c3d4-e5f6-4789-8abc-def012345678',
      email_verified: true,
      iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEfGhI',
      'cognito:username': 'janedoe',
      origin_jti: expect.stringMatching(UUID),
      aud: '4qf2kc9bm7r1tj5h8vnl3xw6pd',
      event_id: expect.stringMatching(UUID),
      token_use: 'id',
      auth_time: T - 5,
      exp: T + 3600,
      iat: T,
      jti: expect.stringMatching(UUID),
      email: 'jane.doe@example.com',
    })
  })
})

describe('Google', () => {
  it('mints a service-to-service ID token: aud the service URL, email_verified, azp = sub', async () => {
    const token = await issuer.mintShaped('google', 'accessToken', {
      audience: 'https://orders.example.run.app',
    })
    expect(decode(token)).toEqual({
      header: { alg: 'RS256', kid, typ: 'JWT' },
      claims: {
        aud: 'https://orders.example.run.app',
        azp: '104518326457829012345',
        email: 'invoker@example-project.iam.gserviceaccount.com',
        email_verified: true,
        exp: T + 3600,
        iat: T,
        iss: 'https://accounts.google.com',
        sub: '104518326457829012345',
      },
    })
    await verifies(token)
  })

  it('mints a sign-in ID token: aud and azp the OAuth client, hd, at_hash; either iss form', async () => {
    const { claims } = decode(
      await issuer.mintShaped('google', 'idToken', { issuer: 'accounts.google.com', nonce: 'x' }),
    )
    expect(claims).toEqual({
      iss: 'accounts.google.com',
      azp: '123456789012-abcdefghijklmnopqrstuvwxyz012345.apps.googleusercontent.com',
      aud: '123456789012-abcdefghijklmnopqrstuvwxyz012345.apps.googleusercontent.com',
      sub: '104518326457829012345',
      hd: 'example.com',
      email: 'jane.doe@example.com',
      email_verified: true,
      at_hash: expect.stringMatching(HALF_HASH),
      nonce: 'x',
      name: 'Jane Doe',
      picture: expect.stringMatching(/^https:\/\/lh3\.googleusercontent\.com\//),
      given_name: 'Jane',
      family_name: 'Doe',
      iat: T,
      exp: T + 3600,
    })
    const consumer = decode(await issuer.mintShaped('google', 'idToken', { hostedDomain: null }))
    expect(consumer.claims).not.toHaveProperty('hd')
    expect(consumer.claims).not.toHaveProperty('nonce')
  })
})

describe('Dex', () => {
  it('mints an ID token: no typ, encoded sub, groups, federated_claims', async () => {
    const token = await issuer.mintShaped('dex', 'idToken', { nonce: 'n' })
    expect(decode(token)).toEqual({
      header: { alg: 'RS256', kid },
      claims: {
        iss: 'https://dex.example.com',
        sub: 'CgcyMzQyNzQ5EgZnaXRodWI', // the protobuf { user_id: '2342749', conn_id: 'github' }
        aud: 'orders-app',
        exp: T + 86_400,
        iat: T,
        nonce: 'n',
        at_hash: expect.stringMatching(HALF_HASH),
        email: 'jane.doe@example.com',
        email_verified: true,
        groups: ['orders-admins', 'developers'],
        name: 'Jane Doe',
        preferred_username: 'jane.doe',
        federated_claims: { connector_id: 'github', user_id: '2342749' },
      },
    })
    await verifies(token)
  })

  it('mints access tokens with the same claims, and cross-client audiences with azp', async () => {
    const { claims } = decode(
      await issuer.mintShaped('dex', 'accessToken', {
        issuer: 'http://127.0.0.1:5556/dex',
        peers: ['kubernetes'],
        userId: 'cn=jane,ou=People,dc=example,dc=org',
        connectorId: 'ldap',
      }),
    )
    expect(claims).toMatchObject({
      iss: 'http://127.0.0.1:5556/dex',
      aud: ['kubernetes', 'orders-app'],
      azp: 'orders-app',
      at_hash: expect.stringMatching(HALF_HASH),
      federated_claims: { connector_id: 'ldap', user_id: 'cn=jane,ou=People,dc=example,dc=org' },
    })
    const sub = Buffer.from(claims.sub as string, 'base64url')
    expect(sub.subarray(2, 2 + sub[1]!).toString()).toBe('cn=jane,ou=People,dc=example,dc=org')
  })
})

describe('GitHub Actions', () => {
  it('mints a job token: typ JWT and x5t, repository claims, nbf before iat', async () => {
    const token = await issuer.mintShaped('github', 'accessToken', {
      audience: 'https://api.example.com',
    })
    const der = issuer.activeKey.publicKey.export({ type: 'spki', format: 'der' })
    const x5t = createHash('sha1').update(der).digest('base64url')
    const { header, claims } = decode(token)
    expect(header).toEqual({ alg: 'RS256', kid, typ: 'JWT', x5t })
    expect(claims).toEqual({
      jti: expect.stringMatching(UUID),
      sub: 'repo:octo-org/octo-repo:ref:refs/heads/main',
      aud: 'https://api.example.com',
      ref: 'refs/heads/main',
      sha: expect.stringMatching(/^[0-9a-f]{40}$/),
      repository: 'octo-org/octo-repo',
      repository_owner: 'octo-org',
      repository_owner_id: '65',
      run_id: expect.stringMatching(/^\d{10}$/),
      run_number: '10',
      run_attempt: '1',
      repository_visibility: 'private',
      repository_id: '74',
      actor_id: '12',
      actor: 'octocat',
      workflow: 'deploy',
      head_ref: '',
      base_ref: '',
      event_name: 'push',
      ref_protected: 'true',
      ref_type: 'branch',
      workflow_ref: 'octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main',
      workflow_sha: claims.sha,
      job_workflow_ref: 'octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main',
      job_workflow_sha: claims.sha,
      runner_environment: 'github-hosted',
      iss: 'https://token.actions.githubusercontent.com',
      nbf: T - 600,
      exp: T + 300,
      iat: T,
    })
    await verifies(token)
  })

  it('uses the environment subject, the owner URL as default audience, a reusable workflow', async () => {
    const { claims } = decode(
      await issuer.mintShaped('github', 'accessToken', {
        repository: 'acme/api',
        environment: 'prod',
        jobWorkflowRef: 'acme/workflows/.github/workflows/deploy.yml@refs/tags/v1',
        runnerEnvironment: 'self-hosted',
      }),
    )
    expect(claims).toMatchObject({
      sub: 'repo:acme/api:environment:prod',
      environment: 'prod',
      aud: 'https://github.com/acme',
      job_workflow_ref: 'acme/workflows/.github/workflows/deploy.yml@refs/tags/v1',
      runner_environment: 'self-hosted',
    })
    const pr = decode(
      await issuer.mintShaped('github', 'accessToken', { eventName: 'pull_request' }),
    )
    expect(pr.claims.sub).toBe('repo:octo-org/octo-repo:pull_request')
  })
})

describe('Kubernetes', () => {
  it('mints a projected service-account token: no typ, aud array, kubernetes.io object', async () => {
    const token = await issuer.mintShaped('kubernetes', 'accessToken', {
      issuer: 'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE',
      audience: 'orders-api',
      namespace: 'shop',
      serviceAccount: { name: 'checkout', uid: 'a709ef71-30e2-489a-bd19-ade97031b9db' },
    })
    expect(decode(token)).toEqual({
      header: { alg: 'RS256', kid },
      claims: {
        aud: ['orders-api'],
        exp: T + 3600,
        iat: T,
        iss: 'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE',
        jti: expect.stringMatching(UUID),
        'kubernetes.io': {
          namespace: 'shop',
          node: { name: 'worker-1', uid: expect.stringMatching(UUID) },
          pod: { name: 'orders-7c9d8f6b5-x2x4z', uid: expect.stringMatching(UUID) },
          serviceaccount: { name: 'checkout', uid: 'a709ef71-30e2-489a-bd19-ade97031b9db' },
        },
        nbf: T,
        sub: 'system:serviceaccount:shop:checkout',
      },
    })
    await verifies(token)
  })

  it('defaults aud to the issuer and can leave out pod and node', async () => {
    const { claims } = decode(
      await issuer.mintShaped('kubernetes', 'accessToken', { pod: null, node: null }),
    )
    expect(claims.aud).toEqual(['https://kubernetes.default.svc.cluster.local'])
    expect(claims['kubernetes.io']).toEqual({
      namespace: 'default',
      serviceaccount: { name: 'orders', uid: 'a709ef71-30e2-489a-bd19-ade97031b9db' },
    })
  })
})

describe('shapes', () => {
  const ALL: readonly (readonly [ProviderName, 'accessToken' | 'idToken'])[] = [
    ['auth0', 'accessToken'],
    ['auth0', 'idToken'],
    ['okta', 'accessToken'],
    ['okta', 'idToken'],
    ['entra', 'accessToken'],
    ['entra', 'idToken'],
    ['keycloak', 'accessToken'],
    ['keycloak', 'idToken'],
    ['cognito', 'accessToken'],
    ['cognito', 'idToken'],
    ['google', 'accessToken'],
    ['google', 'idToken'],
    ['dex', 'accessToken'],
    ['dex', 'idToken'],
    ['github', 'accessToken'],
    ['kubernetes', 'accessToken'],
  ]

  it('covers every provider, with the kind of token each builds', () => {
    expect(Object.keys(providers).sort()).toEqual(
      [...new Set(ALL.map(([provider]) => provider))].sort(),
    )
    for (const [provider, kind] of ALL) {
      const build = (providers[provider] as Record<string, () => { kind: string }>)[kind]
      expect(build?.().kind).toBe(kind === 'idToken' ? 'id' : 'access')
    }
    expect(providers.github).not.toHaveProperty('idToken')
    expect(providers.kubernetes).not.toHaveProperty('idToken')
  })

  it.each(ALL)(
    '%s %s: iat from the clock, exp after it, a signature of the active key',
    async (provider, kind) => {
      const token = await issuer.mintShaped(provider, kind as 'accessToken')
      const { claims } = decode(token)
      expect(claims.iat).toBe(T)
      expect(claims.exp).toBeGreaterThan(T)
      expect(claims.iss).toEqual(expect.any(String))
      await verifies(token)
    },
  )

  it('is a pure builder too: mint(shape.claims, { header }) gives the same token shape', async () => {
    const shape = providers.cognito.accessToken({ now: NOW })
    expect(shape).toMatchObject({ provider: 'cognito', kind: 'access' })
    // mint's defaults the provider does not send are marked for removal.
    expect(shape.claims).toHaveProperty('aud', undefined)
    expect(shape.header).toHaveProperty('typ', undefined)
    const { header, claims } = decode(await issuer.mint(shape.claims, { header: shape.header }))
    expect(header).toEqual({ alg: 'RS256', kid })
    expect(claims).toEqual(JSON.parse(JSON.stringify(shape.claims)))
    expect(claims).not.toHaveProperty('aud')
  })

  it('applies claim and header overrides, undefined removing a member', async () => {
    const { header, claims } = decode(
      await issuer.mintShaped('okta', 'accessToken', {
        claims: { scp: ['orders:write'], uid: undefined, custom: { a: 1 } },
        header: { typ: 'application/okta-internal-at+jwt' },
        lifetime: 60,
      }),
    )
    expect(header).toEqual({ alg: 'RS256', kid, typ: 'application/okta-internal-at+jwt' })
    expect(claims).toMatchObject({ scp: ['orders:write'], custom: { a: 1 }, exp: T + 60 })
    expect(claims).not.toHaveProperty('uid')
  })

  it('signs with the key given, and derives x5t from it', async () => {
    const other = await issuer.generateKey('RS256', { kid: 'second' })
    const token = await issuer.mintShaped('entra', 'accessToken', { version: '1.0', key: other })
    expect(decodeProtectedHeader(token)).toMatchObject({ kid: 'second', x5t: 'second' })
    const { header } = providers.entra.accessToken({ version: '1.0' })
    expect(header).not.toHaveProperty('x5t') // no key, no thumbprint
  })

  it('uses the issuer clock unless now is given', async () => {
    const later = NOW + 3_600_000
    const { claims } = decode(await issuer.mintShaped('google', 'accessToken', { now: later }))
    expect(claims.iat).toBe(T + 3600)
  })

  it('refuses unknown providers, kinds and options with a TypeError', async () => {
    const untyped = issuer.mintShaped.bind(issuer) as (
      provider: string,
      kind: string,
      options?: object,
    ) => Promise<string>
    await expect(untyped('ping', 'accessToken')).rejects.toThrow(/unknown provider "ping"/)
    await expect(untyped('github', 'idToken')).rejects.toThrow(/github has no "idToken" shape/)
    await expect(untyped('okta', 'accessToken', { scope: 'x' })).rejects.toThrow(
      /unknown option "scope"/,
    )
    await expect(untyped('okta', 'accessToken', { scope: 'x' })).rejects.toBeInstanceOf(TypeError)
    expect(() => providers.auth0.accessToken({ now: Number.NaN })).toThrow(TypeError)
  })
})
