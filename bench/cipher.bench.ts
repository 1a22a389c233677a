/**
 * CPU cost of the field cipher and of one proxy exchange, in-process (no sockets): what the
 * encryption itself adds, separated from the HTTP hop that the proxy benchmark measures.
 */
import { randomBytes } from 'node:crypto'
import { createProxy } from 'continuum-proxy'
import { builtinAdapters } from 'continuum-proxy/adapters'
import { CHAT_CHUNK_PLAIN, CHAT_REQUEST_PLAIN } from '../adapters/openai/proxy/fields'
import {
  type CipherContext,
  compilePlainFields,
  computeSeal,
  createFieldKey,
  encryptRequestMessage,
  encryptValue,
  sealEvent,
} from '../src/cipher'
import { fixed, median, quantile } from './stats'
import { CHAT_BODY as chatBody } from './support/chat-load'

const key = randomBytes(32)
const fieldKey = createFieldKey('bench', key)
const response: CipherContext = {
  key: fieldKey,
  nonce: randomBytes(16).toString('base64url'),
  direction: 'response',
}
const chunk = {
  id: 'chatcmpl-bench',
  object: 'chat.completion.chunk',
  created: 1_700_000_000,
  model: 'bench',
  choices: [{ index: 0, delta: { content: 'token ' }, finish_reason: null }],
}
const chunkText = JSON.stringify(chunk)
const chunkTree = compilePlainFields(CHAT_CHUNK_PLAIN)
const requestTree = compilePlainFields(CHAT_REQUEST_PLAIN)
const answer = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: 1,
    model: 'bench',
    choices: [{ index: 0, message: { role: 'assistant', content: 'x'.repeat(512) }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 500, completion_tokens: 128, total_tokens: 628 },
  }),
)

/** Median and p99 of per-call microseconds, over batches of `batch` calls. */
function micro(run: (index: number) => void, batch = 1000, batches = 60): { p50: number; p99: number } {
  let index = 0
  for (let warm = 0; warm < batch * 10; warm++) run(index++)
  const samples: number[] = []
  for (let round = 0; round < batches; round++) {
    const started = performance.now()
    for (let call = 0; call < batch; call++) run(index++)
    samples.push(((performance.now() - started) * 1000) / batch)
  }
  return { p50: median(samples), p99: quantile(samples, 0.99) }
}

async function exchangeMicros(encrypted: boolean, count: number): Promise<number[]> {
  const proxy = createProxy({
    adapters: builtinAdapters(),
    upstream: {
      async send() {
        return {
          status: 200,
          headers: { 'content-type': 'application/json' },
          body: {
            type: 'bytes',
            stream: (async function* () {
              yield answer
            })(),
          },
        }
      },
      async close() {},
    },
    ...(encrypted ? { keys: { keys: [{ id: 'bench', key }] } } : {}),
  })
  const requests = Array.from({ length: count + 1000 }, () => {
    const nonce = randomBytes(16).toString('base64url')
    const timestamp = String(Date.now())
    const message = encrypted
      ? encryptRequestMessage({
          tree: requestTree,
          body: chatBody,
          context: { key: fieldKey, nonce, direction: 'request' },
          method: 'POST',
          routePath: '/v1/chat/completions',
          timestamp,
          keyHeaders: { 'x-continuum-key-id': 'bench' },
        })
      : { body: chatBody, headers: { 'content-type': 'application/json' } }
    const sealed = { body: message.body }
    const headers: Record<string, string> = message.headers
    return { headers, bytes: Buffer.from(JSON.stringify(sealed.body)) }
  })
  const samples: number[] = []
  for (const [index, request] of requests.entries()) {
    const started = performance.now()
    const result = await proxy.handle({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: request.headers,
      body: { kind: 'bytes', bytes: request.bytes },
      signal: new AbortController().signal,
    })
    if (result?.status !== 200) throw new Error(`status ${result?.status}`)
    if (index >= 1000) samples.push((performance.now() - started) * 1000)
  }
  await proxy.close()
  return samples
}

export default async function cipherBench(): Promise<void> {
  const rows: [string, { p50: number; p99: number }][] = [
    [
      'encrypt one field (AES-256-GCM, 6 bytes)',
      micro((index) => encryptValue(response, index, '/choices/0/delta/content', 'token ')),
    ],
    [
      'seal one stream event (HMAC-SHA256 over canonical JSON)',
      micro((index) => computeSeal(response, index, 'event', '', chunk)),
    ],
    [
      'stream chunk: parse, encrypt, seal, serialise',
      micro((index) => JSON.stringify(sealEvent(chunkTree, JSON.parse(chunkText), response, index, ''))),
    ],
  ]
  console.log('| operation | p50 µs | p99 µs |')
  console.log('| --- | --- | --- |')
  for (const [name, result] of rows)
    console.log(`| ${name} | ${fixed(result.p50, 2)} | ${fixed(result.p99, 2)} |`)
  const plain = await exchangeMicros(false, 10_000)
  const encrypted = await exchangeMicros(true, 10_000)
  console.log('\n| one proxy exchange in-process (2 KB chat request, 0.7 KB answer) | p50 µs | p99 µs |')
  console.log('| --- | --- | --- |')
  console.log(`| plain | ${fixed(median(plain), 1)} | ${fixed(quantile(plain, 0.99), 1)} |`)
  console.log(
    `| encrypted (open, validate, re-encrypt, seal) | ${fixed(median(encrypted), 1)} | ${fixed(quantile(encrypted, 0.99), 1)} |`,
  )
}
