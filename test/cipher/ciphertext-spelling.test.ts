/**
 * A field ciphertext has one spelling: its bytes in unpadded base64url with zero spare bits
 * (format.ts). Every other text that decodes to bytes (the other base64 alphabet, padding,
 * whitespace or other characters Node's decoder skips, a dangling character, spare bits set) is
 * refused as CONTINUUM_MALFORMED_CIPHERTEXT, so a ciphertext cannot be changed without its seal
 * noticing and decrypt to the same field.
 */
import { randomBytes } from 'node:crypto'
import { ContinuumError } from 'continuum-proxy'
import { describe, expect, it } from 'vitest'
import { parseCiphertext } from '../../src/cipher/format'

/** A payload whose base64url spelling holds `-` and `_` and ends on a partial group. */
function payloadWith(rest: 2 | 3): Buffer {
  for (;;) {
    const bytes = randomBytes(rest === 2 ? 40 : 41)
    const text = bytes.toString('base64url')
    if (text.includes('-') && text.includes('_')) return bytes
  }
}

function code(text: string): string | undefined {
  try {
    parseCiphertext(text, '/messages/0/content')
    return undefined
  } catch (error) {
    return ContinuumError.isInstance(error) ? error.code : 'not a ContinuumError'
  }
}

describe('ciphertext spelling', () => {
  it.each([2, 3] as const)('opens the one spelling (length %i mod 4)', (rest) => {
    const bytes = payloadWith(rest)
    const text = bytes.toString('base64url')
    expect(text.length % 4).toBe(rest)
    expect(parseCiphertext(`cp2.k1.${text}`, '/x')).toEqual({ keyId: 'k1', payload: bytes })
  })

  it.each([2, 3] as const)('refuses every other spelling of the same bytes (length %i mod 4)', (rest) => {
    const text = payloadWith(rest).toString('base64url')
    const last = text.at(-1)!
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const spareBitsSet = text.slice(0, -1) + alphabet[alphabet.indexOf(last) + 1]
    const variants = [
      text.replaceAll('-', '+'),
      text.replaceAll('_', '/'),
      `${text}${'='.repeat(4 - rest)}`,
      `${text.slice(0, 8)} ${text.slice(8)}`,
      `${text.slice(0, 8)}\n${text.slice(8)}`,
      `${text.slice(0, 8)}.${text.slice(8)}`,
      // One character past the last whole byte: six bits that decode to nothing.
      `${text}${'A'.repeat(rest === 2 ? 3 : 2)}`,
      spareBitsSet,
    ]
    for (const variant of variants) {
      expect(Buffer.from(variant, 'base64url').length).toBeGreaterThanOrEqual(28)
      expect(code(`cp2.k1.${variant}`)).toBe('CONTINUUM_MALFORMED_CIPHERTEXT')
    }
  })

  it('refuses a payload too short for an IV and a tag, and a bad key id', () => {
    expect(code(`cp2.k1.${randomBytes(27).toString('base64url')}`)).toBe('CONTINUUM_MALFORMED_CIPHERTEXT')
    expect(code(`cp2.k!.${randomBytes(40).toString('base64url')}`)).toBe('CONTINUUM_MALFORMED_CIPHERTEXT')
    expect(code('cp2.k1.')).toBe('CONTINUUM_MALFORMED_CIPHERTEXT')
  })
})
