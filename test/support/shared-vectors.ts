/**
 * The shared protocol vector file, test/fixtures/protocol-vectors.json: the published vectors of
 * docs/PROTOCOL.md §9 and, beyond them, what a second implementation needs to prove it speaks cp2
 * byte for byte. RFC 8785 and query canonicalisation cases; whole requests, responses and streams
 * of the built-in routes, encrypted by their allow-lists with fixed IVs and sealed; and the
 * client path rule. Everything is computed by the server's own code (src/cipher, the adapters)
 * and the TypeScript client (its stream opener and its path rule), so the file is what the
 * server and the TypeScript client do. `npx tsx scripts/protocol-vectors.ts` writes it;
 * test/protocol.test.ts fails when it is out of date, and the Python suite checks itself
 * against it.
 */
import { builtinAdapters } from '../../adapters/index'
import {
  bindRequest,
  type CipherContext,
  canonicalJson,
  canonicalQuery,
  computeSeal,
  createFieldKey,
  decryptValue,
  encryptFields,
  encryptValue,
  endMarker,
  FORMAT_VERSION,
  failureMarker,
  HEADERS,
  type PlainFieldTree,
} from '../../src/cipher'
import { createEncryptedFetch } from '../../src/client/index'
import { openStream } from '../../src/client/stream-opener'
import { AdapterRegistry } from '../../src/protocol/registry'
import { formatSse } from '../../src/streams/sse'
import { clientContext } from './client-context'
import { computeProtocolVectors } from './protocol-vectors'

const registry = new AdapterRegistry(builtinAdapters())

const hex = (length: number, start: number): Buffer =>
  Buffer.from(Array.from({ length }, (_, index) => (start + index) & 0xff))

/** The IVs of the message vectors: `10 11 … 17` and a 32-bit big-endian counter, one per field. */
class FixedIvs {
  #next = 0
  take(): Buffer {
    const iv = Buffer.alloc(12)
    hex(8, 0x10).copy(iv)
    iv.writeUInt32BE(this.#next++, 8)
    return iv
  }
}

const escapePointer = (key: string): string => key.replaceAll('~', '~0').replaceAll('/', '~1')

/** Defines a member as JSON.parse does, so a `__proto__` member stays a member. */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true })
}

/**
 * Encrypts a message by its allow-list (the server's encryptFields decides which members), then
 * re-encrypts every field in document order under fixed IVs so the vector is reproducible.
 */
function encryptWithFixedIvs(
  tree: PlainFieldTree,
  message: unknown,
  context: CipherContext,
  sequence: number,
  ivs: FixedIvs,
): { body: unknown; ivsHex: string[] } {
  const used: string[] = []
  const rewrite = (value: unknown, path: string): unknown => {
    if (typeof value === 'string' && value.startsWith(`${FORMAT_VERSION}.`)) {
      const iv = ivs.take()
      used.push(iv.toString('hex'))
      return encryptValue(context, sequence, path, decryptValue(context, sequence, path, value), iv)
    }
    if (Array.isArray(value)) return value.map((item, index) => rewrite(item, `${path}/${index}`))
    if (typeof value === 'object' && value !== null) {
      const copy: Record<string, unknown> = {}
      for (const key of Object.keys(value))
        define(copy, key, rewrite((value as Record<string, unknown>)[key], `${path}/${escapePointer(key)}`))
      return copy
    }
    return value
  }
  return { body: rewrite(encryptFields(tree, message, context, sequence), ''), ivsHex: used }
}

function route(method: string, path: string) {
  const match = registry.lookupSuffix(method, path)
  if (match === undefined || !match.route.encrypted) throw new Error(`no encrypted route ${method} ${path}`)
  return match
}

const key = createFieldKey('k1', hex(32, 0x00))
const nonce = hex(16, 0xa0).toString('base64url')
const requestContext: CipherContext = { key, nonce, direction: 'request' }
const responseContext: CipherContext = { key, nonce, direction: 'response' }

/** Bodies are written as JSON text and parsed, so members such as `__proto__` are data. */
const parse = (text: string): unknown => JSON.parse(text)

