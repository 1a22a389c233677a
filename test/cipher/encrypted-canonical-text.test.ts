/**
 * The one-pass writer of an encrypted message's canonical JSON (field-map.ts) against the two-step
 * path it replaces, canonicalJson(encryptFields(...)): the same text but for the ciphertexts, whose
 * IVs are random, and each ciphertext opening to the value at its own path. Failing messages throw
 * the error the two-step path throws.
 */
import { randomBytes } from 'node:crypto'
import { ContinuumError } from 'continuum-proxy'
import { describe, expect, it } from 'vitest'
import {
  type CipherContext,
  canonicalJson,
  compilePlainFields,
  createFieldKey,
  decryptFields,
  encryptFields,
} from '../../src/cipher'
import { encryptFieldsToCanonicalJson } from '../../src/cipher/field-map'

const key = createFieldKey('k1', randomBytes(32))
const context: CipherContext = { key, nonce: randomBytes(16).toString('base64url'), direction: 'response' }
const CIPHERTEXT = /"cp2\.k1\.[A-Za-z0-9_-]+"/g
const masked = (text: string): string => text.replace(CIPHERTEXT, '"<ciphertext>"')

const messages: [string, string[], unknown][] = [
  [
    'a chat completion',
    ['id', 'object', 'created', 'model', 'choices.*.index', 'choices.*.finish_reason', 'usage'],
    {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1,
      model: 'm',
      choices: [{ index: 0, message: { role: 'assistant', content: 'hi "there"\n' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
    },
  ],
  [
    'members out of order, numeric names, escapes and an undefined member',
    ['b', 'z.*', '10'],
    { z: [1, { y: 'é\u2028' }], b: { x: null, a: [true] }, 10: 'ten', 2: 'two', a: undefined, 'p/q~r': 'x' },
  ],
  ['an empty object', [], {}],
  ['a scalar root', [], 'just text'],
  ['everything plain below the root', ['*'], { b: 1, a: { d: [1, 2], c: 'x' } }],
  ['an array root', ['1'], ['secret', 'plain', { k: 'secret' }]],
  ['a member named __proto__', [], JSON.parse('{"__proto__":{"x":1},"a":"b"}')],
]

describe('encryptFieldsToCanonicalJson', () => {
  it.each(messages)('writes the two-step text for %s', (_name, patterns, message) => {
    const tree = compilePlainFields(patterns)
    const text = encryptFieldsToCanonicalJson(tree, message, context, 3)
    const twoStep = canonicalJson(encryptFields(tree, message, context, 3))
    expect(masked(text)).toBe(masked(twoStep))
    expect(canonicalJson(JSON.parse(text))).toBe(text)
    expect(decryptFields(tree, JSON.parse(text), context, 3)).toEqual(
      decryptFields(tree, JSON.parse(twoStep), context, 3),
    )
  })

  it('binds each ciphertext to its path and sequence', () => {
    const tree = compilePlainFields([])
    const text = encryptFieldsToCanonicalJson(tree, { a: 'one', b: 'two' }, context, 0)
    const swapped = JSON.parse(text) as { a: string; b: string }
    ;[swapped.a, swapped.b] = [swapped.b, swapped.a]
    expect(() => decryptFields(tree, swapped, context, 0)).toThrow(ContinuumError)
    expect(() => decryptFields(tree, JSON.parse(text), context, 1)).toThrow(ContinuumError)
  })

  it.each([
    ['undefined in a plain array', ['list'], { list: [1, undefined] }],
    ['undefined in an encrypted array', [], { list: [1, undefined] }],
    ['a lone surrogate in a member name', [], { '\ud800': 'x', a: 'y' }],
    ['a lone surrogate in an encrypted value', [], { a: '\udc00' }],
    ['a number JSON cannot hold', ['n'], { n: Number.POSITIVE_INFINITY, s: 'x' }],
  ])('throws what the two-step path throws for %s', (_name, patterns, message) => {
    const tree = compilePlainFields(patterns)
    let expected: unknown
    try {
      canonicalJson(encryptFields(tree, message, context, 0))
    } catch (error) {
      expected = error
    }
    expect(ContinuumError.isInstance(expected)).toBe(true)
    expect(() => encryptFieldsToCanonicalJson(tree, message, context, 0)).toThrow(
      (expected as ContinuumError).message,
    )
  })
})
