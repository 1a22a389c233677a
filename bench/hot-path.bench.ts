/**
 * The proxy's and the client's per-event and per-request CPU, in-process (no sockets, one core),
 * each next to a plain reference measured in the same run (issue 11): the server decoding an
 * upstream read of k OpenAI chunks and writing it plain, sealed event by event, or as one batch
 * frame (docs/PROTOCOL.md §6.1); the client opening what the server wrote; and the client sealing
 * a 2 KB request and opening its 0.7 KB answer. The reference is what a proxy or SDK that does
 * no encryption still has to do (decode and re-frame; serialise and parse), so the ratios say
 * what encryption adds. Reads are the server's real FrameWriter and the client's real openStream.
 */
import { randomBytes } from 'node:crypto'
import { AdapterRegistry } from 'continuum-proxy'
import { builtinAdapters } from 'continuum-proxy/adapters'
import {
  type CipherContext,
  createFieldKey,
  encryptRequestMessage,
  openRequest,
  sealResponse,
} from '../src/cipher'
import { readResponse } from '../src/client/response-opener'
import { openStream } from '../src/client/stream-opener'
import {
  type ClientCipherContext,
  encryptRequestMessage as clientEncryptRequestMessage,
  defaultBackend,
  deriveFieldKey,
} from '../src/client/web-crypto/index'
import { FrameWriter } from '../src/proxy/frame-writer'
import { StreamEventDecoder } from '../src/proxy/stream-events'
import { SseDecoder } from '../src/streams/sse'
import { fixed, median } from './stats'
import { CHAT_BODY } from './support/chat-load'

const EVENTS = 1000
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30)
const fieldKey = createFieldKey('bench', randomBytes(32))
// The client's handles for the same key, on its own crypto backend.
const clientKey = await deriveFieldKey(defaultBackend(), fieldKey.id, fieldKey.aesKey)
const lookup = new AdapterRegistry(builtinAdapters()).lookup('POST', '/v1/chat/completions')
if (lookup.kind !== 'match') throw new Error('no chat route')
const match = lookup.match
const route = match.route
const stream = route.stream!
const encoder = new TextEncoder()

function chunkText(index: number): string {
  return `data: ${JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: 'bench',
    system_fingerprint: 'fp_bench',
    choices: [{ index: 0, delta: { content: `token${index % 10} ` }, logprobs: null, finish_reason: null }],
  })}\n\n`
}

/** A 1,000-event upstream stream cut into reads of `perRead` events. */
function upstreamReads(perRead: number): Uint8Array[] {
  const reads: Uint8Array[] = []
  for (let first = 0; first < EVENTS; first += perRead) {
    let text = ''
    for (let index = first; index < Math.min(EVENTS, first + perRead); index++) text += chunkText(index)
    if (first + perRead >= EVENTS) text += 'data: [DONE]\n\n'
    reads.push(encoder.encode(text))
  }
  return reads
}

type Mode = 'plain' | 'sealed' | 'batch'

function context(direction: 'request' | 'response'): CipherContext {
  return { key: fieldKey, nonce: 'oKGio6SlpqeoqaqrrK2urw', direction }
}

function clientContext(direction: 'request' | 'response'): ClientCipherContext {
  return { key: clientKey, nonce: 'oKGio6SlpqeoqaqrrK2urw', direction }
}

/** The server's work for one stream: decode each read, write it in the mode's framing. */
function serve(reads: readonly Uint8Array[], mode: Mode): Uint8Array[] {
  const decoder = new StreamEventDecoder(stream)
  const writer = new FrameWriter(
    stream,
    mode === 'plain' ? undefined : context('response'),
    mode === 'batch',
    undefined,
  )
  const out: Uint8Array[] = []
  for (const read of reads) {
    const events = decoder.push(read)
    if (events.length > 0) out.push(encoder.encode(writer.decoded(events)))
  }
  const rest = decoder.end()
  out.push(encoder.encode((rest.length === 0 ? '' : writer.decoded(rest)) + writer.tail()))
  return out
}

/** The client's work for one stream: verify and decrypt (or, plain, just decode the SSE as an SDK does). */
async function receive(written: readonly Uint8Array[], mode: Mode): Promise<number> {
  let bytes = 0
  if (mode === 'plain') {
    const decoder = new SseDecoder()
    for (const chunk of written) bytes += decoder.push(chunk).length
    return bytes
  }
  const source = (async function* () {
    yield* written
  })()
  for await (const part of openStream(source, stream, clientContext('response'), {
    batches: mode === 'batch',
  }))
    bytes += part.length
  return bytes
}