interface RequestCase {
  name: string
  method: string
  /** The URL path the client sends (a prefix before the route path is a mount point). */
  path: string
  search: string
  headers: Record<string, string>
  bodyJson: string
}

const OPENAI_HEADERS = {
  accept: 'application/json',
  authorization: 'Bearer sk-test',
  'content-type': 'application/json',
  'user-agent': 'OpenAI/Python 1.99.0',
  'x-stainless-arch': 'x64',
  'x-stainless-async': 'false',
  'x-stainless-lang': 'python',
  'x-stainless-os': 'Linux',
  'x-stainless-package-version': '1.99.0',
  'x-stainless-retry-count': '0',
  'x-stainless-runtime': 'CPython',
  'x-stainless-runtime-version': '3.11.2',
}

const REQUESTS: RequestCase[] = [
  {
    name: 'openai chat completion, streaming, with tools, under a mount prefix',
    method: 'POST',
    path: '/gpu1/v1/chat/completions',
    search: '',
    headers: { ...OPENAI_HEADERS, 'cache-control': 'no-store' },
    bodyJson: JSON.stringify({
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'My card is 4111 1111 1111 1111. Capital of France? \u2603 \u{1d11e}' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"Paris"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'Paris' },
      ],
      model: 'gpt-4o-mini',
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.2,
      top_p: 1e-7,
      seed: 0,
      max_tokens: 64,
      tools: [
        {
          type: 'function',
          function: {
            name: 'lookup',
            description: 'Look a city up',
            parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] },
          },
        },
      ],
      tool_choice: 'auto',
      user: 'user-1',
    })
      // A seed past 2**53 (JSON reads the double) and members whose names are data, not syntax.
      .replace('"seed":0', '"seed":12345678901234567890')
      .replace('"user":"user-1"', '"user":"user-1","a/b~c":{"__proto__":1},"__proto__":"kept"'),
  },
  {
    name: 'openai embeddings',
    method: 'POST',
    path: '/v1/embeddings',
    search: '',
    headers: OPENAI_HEADERS,
    bodyJson: JSON.stringify({
      input: ['first secret', 'second secret'],
      model: 'text-embedding-3-small',
      encoding_format: 'float',
    }),
  },
  {
    name: 'anthropic messages with a query string',
    method: 'POST',
    path: '/v1/messages',
    search: '?beta=true',
    headers: {
      accept: 'application/json',
      'anthropic-version': '2023-06-01',
      'content-type': 'application/json',
      'user-agent': 'Anthropic/Python 0.60.0',
      'x-api-key': 'sk-ant-test',
      'x-stainless-lang': 'python',
      'x-stainless-retry-count': '0',
    },
    bodyJson: JSON.stringify({
      max_tokens: 1024,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello, Claude' }] }],
      model: 'claude-sonnet-4-5',
      system: 'Be brief.',
      stream: true,
      metadata: { user_id: 'u-1' },
    }),
  },
]

function requestVector(input: RequestCase, ivs: FixedIvs): Record<string, unknown> {
  const match = route(input.method, input.path)
  const body = parse(input.bodyJson)
  const encrypted = encryptWithFixedIvs(match.route.requestTree, body, requestContext, 0, ivs)
  const timestamp = '1700000000000'
  const bound = bindRequest({
    method: input.method,
    routePath: match.routePath,
    search: input.search,
    timestamp,
    headers: input.headers,
  })
  const seal = computeSeal(requestContext, 0, 'request', bound.meta, encrypted.body)
  return {
    name: input.name,
    adapter: match.route.adapter,
    route: match.route.name,
    method: input.method,
    path: input.path,
    routePath: match.routePath,
    search: input.search,
    timestamp,
    headers: input.headers,
    bodyJson: input.bodyJson,
    ivsHex: encrypted.ivsHex,
    encryptedBody: encrypted.body,
    canonicalEncryptedBody: canonicalJson(encrypted.body),
    sealedHeaders: bound.sealedHeaders,
    meta: bound.meta,
    seal,
    protocolHeaders: {
      [HEADERS.encryption]: FORMAT_VERSION,
      [HEADERS.keyId]: key.id,
      [HEADERS.nonce]: nonce,
      [HEADERS.timestamp]: timestamp,
      [HEADERS.sealedHeaders]: bound.sealedHeaders,
      [HEADERS.seal]: seal,
    },
  }
}

