/**
 * The one serialiser every seal, field plaintext, cache key and audit hash goes through, against
 * RFC 8785: the reference input/output files and Appendix B's numbers, a differential run against
 * the `canonicalize` package, and the values JCS cannot represent (refused with a code, never
 * written as `null` or `\ud800`). Then the attack: a body whose `1e400` would have sealed like
 * `null`, on a real socket.
 */
import { readdirSync, readFileSync } from 'node:fs'
import canonicalize from 'canonicalize'
import fc from 'fast-check'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { canonicalJson, computeSeal, createFieldKey } from '../../src/cipher'
import { frameworks, type RunningApp } from '../conformance/frameworks'
import { encryptRequest, expectRefusal, secretChat, sharedKeys } from '../conformance/support'
import { startOpenAIUpstream } from '../kit/openai-echo'
import type { FakeUpstream } from '../kit/server'

const fixtures = new URL('../fixtures/jcs/', import.meta.url)

function codeOf(run: () => unknown): unknown {
  try {
    run()
  } catch (error) {
    return (error as { code?: unknown }).code
  }
  return 'no error'
}

describe('RFC 8785 reference test data', () => {
  const names = readdirSync(new URL('input/', fixtures))
  it.each(names)('%s canonicalises to the reference output', (name) => {
    const input = JSON.parse(readFileSync(new URL(`input/${name}`, fixtures), 'utf8'))
    const output = readFileSync(new URL(`output/${name}`, fixtures), 'utf8')
    expect(canonicalJson(input)).toBe(output.replace(/\n$/, ''))
  })

  const numbers = JSON.parse(readFileSync(new URL('numbers.json', fixtures), 'utf8')) as [
    string,
    string | null,
  ][]
  it.each(numbers)('IEEE-754 %s serialises as %s (Appendix B)', (hex, expected) => {
    const bytes = Buffer.from(hex.padStart(16, '0'), 'hex')
    const value = bytes.readDoubleBE(0)
    if (expected === null) expect(codeOf(() => canonicalJson([value]))).toBe('CONTINUUM_NON_CANONICAL_JSON')
    else expect(canonicalJson(value)).toBe(expected)
  })
})

describe('canonicalJson', () => {
  it('agrees with the canonicalize package on arbitrary JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJson(value)).toBe(canonicalize(value))
      }),
      { numRuns: 2000, seed: 8785 },
    )
  })

  it.each([
    ['a number parsed from 1e400', JSON.parse('{"max_tokens":1e400}')],
    ['-1e400', JSON.parse('[-1e400]')],
    ['NaN', { value: Number.NaN }],
    ['a lone high surrogate', { text: '\ud800' }],
    ['a lone low surrogate in a key', { ['\udc00']: 1 }],
    ['undefined in an array', [undefined]],
    ['a function', { run: () => 1 }],
    ['a class instance', { when: new Date(0) }],
    ['a bigint', { big: 1n }],
  ])('refuses %s with CONTINUUM_NON_CANONICAL_JSON', (_label, value) => {
    expect(codeOf(() => canonicalJson(value))).toBe('CONTINUUM_NON_CANONICAL_JSON')
  })

  it('never names the offending member (member names may be content)', () => {
    try {
      canonicalJson(JSON.parse('{"my diagnosis":1e400}'))
    } catch (error) {
      expect((error as Error).message).not.toContain('diagnosis')
      return
    }
    throw new Error('expected a refusal')
  })

  it('writes 100,000 levels of nesting without a RangeError (it is iterative)', () => {
    let deep: unknown = 'leaf'
    for (let level = 0; level < 100_000; level++) deep = level % 2 === 0 ? [deep] : { a: deep }
    const text = canonicalJson(deep)
    expect(text.length).toBe(6 + 50_000 * 2 + 50_000 * 6)
    expect(text.startsWith('{"a":[{"a":[')).toBe(true)
  })

  it('keeps seals of 1e400, -1e400 and null apart: the first two are refused', () => {
    const key = createFieldKey('k1', Buffer.alloc(32, 7))
    const context = { key, nonce: 'n', direction: 'request' as const }
    const seal = (text: string) => () => computeSeal(context, 0, 'request', 'm', JSON.parse(text))
    expect(codeOf(seal('{"x":1e400}'))).toBe('CONTINUUM_NON_CANONICAL_JSON')
    expect(codeOf(seal('{"x":-1e400}'))).toBe('CONTINUUM_NON_CANONICAL_JSON')
    expect(typeof seal('{"x":null}')()).toBe('string')
  })
})

describe.each(frameworks.filter((harness) => harness.prefix === ''))(
  'non-canonical bodies via $name',
  (harness) => {
    let upstream: FakeUpstream
    let app: RunningApp

    beforeAll(async () => {
      upstream = await startOpenAIUpstream()
      app = await harness.start({ upstream: upstream.url, keys: sharedKeys() })
    })

    afterAll(async () => {
      await app.close()
      await upstream.close()
    })

    it('refuses a plain field of 1e400 with 400 CONTINUUM_NON_CANONICAL_JSON before forwarding', async () => {
      const built = encryptRequest('/v1/chat/completions', secretChat({ max_tokens: 64 }))
      const text = JSON.stringify(built.body).replace('"max_tokens":64', '"max_tokens":1e400')
      const before = upstream.requests.length
      const response = await request(app.url)
        .post('/v1/chat/completions')
        .set(built.headers)
        .set('content-type', 'application/json')
        .send(text)
      expectRefusal(response, 400, 'CONTINUUM_NON_CANONICAL_JSON')
      expect(upstream.requests.length).toBe(before)
    })
  },
)
