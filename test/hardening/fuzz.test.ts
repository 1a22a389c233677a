/**
 * Property-based fuzzing (fast-check) of the parts an attacker feeds directly: the field walker
 * and field cipher, seals, canonical JSON, and the SSE / NDJSON / line decoders, client stream
 * opener included. Runs are seeded and bounded so the suite stays within a few seconds in CI; a
 * failure prints its seed and the shrunk counterexample.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { builtinAdapters } from '../../adapters/index'
import {
  canonicalJson,
  compilePlainFields,
  createFieldKey,
  decryptFields,
  decryptValue,
  encryptFields,
  encryptValue,
  isCiphertext,
  openRequest,
  sealRequest,
} from '../../src/cipher'
import { openStream } from '../../src/client/stream-opener'
import { ContinuumError } from '../../src/errors'
import { AdapterRegistry } from '../../src/protocol/registry'
import { formatNdjson, formatSse, LineDecoder, NdjsonDecoder, SseDecoder } from '../../src/streams'
import { clientContext } from '../support/client-context'

const RUNS = { seed: 424_242, numRuns: 300 }
const key = createFieldKey('fuzz', Buffer.alloc(32, 9))
const requestContext = { key, nonce: 'oKGio6SlpqeoqaqrrK2urw', direction: 'request' as const }
const utf8 = new TextEncoder()

/** JSON objects whose member names include the awkward ones. */
const key$ = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.constantFrom('__proto__', 'constructor', 'a/b', 'm~0', ''),
)
const object$ = fc.dictionary(key$, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 })

/** Split points for a byte array, empty chunks included. */
function chunks$(length: number): fc.Arbitrary<number[]> {
  return fc
    .array(fc.integer({ min: 0, max: length }), { maxLength: 8 })
    .map((cuts) => [...cuts].sort((a, b) => a - b))
}

function split(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const parts: Uint8Array[] = []
  let start = 0
  for (const cut of cuts) {
    parts.push(bytes.subarray(start, cut))
    start = cut
  }
  parts.push(bytes.subarray(start))
  return parts
}

/** Only coded errors may escape a parser fed garbage. */
function codedOrNothing(run: () => unknown): void {
  try {
    run()
  } catch (error) {
    if (!ContinuumError.isInstance(error)) throw error
  }
}

/** The plain-field patterns a message could have: some of its own paths, with wildcards. */
function patterns$(message: Record<string, unknown>): fc.Arbitrary<string[]> {
  const paths: string[] = []
  const visit = (value: unknown, path: string[]) => {
    if (path.length > 0 && !path.some((segment) => segment === '' || segment.includes('.')))
      paths.push(path.join('.'))
    if (typeof value === 'object' && value !== null && path.length < 3) {
      for (const [name, child] of Object.entries(value)) visit(child, [...path, name])
    }
  }
  visit(message, [])
  return fc
    .subarray([...paths, '*'])
    .chain((picked) =>
      fc.constant(
        picked.map((pattern) => (pattern.includes('.') ? pattern.replace(/\.[^.]+$/, '.*') : pattern)),
      ),
    )
}

describe('fuzz: canonical JSON', () => {
  it('is idempotent through JSON.parse and ignores member order', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        const text = canonicalJson(value)
        expect(canonicalJson(JSON.parse(text))).toBe(text)
        const reordered = JSON.parse(text, (_name, item) =>
          typeof item === 'object' && item !== null && !Array.isArray(item)
            ? Object.fromEntries(Object.entries(item).reverse())
            : item,
        )
        expect(canonicalJson(reordered)).toBe(text)
      }),
      RUNS,
    )
  })

  it('refuses with a code, never writes, any string holding a lone surrogate', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.integer({ min: 0xd800, max: 0xdfff }),
        fc.string(),
        (before, unit, after) => {
          const text = `${before.replace(/[\ud800-\udfff]/g, '')}${String.fromCharCode(unit)}${after.replace(/[\ud800-\udfff]/g, '')}`
          expect(() => canonicalJson({ text })).toThrow(
            expect.objectContaining({ code: 'CONTINUUM_NON_CANONICAL_JSON' }),
          )
        },
      ),
      RUNS,
    )
  })
})

describe('fuzz: field walker and field cipher', () => {
  it('round-trips any message under any allow-list, and encrypts every value it does not name', () => {
    fc.assert(
      fc.property(
        object$.chain((message) => fc.tuple(fc.constant(message), patterns$(message))),
        ([message, patterns]) => {
          const tree = compilePlainFields(patterns)
          const encrypted = encryptFields(tree, message, requestContext, 3)
          const decrypted = decryptFields(tree, encrypted, requestContext, 3)
          expect(canonicalJson(decrypted)).toBe(canonicalJson(message))
          if (patterns.length === 0) {
            for (const value of Object.values(encrypted as Record<string, unknown>))
              expect(isCiphertext(value)).toBe(true)
          }
        },
      ),
      RUNS,
    )
  })

  it('turns every corruption of a ciphertext into a coded error', () => {
    fc.assert(
      fc.property(
        fc.jsonValue({ maxDepth: 2 }),
        fc.nat(),
        fc.string({ maxLength: 3 }),
        (value, at, insert) => {
          const ciphertext = encryptValue(requestContext, 0, '/x', value)
          const index = at % ciphertext.length
          const corrupted = ciphertext.slice(0, index) + insert + ciphertext.slice(index + 1)
          if (corrupted === ciphertext) return
          expect(() => decryptValue(requestContext, 0, '/x', corrupted)).toThrow(
            expect.objectContaining({
              code: expect.stringMatching(
                /^CONTINUUM_(DECRYPTION_FAILED|MALFORMED_CIPHERTEXT|NON_CANONICAL_JSON)$/,
              ),
            }),
          )
        },
      ),
      RUNS,
    )
  })
})