interface ResponseCase {
  name: string
  method: string
  path: string
  status: number
  bodyJson: string
}

const RESPONSES: ResponseCase[] = [
  {
    name: 'openai chat completion with a tool call',
    method: 'POST',
    path: '/v1/chat/completions',
    status: 200,
    bodyJson: JSON.stringify({
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1700000000,
      model: 'gpt-4o-mini',
      system_fingerprint: 'fp_1',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Paris.',
            tool_calls: [
              { id: 'call_2', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } },
            ],
          },
          logprobs: null,
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: 9, completion_tokens: 12, total_tokens: 21 },
    }),
  },
  {
    name: 'openai embeddings',
    method: 'POST',
    path: '/v1/embeddings',
    status: 200,
    bodyJson: JSON.stringify({
      object: 'list',
      data: [
        { object: 'embedding', index: 0, embedding: [0.1, -0.25, 1e-7, 3] },
        { object: 'embedding', index: 1, embedding: [1.5e300, -0, 0.5, 123456789012345680000] },
      ],
      model: 'text-embedding-3-small',
      usage: { prompt_tokens: 8, total_tokens: 8 },
    }),
  },
  {
    name: 'an upstream error, encrypted by the response allow-list',
    method: 'POST',
    path: '/v1/chat/completions',
    status: 400,
    bodyJson: JSON.stringify({
      error: {
        message: 'bad request about the secret',
        type: 'invalid_request_error',
        param: 'messages',
        code: null,
      },
    }),
  },
]

function responseVector(input: ResponseCase, ivs: FixedIvs): Record<string, unknown> {
  const match = route(input.method, input.path)
  const body = parse(input.bodyJson)
  const encrypted = encryptWithFixedIvs(match.route.responseTree, body, responseContext, 0, ivs)
  return {
    name: input.name,
    method: input.method,
    path: input.path,
    status: input.status,
    bodyJson: input.bodyJson,
    ivsHex: encrypted.ivsHex,
    encryptedBody: encrypted.body,
    seal: computeSeal(responseContext, 0, 'response', String(input.status), encrypted.body),
  }
}

interface StreamCase {
  name: string
  method: string
  path: string
  events: { name?: string; data: Record<string, unknown> }[]
  /** A failure after the events: the stream ends with the sealed failure marker. */
  failure?: { code: string; message: string }
}

const chunk = (delta: Record<string, unknown>, finish: string | null) => ({
  id: 'chatcmpl-2',
  object: 'chat.completion.chunk',
  created: 1700000000,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
})

const STREAMS: StreamCase[] = [
  {
    name: 'openai chat completion chunks ending in [DONE]',
    method: 'POST',
    path: '/v1/chat/completions',
    events: [
      { data: chunk({ role: 'assistant', content: '' }, null) },
      { data: chunk({ content: 'Par' }, null) },
      { data: chunk({ content: 'is.\n' }, null) },
      { data: chunk({}, 'stop') },
    ],
  },
  {
    name: 'anthropic message stream with named events',
    method: 'POST',
    path: '/v1/messages',
    events: [
      {
        name: 'message_start',
        data: {
          type: 'message_start',
          message: {
            id: 'msg_1',
            type: 'message',
            role: 'assistant',
            model: 'claude-sonnet-4-5',
            content: [],
            stop_reason: null,
            usage: { input_tokens: 10, output_tokens: 1 },
          },
        },
      },
      {
        name: 'content_block_start',
        data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      },
      { name: 'ping', data: { type: 'ping' } },
      {
        name: 'content_block_delta',
        data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello' } },
      },
      { name: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
      {
        name: 'message_delta',
        data: { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 5 } },
      },
      { name: 'message_stop', data: { type: 'message_stop' } },
    ],
  },
  {
    name: 'ollama chat as NDJSON',
    method: 'POST',
    path: '/api/chat',
    events: [
      {
        data: {
          model: 'llama3',
          created_at: '2024-01-01T00:00:00Z',
          message: { role: 'assistant', content: 'Hi' },
          done: false,
        },
      },
      {
        data: {
          model: 'llama3',
          created_at: '2024-01-01T00:00:01Z',
          message: { role: 'assistant', content: '' },
          done: true,
          done_reason: 'stop',
          eval_count: 2,
        },
      },
    ],
  },
  {
    name: 'openai stream that failed after two chunks',
    method: 'POST',
    path: '/v1/chat/completions',
    events: [
      { data: chunk({ role: 'assistant', content: '' }, null) },
      { data: chunk({ content: 'Par' }, null) },
    ],
    failure: {
      code: 'CONTINUUM_UPSTREAM_STREAM_ABORTED',
      message: 'Upstream closed the stream before it finished',
    },
  },
]

