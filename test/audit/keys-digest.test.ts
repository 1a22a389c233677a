import { createHash, createHmac, generateKeyPairSync } from 'node:crypto'
import {
  auditKeyId,
  digestContent,
  generateAuditKeyPair,
  parseAuditPrivateKey,
  parseAuditPublicKey,
  strictCanonicalJson,
} from 'continuum-proxy/audit'
import { describe, expect, it } from 'vitest'

describe('audit keys', () => {
  it('accepts PEM, base64 raw and KeyObjects, all naming the same key id', () => {
    const keys = generateAuditKeyPair()
    const fromPem = parseAuditPrivateKey(keys.privateKeyPem)
    const fromSeed = parseAuditPrivateKey(keys.privateKeySeed)
    expect(auditKeyId(fromPem)).toBe(keys.keyId)
    expect(auditKeyId(fromSeed)).toBe(keys.keyId)
    expect(auditKeyId(parseAuditPublicKey(keys.publicKeyPem))).toBe(keys.keyId)
    expect(auditKeyId(parseAuditPublicKey(keys.publicKeyRaw))).toBe(keys.keyId)
    expect(auditKeyId(parseAuditPublicKey(fromPem))).toBe(keys.keyId)
    const base64url = Buffer.from(keys.publicKeyRaw, 'base64').toString('base64url')
    expect(auditKeyId(parseAuditPublicKey(base64url))).toBe(keys.keyId)
  })

  it('refuses other key types and sizes without echoing the input', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
    const secret = Buffer.alloc(31, 7).toString('base64')
    const attempts = [
      () => parseAuditPrivateKey(secret),
      () => parseAuditPrivateKey('not base64 !!'),
      () => parseAuditPrivateKey(rsa.privateKey),
      () => parseAuditPublicKey(rsa.publicKey.export({ format: 'pem', type: 'spki' }).toString()),
      () => parseAuditPublicKey('-----BEGIN PUBLIC KEY-----\ngarbage\n-----END PUBLIC KEY-----'),
      () => parseAuditPrivateKey(generateAuditKeyPair().publicKeyPem),
    ]
    for (const attempt of attempts) {
      let caught: unknown
      try {
        attempt()
      } catch (error) {
        caught = error
      }
      expect(caught).toMatchObject({ code: 'CONTINUUM_AUDIT_KEY_INVALID' })
      expect((caught as Error).message).not.toContain(secret)
    }
  })
})

describe('digestContent', () => {
  it('keys digests by default, and makes plain SHA-256 only when asked', () => {
    const plain = `sha256:${createHash('sha256').update('hello').digest('hex')}`
    expect(digestContent('hello', { unkeyed: true })).toBe(plain)
    // The default is an HMAC under a per-process secret: stable within the process, not the plain hash.
    expect(digestContent('hello')).toMatch(/^hmac-sha256:[0-9a-f]{64}$/)
    expect(digestContent('hello')).toBe(digestContent('hello'))
    expect(digestContent('hello').slice(-64)).not.toBe(plain.slice(-64))
    const key = 'k'.repeat(32)
    expect(digestContent('hello', { key })).toBe(
      `hmac-sha256:${createHmac('sha256', key).update('hello').digest('hex')}`,
    )
    expect(digestContent(new TextEncoder().encode('hello'))).toBe(digestContent('hello'))
  })

  it('digests JSON values independently of key order', () => {
    expect(digestContent({ b: 1, a: [1, 'x'] })).toBe(digestContent({ a: [1, 'x'], b: 1 }))
    expect(digestContent({ a: 1 })).not.toBe(digestContent({ a: 2 }))
  })

  it('refuses short keys and non-JSON values', () => {
    expect(() => digestContent('x', { key: 'k'.repeat(32), unkeyed: true })).toThrow(
      expect.objectContaining({ code: 'CONTINUUM_INVALID_OPTIONS' }),
    )
    expect(() => digestContent('x', { key: 'short' })).toThrow(
      expect.objectContaining({ code: 'CONTINUUM_INVALID_OPTIONS' }),
    )
    expect(() => digestContent({ value: Number.NaN })).toThrow(
      expect.objectContaining({ code: 'CONTINUUM_AUDIT_INVALID_RECORD' }),
    )
  })
})

describe('strictCanonicalJson', () => {
  it('sorts keys by UTF-16 code units and omits undefined members (RFC 8785)', () => {
    expect(
      strictCanonicalJson({ b: 1, a: { d: undefined, c: [true, null, 'é'] }, '\u20ac': 1, '\r': 2 }),
    ).toBe('{"\\r":2,"a":{"c":[true,null,"é"]},"b":1,"€":1}')
  })

  it('serialises numbers as ECMAScript does', () => {
    expect(strictCanonicalJson([1e21, 1e-7, -0, 0.1, 333333333.3333333, 4.5])).toBe(
      '[1e+21,1e-7,0,0.1,333333333.3333333,4.5]',
    )
  })

  it('refuses values outside JSON', () => {
    // Refused with a code and without naming the member (member names may be content).
    expect(() => strictCanonicalJson({ a: Number.POSITIVE_INFINITY })).toThrow(
      expect.objectContaining({ code: 'CONTINUUM_NON_CANONICAL_JSON' }),
    )
    expect(() => strictCanonicalJson(['\ud800'])).toThrow('surrogate')
    expect(() => strictCanonicalJson([undefined])).toThrow('undefined')
    expect(() => strictCanonicalJson(new Date(0))).toThrow('plain object')
    expect(() => strictCanonicalJson(() => 1)).toThrow('function')
    expect(strictCanonicalJson('😀')).toBe('"😀"')
  })
})