describe('fuzz: seals', () => {
  it('verifies an untouched request and refuses any changed plain member or metadata', () => {
    const tree = compilePlainFields(['model', 'max_tokens', 'meta'])
    fc.assert(
      fc.property(
        fc.record({
          model: fc.string(),
          max_tokens: fc.integer(),
          meta: fc.jsonValue({ maxDepth: 2 }),
          prompt: fc.string(),
        }),
        fc.constantFrom('model', 'max_tokens', 'meta', 'meta-string'),
        fc.string({ minLength: 1, maxLength: 4 }),
        (body, member, suffix) => {
          const sealed = sealRequest(tree, body, requestContext, 'POST /v1\n\n1\n')
          expect(
            canonicalJson(openRequest(tree, sealed.body, requestContext, 'POST /v1\n\n1\n', sealed.seal)),
          ).toBe(canonicalJson(body))
          const changed = { ...(sealed.body as Record<string, unknown>) }
          if (member === 'model') changed.model = body.model + suffix
          else if (member === 'max_tokens') changed.max_tokens = body.max_tokens + 1
          else changed.meta = member === 'meta' ? [body.meta] : suffix
          expect(() => openRequest(tree, changed, requestContext, 'POST /v1\n\n1\n', sealed.seal)).toThrow(
            expect.objectContaining({ code: 'CONTINUUM_INTEGRITY_FAILED' }),
          )
          expect(() =>
            openRequest(tree, sealed.body, requestContext, `POST /v1\n${suffix}\n1\n`, sealed.seal),
          ).toThrow(expect.objectContaining({ code: 'CONTINUUM_INTEGRITY_FAILED' }))
        },
      ),
      RUNS,
    )
  })
})

describe('fuzz: stream decoders', () => {
  const event$ = fc.record(
    {
      data: fc.string({ maxLength: 20 }).map((text) => text.replaceAll('\r', '')),
      event: fc.string({ minLength: 1, maxLength: 8 }).filter((name) => !/[\r\n]/.test(name)),
      id: fc.string({ maxLength: 8 }).filter((id) => !/[\r\n\0]/.test(id)),
    },
    { requiredKeys: ['data'] },
  )

  it('SSE: decodes what formatSse wrote, under any chunking', () => {
    fc.assert(
      fc.property(fc.array(event$, { maxLength: 6 }), fc.nat(), (events, seed) => {
        const bytes = utf8.encode(events.map((event) => formatSse(event)).join(''))
        const cuts = fc.sample(chunks$(bytes.length), { seed, numRuns: 1 })[0]!
        const decoder = new SseDecoder()
        const decoded = split(bytes, cuts).flatMap((part) => decoder.push(part))
        decoder.end()
        expect(decoded).toEqual(events)
      }),
      RUNS,
    )
  })

  it('NDJSON: decodes what formatNdjson wrote, under any chunking', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 6 }), fc.nat(), (values, seed) => {
        const bytes = utf8.encode(values.map((value) => formatNdjson(value)).join(''))
        const cuts = fc.sample(chunks$(bytes.length), { seed, numRuns: 1 })[0]!
        const decoder = new NdjsonDecoder()
        const decoded = split(bytes, cuts).flatMap((part) => decoder.push(part))
        decoded.push(...decoder.end())
        expect(decoded.map((value) => canonicalJson(value))).toEqual(
          values.map((value) => canonicalJson(value)),
        )
      }),
      RUNS,
    )
  })

  it('lines: any chunking of any text gives the lines of the whole text', () => {
    const text$ = fc
      .array(fc.constantFrom('a', 'é', '\r', '\n', '\r\n', '😀', ' '), { maxLength: 40 })
      .map((parts) => parts.join(''))
    fc.assert(
      fc.property(text$, fc.nat(), (text, seed) => {
        const bytes = utf8.encode(text)
        const cuts = fc.sample(chunks$(bytes.length), { seed, numRuns: 1 })[0]!
        const decoder = new LineDecoder()
        const lines = split(bytes, cuts).flatMap((part) => decoder.push(part))
        lines.push(...decoder.end())
        const expected = text.split(/\r\n|\r|\n/)
        if (expected.at(-1) === '') expected.pop()
        expect(lines).toEqual(expected)
      }),
      RUNS,
    )
  })

  it('raise only coded errors on arbitrary bytes, the client stream opener included', async () => {
    const route = new AdapterRegistry(builtinAdapters()).lookup('POST', '/v1/chat/completions')
    if (route.kind !== 'match') throw new Error('no route')
    const stream = route.match.route.stream!
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 200 }),
        fc.string({ maxLength: 80 }),
        async (bytes, text) => {
          for (const input of [bytes, utf8.encode(text), utf8.encode(`data: ${text}\n\n`)]) {
            codedOrNothing(() => {
              const sse = new SseDecoder()
              sse.push(input)
              sse.end()
            })
            codedOrNothing(() => {
              const ndjson = new NdjsonDecoder()
              ndjson.push(input)
              ndjson.end()
            })
            try {
              for await (const _part of openStream(
                (async function* () {
                  yield input
                })(),
                stream,
                await clientContext({ ...requestContext, direction: 'response' }),
              )) {
                // an arbitrary input never verifies, so nothing should come out
                throw new Error('an unsealed stream produced output')
              }
            } catch (error) {
              if (!ContinuumError.isInstance(error)) throw error
            }
          }
        },
      ),
      RUNS,
    )
  })
})
