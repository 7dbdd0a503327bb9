import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type { INestApplication } from '@nestjs/common'
import { Test } from '@nestjs/testing'
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { AppModule } from '../src/app.module'

describe('a CommonJS Nest app under Jest, guarded by @bearer-guard/nestjs', () => {
  let issuer: TestIssuer
  let app: INestApplication
  let url: string

  beforeAll(async () => {
    issuer = await createTestIssuer()
    process.env.ISSUER = issuer.issuer
    process.env.AUDIENCE = 'https://api.example.com'
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile()
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
    app = moduleRef.createNestApplication({ logger: false })
    await app.listen(0, '127.0.0.1')
    url = await app.getUrl()
  })

  afterAll(async () => {
    await app.close()
    await issuer.close()
  })

  it('serves public routes', async () => {
    const response = await fetch(`${url}/health`)
    expect(response.status).toBe(200)
  })

  it('refuses a request without a token with 401 and a challenge', async () => {
    const response = await fetch(`${url}/hello`)
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /)
  })

  it('refuses a token without the scope with 403', async () => {
    const token = await issuer.mint({ scope: 'other' })
    const response = await fetch(`${url}/hello`, { headers: { authorization: `Bearer ${token}` } })
    expect(response.status).toBe(403)
  })

  it('accepts a valid token and injects @Auth()', async () => {
    const token = await issuer.mint({ scope: 'greet', sub: 'alice' })
    const response = await fetch(`${url}/hello`, { headers: { authorization: `Bearer ${token}` } })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ message: 'hello alice' })
  })
})
