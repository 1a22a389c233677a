/**
 * A field's plaintext must be the RFC 8785 form of its value, on the server and in the client on
 * both backends: a sender (or a key holder replaying a crafted field) who spells the same string
 * another way (`\u0061` for `a`, an escaped `/`, upper-case hex, an escaped emoji, white space
 * around it) is refused with CONTINUUM_NON_CANONICAL_JSON, so what the receiver acts on is byte
 * for byte what was encrypted. Both sides shortcut the common case (a string with no escape is
 * accepted without being written again), and these cases pin that the shortcut accepts nothing
 * the full check would refuse.
 */
import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type CipherContext, createFieldKey, decryptValue } from '../../src/cipher'
import { sealBytes } from '../../src/cipher/field-cipher'
import { CIPHERTEXT_PREFIX, FORMAT_VERSION } from '../../src/cipher/format'
import {
  type ClientCipherContext,
  decryptValue as clientDecryptValue,
  defaultBackend,
  deriveFieldKey,
  webCryptoBackend,
} from '../../src/client/web-crypto/index'
import { canonicalJson } from '../../src/internal/canonical-json'

const keyBytes = randomBytes(32)
const serverKey = createFieldKey('k1', keyBytes)
const context: CipherContext = { key: serverKey, nonce: 'bm9uY2Utbm9uY2Utbm9uY2U', direction: 'response' }
const PATH = '/choices/0/message/content'

/** A field ciphertext of exactly `plaintext`, as a sender that spells its JSON as it likes would make. */
function fieldOf(plaintext: string): string {
  const aad = Buffer.from(
    `${FORMAT_VERSION}|${serverKey.id}|${context.nonce}|${context.direction}|0|${PATH}`,
    'utf8',
  )
  return `${CIPHERTEXT_PREFIX}${serverKey.id}.${sealBytes(serverKey, aad, plaintext).toString('base64url')}`
}

type Opener = (ciphertext: string) => Promise<unknown>

const openers: [string, Promise<Opener>][] = [
  ['server', Promise.resolve(async (ciphertext) => decryptValue(context, 0, PATH, ciphertext))],
  ...(
    [
      // On Node the default backend is node:crypto.
      ['client, node:crypto', defaultBackend()],
      ['client, WebCrypto', webCryptoBackend],
    ] as const
  ).map(([name, backend]): [string, Promise<Opener>] => [
    name,
    deriveFieldKey(backend, 'k1', new Uint8Array(keyBytes)).then((key) => {
      const client: ClientCipherContext = { key, nonce: context.nonce, direction: 'response' }
      return (ciphertext) => clientDecryptValue(client, 0, PATH, ciphertext)
    }),
  ]),
]

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise
    return undefined
  } catch (error) {
    return (error as { code?: string }).code ?? 'not a ContinuumError'
  }
}

const CANONICAL: [string, unknown][] = [
  ['"a"', 'a'],
  ['"héllo wörld ✓ 😀"', 'héllo wörld ✓ 😀'],
  ['"line\\nbreak"', 'line\nbreak'],
  ['"quote \\" and backslash \\\\"', 'quote " and backslash \\'],
  ['"\\u001f"', '\u001f'],
  ['"\u2028 and \u007f stay raw"', '\u2028 and \u007f stay raw'],
  ['"\\t\\b\\f"', '\t\b\f'],
  ['""', ''],
]

const OTHER_SPELLINGS = [
  '"\\u0061"',
  '"a\\/b"',
  '"\\u001F"',
  '"\\u00e9"',
  '"\\ud83d\\ude00"',
  ' "a"',
  '"a" ',
  '"\\u0009"',
]

it('checks the node:crypto client backend under that name (the default on Node)', () => {
  expect(defaultBackend().name).not.toBe(webCryptoBackend.name)
})

describe.each(openers)('plaintext form: %s', (_name, opening) => {
  it.each(CANONICAL)('opens the canonical spelling %s', async (plaintext, value) => {
    const open = await opening
    expect(await open(fieldOf(plaintext))).toEqual(value)
  })

  it('refuses every other spelling of a string with CONTINUUM_NON_CANONICAL_JSON', async () => {
    const open = await opening
    for (const plaintext of OTHER_SPELLINGS) {
      expect(JSON.parse(plaintext), plaintext).toBeTypeOf('string')
      expect(await codeOf(open(fieldOf(plaintext))), plaintext).toBe('CONTINUUM_NON_CANONICAL_JSON')
    }
  })

  it('accepts a string plaintext exactly when it is the canonical form of its value', async () => {
    const open = await opening
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary' }),
        fc.constantFrom('as is', 'escape one', 'pad'),
        async (text, spelling) => {
          const written = JSON.stringify(text)
          const plaintext =
            spelling === 'pad'
              ? ` ${written}`
              : spelling === 'escape one' && text.length > 0
                ? // The first code unit as a \u escape, the rest as JSON writes it.
                  `"\\u${text.charCodeAt(0).toString(16).padStart(4, '0')}${JSON.stringify(text.slice(1)).slice(1)}`
                : written
          let canonical: string | undefined
          try {
            canonical = canonicalJson(JSON.parse(plaintext))
          } catch {
            canonical = undefined
          }
          const code = await codeOf(open(fieldOf(plaintext)))
          if (canonical === plaintext) expect(code, plaintext).toBeUndefined()
          else expect(code, plaintext).toBeDefined()
        },
      ),
      { numRuns: 300 },
    )
  })
})