async function collect(source: AsyncGenerator<Uint8Array>): Promise<{ text: string; error?: string }> {
  const decoder = new TextDecoder()
  let text = ''
  try {
    for await (const piece of source) text += decoder.decode(piece, { stream: true })
  } catch (error) {
    return { text, error: (error as { code?: string }).code ?? 'unknown' }
  }
  return { text }
}

async function streamVector(input: StreamCase, ivs: FixedIvs): Promise<Record<string, unknown>> {
  const match = route(input.method, input.path)
  const stream = match.route.stream
  if (stream === undefined) throw new Error(`${input.path} does not stream`)
  const ivsHex: string[][] = []
  let wire = ''
  const frame = (name: string | undefined, data: string) =>
    stream.framing === 'sse' ? formatSse(name === undefined ? { data } : { event: name, data }) : `${data}\n`
  for (const [sequence, event] of input.events.entries()) {
    const encrypted = encryptWithFixedIvs(stream.tree, event.data, responseContext, sequence, ivs)
    ivsHex.push(encrypted.ivsHex)
    const body = encrypted.body as Record<string, unknown>
    body.continuum_seal = computeSeal(responseContext, sequence, 'event', event.name ?? '', body)
    wire += frame(event.name, JSON.stringify(body))
  }
  const count = input.events.length
  const marker =
    input.failure === undefined
      ? endMarker(responseContext, count)
      : failureMarker(responseContext, count, input.failure)
  wire += frame(stream.framing === 'sse' ? 'continuum.end' : undefined, JSON.stringify(marker))
  if (input.failure === undefined && stream.terminal !== undefined)
    wire += formatSse({ data: stream.terminal })
  // What the TypeScript client hands its SDK for these bytes: the Python client must hand over the same.
  const opened = await collect(
    openStream(
      (async function* () {
        yield new TextEncoder().encode(wire)
      })(),
      stream,
      await clientContext(responseContext),
    ),
  )
  return {
    name: input.name,
    method: input.method,
    path: input.path,
    framing: stream.framing,
    contentType: stream.framing === 'sse' ? 'text/event-stream; charset=utf-8' : 'application/x-ndjson',
    events: input.events,
    ivsHex,
    wire,
    plain: opened.text,
    ...(opened.error === undefined ? {} : { error: opened.error }),
  }
}

/** JSON texts and their RFC 8785 form; `null` where the value has none and must be refused. */
const CANONICAL_JSON_INPUTS = [
  '0',
  '-0',
  '-0.0',
  '1E2',
  '100',
  '1.0',
  '0.1',
  '1e21',
  '1e20',
  '123456789012345678901234',
  '12345678901234567890',
  '9007199254740993',
  '1e-7',
  '0.000001',
  '1.5e300',
  '-1.7976931348623157e308',
  '5e-324',
  '333333333.33333329',
  '1e400',
  '[-1e400]',
  'true',
  'null',
  '"\\u00e9\\u2028\\u007f/"',
  '"\\u0000\\u001f\\"\\\\\\b\\f\\n\\r\\t"',
  '"\\ud83d\\ude00"',
  '"\\ud800"',
  '{"\\udc00":1}',
  '{"b":1,"a":2,"A":3,"":4}',
  '{"a":1,"a":2}',
  '{"\\ue000":1,"\\ud83d\\ude00":2,"z":3,"\\u00e9":4}',
  '{"__proto__":{"x":[1,{"y":null}]}}',
  ' [ 1 , { "k" : [ ] } , "" ] ',
]

