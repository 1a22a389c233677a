/**
 * The client's own cost per exchange (issue: Node and browser <= 60 µs a request), measured in the
 * same run on Node and in headless Chromium (Debian's chromium through playwright-core):
 * sealing a 2 KB chat request and verifying and decrypting its 0.7 KB answer, and opening a
 * 1,000-chunk SSE stream. Node runs both of the client's backends: node:crypto (what it picks on
 * Node) and WebCrypto (what browsers, Deno, Bun and workers run); Chromium runs WebCrypto.
 * The answers are sealed in advance by the server's code (src/cipher) under a fixed nonce.
 */
import { randomBytes } from 'node:crypto'
import { builtinAdapters } from '../adapters/index'
import {
  type CipherContext,
  createFieldKey,
  encryptFields,
  encryptRequestMessage,
  endMarker,
  openEvent,
  openResponse,
  sealEvent,
  sealResponse,
} from '../src/cipher'
import { defaultBackend, webCryptoBackend } from '../src/client/web-crypto/index'
import { AdapterRegistry } from '../src/protocol/registry'
import { formatSse } from '../src/streams/sse'
import { bundleForBrowser } from '../test/browser/bundle'
import { launchChromium, openTestPage } from '../test/browser/chromium'
import { fixed, median, quantile } from './stats'
import { CHAT_BODY } from './support/chat-load'
import { type ClientCostFixture, type ClientCostSamples, measureClientCost } from './support/client-cost'

const CHUNKS = 1000
const REQUESTS = 2000
const STREAMS = 15

function fixture(): ClientCostFixture {
  const keyBytes = randomBytes(32)
  const key = createFieldKey('bench', keyBytes)
  const nonce = randomBytes(16).toString('base64url')
  const response: CipherContext = { key, nonce, direction: 'response' }
  const route = new AdapterRegistry(builtinAdapters()).lookupSuffix('POST', '/v1/chat/completions')!.route
  const answer = sealResponse(
    route.responseTree,
    {
      id: 'chatcmpl-bench',
      object: 'chat.completion',
      created: 1,
      model: 'bench',
      choices: [
        { index: 0, message: { role: 'assistant', content: 'x'.repeat(512) }, finish_reason: 'stop' },
      ],
      usage: { prompt_tokens: 500, completion_tokens: 128, total_tokens: 628 },
    },
    response,
    200,
  )
  let stream = ''
  for (let sequence = 0; sequence < CHUNKS; sequence++) {
    const chunk = {
      id: 'chatcmpl-bench',
      object: 'chat.completion.chunk',
      created: 1_700_000_000,
      model: 'bench',
      choices: [{ index: 0, delta: { content: 'token ' }, finish_reason: null }],
    }
    stream += formatSse({
      data: JSON.stringify(sealEvent(route.stream!.tree, chunk, response, sequence, '')),
    })
  }
  stream += formatSse({ event: 'continuum.end', data: JSON.stringify(endMarker(response, CHUNKS)) })
  stream += formatSse({ data: '[DONE]' })
  // The request is sealed by the client under test; encrypting it here only checks the tree takes it.
  encryptFields(route.requestTree, CHAT_BODY, { ...response, direction: 'request' }, 0)
  return {
    keyHex: keyBytes.toString('hex'),
    nonce,
    request: CHAT_BODY,
    headers: {
      accept: 'application/json',
      'content-type': 'application/json',
      'user-agent': 'OpenAI/JS 7.57.0',
      authorization: 'Bearer sk-bench',
      'x-stainless-lang': 'js',
      'x-stainless-retry-count': '0',
    },
    answer,
    stream,
    chunks: CHUNKS,
  }
}

/**
 * The same work on the server's synchronous cipher (src/cipher, node:crypto), in the same run: a
 * reference that moves with the machine's load, so the ratios stay meaningful on a shared host.
 */
