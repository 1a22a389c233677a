/**
 * The request text the client seals and sends is written by sealed-json.ts, which trusts the
 * allow-list to tell its own ciphertexts apart instead of serialising them again: it must be
 * exactly `canonicalJson` of the encrypted copy, for every route of the built-in adapters and for
 * any body, allow-listed members, `__proto__`, arrays and nesting included.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { builtinAdapters } from '../../adapters/index'
import {
  type ClientCipherContext,
  defaultBackend,
  deriveFieldKey,
  encryptFields,
} from '../../src/client/web-crypto/index'
import { sealedCanonicalJson } from '../../src/client/web-crypto/sealed-json'
import { canonicalJson } from '../../src/internal/canonical-json'
import { compileRoute } from '../../src/protocol/compiled-route'

const trees = builtinAdapters().flatMap((adapter) =>
  adapter.routes.flatMap((definition) => {
    const route = compileRoute(adapter, definition)
    return [route.requestTree, route.responseTree, ...(route.stream === undefined ? [] : [route.stream.tree])]
  }),
)

// Names the allow-lists use, so random bodies reach plain fields and the containers above them.
const key$ = fc.constantFrom(
  'model',
  'messages',
  'role',
  'content',
  'type',
  'text',
  'tools',
  'function',
  'name',
  'stream',
  'choices',
  'delta',
  'usage',
  'index',
  '0',
  '__proto__',
  'é',
  'unlisted',
)
const body$ = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.jsonValue({ maxDepth: 1 }),
    tie('object'),
    fc.array(tie('value'), { maxLength: 3 }),
  ),
  object: fc.dictionary(key$, tie('value'), { maxKeys: 5 }),
})).object

describe('sealed-json: the canonical text of an encrypted copy', () => {
  it('is canonicalJson of the copy, for every route and any body', async () => {
    const key = await deriveFieldKey(defaultBackend(), 'k1', new Uint8Array(32).fill(7))
    const context: ClientCipherContext = { key, nonce: 'AAAAAAAAAAAAAAAAAAAAAA', direction: 'request' }
    expect(trees.length).toBeGreaterThan(4)
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...trees), body$, async (tree, body) => {
        const copy = await encryptFields(tree, JSON.parse(JSON.stringify(body)), context, 0)
        expect(sealedCanonicalJson(tree, copy)).toBe(canonicalJson(copy))
      }),
      { numRuns: 400 },
    )
  })
})