function canonicalCases(): { json: string; canonical: string | null }[] {
  return CANONICAL_JSON_INPUTS.map((json) => {
    try {
      return { json, canonical: canonicalJson(JSON.parse(json)) }
    } catch {
      return { json, canonical: null }
    }
  })
}

const QUERY_INPUTS = [
  '',
  '?',
  '?api-version=2024-06-01&tag=a+b&note=caf%c3%a9!',
  '?a',
  '?=x',
  '?a=1&&b=2&',
  '?a=b=c',
  '?%41=1',
  '?a=~-._&b=%7e',
  '?q=a%2Bb+c',
  '?x=%f0%9f%98%80',
  "?x=*'()!",
  '?b=2&a=1',
  '?a=%zz',
  '?a=%C3',
  '?a=%ED%A0%80',
  '?a=%',
]

function queryCases(): { search: string; canonical: string | null }[] {
  return QUERY_INPUTS.map((search) => {
    try {
      return { search, canonical: canonicalQuery(search) }
    } catch {
      return { search, canonical: null }
    }
  })
}

const SEALED_HEADER_INPUTS: Record<string, string>[] = [
  {
    Authorization: '  Bearer sk-test\t',
    'Content-Type': 'application/json',
    Host: 'example.test',
    'Content-Length': '12',
    Connection: 'keep-alive',
    'Accept-Encoding': 'gzip',
    'X-Continuum-Nonce': 'ignored',
    'Transfer-Encoding': 'chunked',
    'X-Custom': 'a, b',
  },
  {},
]

function sealedHeaderCases(): Record<string, unknown>[] {
  return SEALED_HEADER_INPUTS.map((headers) => {
    const bound = bindRequest({ method: 'POST', routePath: '/v1/x', search: '', timestamp: '1', headers })
    return {
      headers,
      sealedHeaders: bound.sealedHeaders,
      headerLines: bound.meta.split('\n').slice(3).join('\n'),
    }
  })
}

/** The client path rule (§8): what each client does with a request to a path. */
const PATH_INPUTS: { method: string; path: string; body: boolean }[] = [
  { method: 'POST', path: '/v1/chat/completions', body: true },
  { method: 'POST', path: '/llm/v1/chat/completions', body: true },
  { method: 'POST', path: '/v1/chat/completions/', body: true },
  { method: 'POST', path: '/v1//chat/completions', body: true },
  { method: 'POST', path: '//v1/chat/completions', body: true },
  { method: 'POST', path: '/V1/chat/completions', body: true },
  { method: 'POST', path: '/v1/chat%2Fcompletions', body: true },
  { method: 'POST', path: '/v1/chat%2fcompletions', body: true },
  { method: 'POST', path: '/v1/chat/%63ompletions', body: true },
  { method: 'POST', path: '/v1/chat/completions%20', body: true },
  { method: 'POST', path: '/v1/chat/completion', body: true },
  { method: 'POST', path: '/v1/files', body: true },
  { method: 'GET', path: '/v1/models', body: false },
  { method: 'GET', path: '/v1/models/gpt-4o', body: false },
  { method: 'POST', path: '/api/show', body: true },
  { method: 'POST', path: '/api/show/', body: true },
  { method: 'POST', path: '/v2/models/llama%20x/generate', body: true },
  { method: 'POST', path: '/v2/models/llama/versions/2/infer', body: true },
  { method: 'POST', path: '/v1/messages', body: true },
  { method: 'POST', path: '/v1/messages/count_tokens', body: true },
  { method: 'DELETE', path: '/v1/chat/completions', body: false },
]