function serverReference(data: ClientCostFixture): ClientCostSamples {
  const key = createFieldKey('bench', Buffer.from(data.keyHex, 'hex'))
  const request: CipherContext = { key, nonce: data.nonce, direction: 'request' }
  const response: CipherContext = { ...request, direction: 'response' }
  const registry = new AdapterRegistry(builtinAdapters())
  const events = data.stream
    .split('\n\n')
    .filter((frame) => frame.startsWith('data: {'))
    .map((frame) => JSON.parse(frame.slice(6)) as Record<string, unknown>)
  const once = () => {
    const match = registry.lookupSuffix('POST', '/v1/chat/completions')!
    encryptRequestMessage({
      tree: match.route.requestTree,
      body: data.request,
      context: request,
      method: 'POST',
      routePath: match.routePath,
      timestamp: '1700000000000',
      headers: data.headers,
      keyHeaders: { 'x-continuum-key-id': 'bench' },
    })
    openResponse(match.route.responseTree, data.answer.body, response, 200, data.answer.seal)
  }
  const tree = registry.lookupSuffix('POST', '/v1/chat/completions')!.route.stream!.tree
  const samples: ClientCostSamples = { request: [], stream: [] }
  for (let warm = 0; warm < 400; warm++) once()
  for (let index = 0; index < REQUESTS; index++) {
    const started = performance.now()
    once()
    samples.request.push((performance.now() - started) * 1000)
  }
  for (let index = 0; index < STREAMS; index++) {
    const started = performance.now()
    for (const [sequence, event] of events.entries())
      JSON.stringify(openEvent(tree, event, response, sequence, ''))
    samples.stream.push((performance.now() - started) * 1000)
  }
  return samples
}

interface Row {
  runtime: string
  samples: ClientCostSamples
}

async function inChromium(data: ClientCostFixture): Promise<ClientCostSamples> {
  const bundle = await bundleForBrowser('bench/support/client-cost-page.ts')
  const browser = await launchChromium()
  try {
    const page = await openTestPage(browser, bundle.code)
    const samples = await page.page.evaluate(
      ([text, requests, streams]) =>
        (
          globalThis as unknown as {
            clientCost: (text: string, requests: number, streams: number) => Promise<ClientCostSamples>
          }
        ).clientCost(text, requests, streams),
      [JSON.stringify(data), REQUESTS, STREAMS] as const,
    )
    await page.close()
    return samples
  } finally {
    await browser.close()
  }
}

export default async function browserClientBench(): Promise<void> {
  const data = fixture()
  const rows: Row[] = [
    {
      runtime: `Node ${process.version}, node:crypto`,
      samples: await measureClientCost(data, defaultBackend(), REQUESTS, STREAMS),
    },
    {
      runtime: `Node ${process.version}, WebCrypto`,
      samples: await measureClientCost(data, webCryptoBackend, REQUESTS, STREAMS),
    },
    { runtime: 'Chromium (headless), WebCrypto', samples: await inChromium(data) },
    {
      runtime: 'reference: the server cipher, sync node:crypto (no SSE parsing)',
      samples: serverReference(data),
    },
  ]
  const base = median(rows[0]!.samples.request)
  const baseChunk = median(rows[0]!.samples.stream) / CHUNKS
  console.log(
    '| runtime, backend | request p50 µs | request p99 µs | × Node | stream chunk p50 µs | chunk p99 µs | × Node | whole stream p50 ms |',
  )
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |')
  for (const { runtime, samples } of rows) {
    const request = median(samples.request)
    const chunk = median(samples.stream) / CHUNKS
    console.log(
      `| ${runtime} | ${fixed(request, 1)} | ${fixed(quantile(samples.request, 0.99), 1)} | ${fixed(request / base, 1)} | ${fixed(chunk, 2)} | ${fixed(quantile(samples.stream, 0.99) / CHUNKS, 2)} | ${fixed(chunk / baseChunk, 1)} | ${fixed(median(samples.stream) / 1000, 1)} |`,
    )
  }
  console.log(
    `\nrequest: seal a 2 KB chat request and verify and decrypt its 0.7 KB answer; stream: ${CHUNKS} sealed chunks verified, decrypted and re-framed. Target: <= 60 µs a request.`,
  )
}