/** Median µs per event over ROUNDS rounds of one 1,000-event stream (after 5 warm-up rounds). */
async function perEvent(run: () => unknown): Promise<number> {
  const samples: number[] = []
  for (let round = 0; round < ROUNDS + 5; round++) {
    const started = performance.now()
    await run()
    if (round >= 5) samples.push(((performance.now() - started) * 1000) / EVENTS)
  }
  return median(samples)
}

/** Median µs per call, over batches of 200 calls. */
async function perCall(run: () => unknown): Promise<number> {
  const samples: number[] = []
  for (let round = 0; round < ROUNDS + 5; round++) {
    const started = performance.now()
    for (let call = 0; call < 200; call++) await run()
    if (round >= 5) samples.push(((performance.now() - started) * 1000) / 200)
  }
  return median(samples)
}

const answer = {
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1,
  model: 'bench',
  choices: [{ index: 0, message: { role: 'assistant', content: 'x'.repeat(512) }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 500, completion_tokens: 128, total_tokens: 628 },
}

export default async function hotPathBench(): Promise<void> {
  console.log(
    `| ${EVENTS}-event stream, events per upstream read | mode | server µs/event | × plain | client µs/event | × plain |`,
  )
  console.log('| --- | --- | --- | --- | --- | --- |')
  for (const perRead of [1, 16]) {
    const reads = upstreamReads(perRead)
    let reference: { server: number; client: number } | undefined
    for (const mode of ['plain', 'sealed', 'batch'] as const) {
      const written = serve(reads, mode)
      const server = await perEvent(() => serve(reads, mode))
      const client = await perEvent(() => receive(written, mode))
      reference ??= { server, client }
      console.log(
        `| ${perRead} | ${mode === 'plain' ? 'plain (decode, re-frame / SDK-side SSE decode)' : mode === 'sealed' ? 'encrypted, a seal per event' : 'encrypted, batch frames'} | ${fixed(server, 2)} | ${fixed(server / reference.server, 1)}× | ${fixed(client, 2)} | ${fixed(client / reference.client, 1)}× |`,
      )
    }
  }

  // The client per request: seal a 2 KB chat request, open its sealed 0.7 KB answer.
  const sealed = sealResponse(route.responseTree, answer, context('response'), 200)
  const answerText = JSON.stringify(answer)
  const plainRequest = await perCall(() => {
    JSON.stringify(CHAT_BODY)
    return new Response(answerText, { headers: { 'content-type': 'application/json' } }).json()
  })
  // The client's own sealing (src/client), as the encrypting fetch runs it.
  const seal = await perCall(() =>
    clientEncryptRequestMessage({
      tree: route.requestTree,
      body: CHAT_BODY,
      context: { ...clientContext('request'), nonce: randomBytes(16).toString('base64url') },
      method: 'POST',
      routePath: '/v1/chat/completions',
      timestamp: String(Date.now()),
      headers: { 'content-type': 'application/json' },
      keyHeaders: { 'x-continuum-key-id': 'bench' },
    }),
  )
  const open = await perCall(async () => {
    const response = new Response(sealed.text, {
      headers: {
        'content-type': 'application/json',
        'x-continuum-encrypted': '1',
        'x-continuum-seal': sealed.seal,
      },
    })
    return (await readResponse(response, match, clientContext('response'))).response.json()
  })
  // What the server does with the same request, for scale: verify, decrypt.
  const message = encryptRequestMessage({
    tree: route.requestTree,
    body: CHAT_BODY,
    context: context('request'),
    method: 'POST',
    routePath: '/v1/chat/completions',
    timestamp: '1700000000000',
    headers: { 'content-type': 'application/json' },
    keyHeaders: { 'x-continuum-key-id': 'bench' },
  })
  const serverOpen = await perCall(() =>
    openRequest(
      route.requestTree,
      JSON.parse(message.text),
      context('request'),
      message.meta,
      message.headers['x-continuum-seal'],
    ),
  )
  console.log('\n| client, 2 KB chat request and its 0.7 KB answer | µs | × plain |')
  console.log('| --- | --- | --- |')
  console.log(
    `| plain (serialise the request, parse the answer through a Response) | ${fixed(plainRequest, 1)} | 1.0× |`,
  )
  console.log(
    `| seal the request (encrypt fields, canonical JSON, HMAC) | ${fixed(seal, 1)} | ${fixed(seal / plainRequest, 1)}× |`,
  )
  console.log(
    `| open the answer (verify, decrypt, hand a Response to the SDK) | ${fixed(open, 1)} | ${fixed(open / plainRequest, 1)}× |`,
  )
  console.log(`| seal + open | ${fixed(seal + open, 1)} | ${fixed((seal + open) / plainRequest, 1)}× |`)
  console.log(`| (server: verify and decrypt the same request) | ${fixed(serverOpen, 1)} | - |`)
}