async function pathCases(): Promise<Record<string, unknown>[]> {
  const cases: Record<string, unknown>[] = []
  for (const input of PATH_INPUTS) {
    let sent: Headers | undefined
    const encryptedFetch = createEncryptedFetch({
      keyId: 'k1',
      key: hex(32, 0),
      adapters: registry,
      fetch: async (_url, init) => {
        sent = new Headers(init?.headers)
        return new Response('{}', { status: 418 })
      },
    })
    // The client answers its own refusals as a response from itself, so the SDK sees our code.
    const response = await encryptedFetch(`http://h${input.path}`, {
      method: input.method,
      ...(input.body ? { body: '{"model":"m","messages":[],"prompt":"x","inputs":"x"}' } : {}),
    })
    const refused =
      response.headers.get('x-continuum-error-origin') === 'client' &&
      ((await response.json()) as { error?: { code?: string } }).error?.code ===
        'CONTINUUM_CLIENT_PATH_REFUSED'
    if (!refused && sent === undefined) throw new Error(`nothing sent for ${input.path}`)
    if (refused && sent !== undefined) throw new Error(`sent and refused for ${input.path}`)
    const outcome = refused ? 'refused' : sent?.has(HEADERS.encryption) === true ? 'encrypted' : 'plain'
    const match = registry.lookupSuffix(input.method, input.path)
    cases.push({ ...input, outcome, ...(outcome === 'encrypted' ? { routePath: match?.routePath } : {}) })
  }
  return cases
}

/**
 * Doubles from every part of the range (a seeded xorshift over all 64 bits, then small integers,
 * powers of ten and their neighbours) with their ECMAScript form, which is RFC 8785's.
 */
function numberCases(): [string, string][] {
  const cases: [string, string][] = []
  const view = new DataView(new ArrayBuffer(8))
  let state = 0x2545f4914f6cdd1dn
  const mask = (1n << 64n) - 1n
  const add = (value: number) => {
    if (!Number.isFinite(value)) return
    view.setFloat64(0, value)
    cases.push([view.getBigUint64(0).toString(16).padStart(16, '0'), JSON.stringify(value)])
  }
  for (let index = 0; index < 400; index++) {
    state ^= (state << 13n) & mask
    state ^= state >> 7n
    state ^= (state << 17n) & mask
    view.setBigUint64(0, state)
    add(view.getFloat64(0))
  }
  for (let exponent = -30; exponent <= 30; exponent++) {
    const power = 10 ** exponent
    add(power)
    add(-power * 1.5)
    view.setFloat64(0, power)
    const bits = view.getBigUint64(0)
    for (const neighbour of [bits - 1n, bits + 1n]) {
      view.setBigUint64(0, neighbour)
      add(view.getFloat64(0))
    }
  }
  for (const value of [2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, -(2 ** 63), 2 ** 64, 1 / 3, 2 / 3, 0.1 + 0.2])
    add(value)
  return cases
}

/** The whole shared vector file. */
export async function computeSharedVectors(): Promise<Record<string, unknown>> {
  const ivs = new FixedIvs()
  const requests = REQUESTS.map((input) => requestVector(input, ivs))
  const responses = RESPONSES.map((input) => responseVector(input, ivs))
  const streams: Record<string, unknown>[] = []
  for (const input of STREAMS) streams.push(await streamVector(input, ivs))
  return {
    description:
      'Shared cp2 test vectors (docs/PROTOCOL.md). Generated by `npx tsx scripts/protocol-vectors.ts` from the server and the TypeScript client; checked by test/protocol.test.ts and clients/python/tests. Do not edit.',
    published: computeProtocolVectors(),
    context: {
      keyId: key.id,
      keyHex: hex(32, 0).toString('hex'),
      nonce,
      ivRule: '10 11 12 13 14 15 16 17 then a 32-bit big-endian counter, one IV per field in document order',
    },
    canonicalJson: canonicalCases(),
    numbers: numberCases(),
    canonicalQuery: queryCases(),
    sealedHeaders: sealedHeaderCases(),
    requests,
    responses,
    streams,
    paths: await pathCases(),
  }
}

/** Where the shared vector file lives, relative to the repository root. */
export const SHARED_VECTORS_FILE = 'test/fixtures/protocol-vectors.json'
