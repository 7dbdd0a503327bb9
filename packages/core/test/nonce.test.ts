/**
 * Stateless server-provided DPoP nonces (RFC 9449 §8, §9): HMAC of a time step, valid in the
 * current and previous step, the next step's handed out ahead in the last seconds of a step.
 */
import { describe, expect, it } from 'vitest'
import { DpopNonces } from '../src/binding/nonce.js'

const SECRET = 'a shared secret of at least 32 bytes!'
const STEP = 300_000
/** The start of a step, so offsets below read as "seconds into the step". */
const T0 = Math.floor(1_800_000_000_000 / STEP) * STEP

describe('DpopNonces', () => {
  const nonces = new DpopNonces({ secret: SECRET })

  it('issues one unpredictable-looking nonce per step, in the nonce syntax (1*NQCHAR, §8.1)', () => {
    const nonce = nonces.currentNonce(T0)
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(nonces.currentNonce(T0 + STEP - 1)).toBe(nonce)
    expect(nonces.currentNonce(T0 + STEP)).not.toBe(nonce)
    expect(nonces.currentNonce(T0 - 1)).not.toBe(nonce)
  })

  it('accepts the nonce of the current and the previous step, and no older one', () => {
    const nonce = nonces.currentNonce(T0)
    expect(nonces.isValid(nonce, T0)).toBe(true)
    expect(nonces.isValid(nonce, T0 + STEP)).toBe(true)
    expect(nonces.isValid(nonce, T0 + 2 * STEP - 1)).toBe(true)
    expect(nonces.isValid(nonce, T0 + 2 * STEP)).toBe(false)
    expect(nonces.isValid(nonce, T0 - STEP)).toBe(false)
  })

  it('hands out the next step nonce in the last 30 s of a step, and accepts it from then on', () => {
    const next = nonces.currentNonce(T0 + STEP)
    const leadStart = T0 + STEP - 30_000
    expect(nonces.isValid(next, leadStart - 1)).toBe(false)
    expect(nonces.nonceToSend(leadStart - 1)).toBe(nonces.currentNonce(T0))
    expect(nonces.nonceToSend(leadStart)).toBe(next)
    expect(nonces.isValid(next, leadStart)).toBe(true)
  })

  it('sends no nonce to a client that holds the freshest one already (§8.2)', () => {
    const current = nonces.currentNonce(T0)
    expect(nonces.nonceToSend(T0 + 1000, current)).toBeUndefined()
    expect(nonces.nonceToSend(T0 + 1000, 'older')).toBe(current)
    // A client with the current nonce gets the next one once the step rolls.
    expect(nonces.nonceToSend(T0 + STEP - 1000, current)).toBe(nonces.currentNonce(T0 + STEP))
  })

  it('agrees across a fleet that shares the secret; a random per-process secret does not', () => {
    const sibling = new DpopNonces({ secret: Buffer.from(SECRET) })
    expect(sibling.currentNonce(T0)).toBe(nonces.currentNonce(T0))
    expect(sibling.isValid(nonces.currentNonce(T0), T0)).toBe(true)
    const a = new DpopNonces()
    const b = new DpopNonces()
    expect(a.currentNonce(T0)).not.toBe(b.currentNonce(T0))
    expect(b.isValid(a.currentNonce(T0), T0)).toBe(false)
    expect(new DpopNonces({ secret: `${SECRET}x` }).currentNonce(T0)).not.toBe(
      nonces.currentNonce(T0),
    )
  })

  it('refuses anything else: another string, one character off, a non-string', () => {
    const nonce = nonces.currentNonce(T0)
    const flipped = (nonce.startsWith('A') ? 'B' : 'A') + nonce.slice(1)
    // Same low byte as the first character, so equal to the nonce in latin1.
    const wide = String.fromCharCode(0x100 + nonce.charCodeAt(0)) + nonce.slice(1)
    for (const value of [flipped, wide, nonce.slice(1), `${nonce}A`, '', undefined, 42, [nonce]]) {
      expect(nonces.isValid(value, T0)).toBe(false)
    }
  })

  it('takes the step and lead lengths in seconds', () => {
    const short = new DpopNonces({ secret: SECRET, step: 60, lead: 0 })
    const nonce = short.currentNonce(T0)
    expect(short.isValid(nonce, T0 + 119_999)).toBe(true)
    expect(short.isValid(nonce, T0 + 120_000)).toBe(false)
    // Without a lead, the next nonce is never sent or accepted early.
    expect(short.nonceToSend(T0 + 59_999)).toBe(nonce)
    expect(short.isValid(short.currentNonce(T0 + 60_000), T0 + 59_999)).toBe(false)
  })

  it('checks its options: a secret of 32 bytes at least, positive step', () => {
    expect(() => new DpopNonces({ secret: 'short' })).toThrow(TypeError)
    expect(() => new DpopNonces({ secret: new Uint8Array(31) })).toThrow(TypeError)
    expect(() => new DpopNonces({ secret: 7 as unknown as string })).toThrow(TypeError)
    expect(() => new DpopNonces({ step: 0 })).toThrow(TypeError)
    expect(() => new DpopNonces({ lead: -1 })).toThrow(TypeError)
  })
})
