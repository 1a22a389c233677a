/**
 * The client-side cost of one exchange, runnable in Node and in a browser page alike (it uses
 * only the client's web-crypto layer and its stream opener): seal a 2 KB chat request and verify
 * and decrypt its 0.7 KB answer, and verify, decrypt and re-frame a 1,000-chunk SSE stream. The
 * server's answers are sealed in advance under the fixture's nonce (bench/browser-client.bench.ts
 * builds it with the server's code), so only client work is timed.
 */

import { builtinAdapters } from '../../adapters/index'
import type { PlainFieldTree } from '../../src/cipher/field-map'
import { openStream } from '../../src/client/stream-opener'
import {
  type ClientCipherContext,
  type CryptoBackend,
  deriveFieldKey,
  encryptRequestMessage,
  fromHex,
  openResponse,
} from '../../src/client/web-crypto/index'
import type { CompiledStream } from '../../src/protocol/compiled-route'
import { AdapterRegistry } from '../../src/protocol/registry'

/** What the Node side prepares: key, nonce, the plain request, and the sealed answers. */
export interface ClientCostFixture {
  keyHex: string
  nonce: string
  request: unknown
  headers: Record<string, string>
  /** The sealed answer as the server wrote it: its text (the canonical JSON the seal covers) and seal. */
  answer: { text: string; seal: string }
  /** The SSE wire of the sealed stream. */
  stream: string
  chunks: number
}

/** Requests per timed batch. */
const REQUEST_BATCH = 25

/** Microseconds per sample: one request each (averaged over a batch), one whole stream each. */
export interface ClientCostSamples {
  request: number[]
  stream: number[]
}

async function drain(source: AsyncGenerator<Uint8Array>): Promise<number> {
  let bytes = 0
  for await (const piece of source) bytes += piece.length
  return bytes
}

/** Runs `requests` request samples and `streams` stream samples after a warm-up. */
export async function measureClientCost(
  fixture: ClientCostFixture,
  backend: CryptoBackend,
  requests: number,
  streams: number,
): Promise<ClientCostSamples> {
  const registry = new AdapterRegistry(builtinAdapters())
  const match = registry.lookupSuffix('POST', '/v1/chat/completions')!
  const tree: PlainFieldTree = match.route.requestTree
  const stream: CompiledStream = match.route.stream!
  const key = await deriveFieldKey(backend, 'bench', fromHex(fixture.keyHex))
  const request: ClientCipherContext = { key, nonce: fixture.nonce, direction: 'request' }
  const response: ClientCipherContext = { key, nonce: fixture.nonce, direction: 'response' }
  const wire = new TextEncoder().encode(fixture.stream)
  // The bytes arrive in network-sized pieces, as they would from a socket.
  const pieces: Uint8Array[] = []
  for (let offset = 0; offset < wire.length; offset += 16_384)
    pieces.push(wire.subarray(offset, offset + 16_384))

  async function oneRequest(): Promise<void> {
    // The client lookup, the encryption and seal, then the answer's verification and decryption.
    const found = registry.lookupSuffix('POST', '/v1/chat/completions')!
    await encryptRequestMessage({
      tree: found.route.requestTree ?? tree,
      body: fixture.request,
      context: request,
      method: 'POST',
      routePath: found.routePath,
      timestamp: '1700000000000',
      headers: fixture.headers,
      keyHeaders: { 'x-continuum-key-id': 'bench' },
    })
    // As the encrypting fetch does: parse the text received, verify the seal over that text.
    const { text, seal } = fixture.answer
    await openResponse(found.route.responseTree, JSON.parse(text), response, 200, seal, text)
  }
  async function oneStream(): Promise<void> {
    const bytes = await drain(
      openStream(
        (async function* () {
          yield* pieces
        })(),
        stream,
        response,
      ),
    )
    if (bytes === 0) throw new Error('the stream opened to nothing')
  }

  for (let warm = 0; warm < Math.max(50, requests / 5); warm++) await oneRequest()
  await oneStream()
  const samples: ClientCostSamples = { request: [], stream: [] }
  // Timed in batches: a browser's performance.now() is coarsened (100 µs in Chromium without
  // cross-origin isolation, 5 µs with it, as the bench serves its page), so one request alone is
  // at or below its resolution.
  for (let index = 0; index < requests / REQUEST_BATCH; index++) {
    const started = performance.now()
    for (let call = 0; call < REQUEST_BATCH; call++) await oneRequest()
    samples.request.push(((performance.now() - started) * 1000) / REQUEST_BATCH)
  }
  for (let index = 0; index < streams; index++) {
    const started = performance.now()
    await oneStream()
    samples.stream.push((performance.now() - started) * 1000)
  }
  return samples
}
