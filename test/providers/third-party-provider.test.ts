/**
 * A provider written from the outside, the way a third party would: only
 * `continuum-proxy/provider-kit` (and `continuum-proxy/router` for the router and its config
 * loader). "Acme" speaks a wire format of its own (turns of `who`/`say`, NDJSON stream pieces,
 * a `meter` for usage) over ProviderHttp against a fake Acme server on a real socket; the kit's
 * one error mapping turns its 429 (with Retry-After), 5xx, a dropped connection and a silent
 * server into the router's codes. Its provider type declares a `tier` setting, a TOML file names
 * it through `loadRouterConfig({ providerTypes })`, and `continuum({ router })` serves it to the
 * official openai SDK, plain and streamed.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { continuum } from 'continuum-proxy/express'
import {
  buildFromConfig,
  type CanonicalRequest,
  type CanonicalResponse,
  type CommonProviderOptions,
  ContinuumError,
  commonOptionsFromConfig,
  contentText,
  defineProviderType,
  embeddingsNotSupported,
  type FinishReason,
  type InferenceProvider,
  isRecord,
  mergeCapabilities,
  type ProviderCapabilities,
  ProviderHttp,
  parseNdjson,
  probeHealth,
  protocolError,
  resolveBaseUrl,
  resolveCommonOptions,
  type StreamChunk,
  streamEndedEarly,
  stringSetting,
  type Usage,
} from 'continuum-proxy/provider-kit'
import { InferenceRouter, loadRouterConfig } from 'continuum-proxy/router'
import express from 'express'
import OpenAI from 'openai'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

// ---------------------------------------------------------------------------------------------
// The third party's provider, as it would ship in its own package.

type AcmeTier = 'standard' | 'priority'

interface AcmeProviderOptions extends CommonProviderOptions {
  baseURL: string
  apiKey: string
  /** @default 'standard' */
  tier?: AcmeTier
}

const ACME_CAPABILITIES: ProviderCapabilities = {
  models: [],
  contextWindow: 32_000,
  streaming: true,
  tools: false,
  vision: false,
  embeddings: false,
  latencyMs: { p50: 300, p99: 2000 },
  costPerMillion: { input: 1, output: 2 },
  local: false,
}

/** Acme's request body: its own names for everything. */
function toAcmeRequest(request: CanonicalRequest) {
  const turns = request.messages.map((message) => ({
    who: message.role === 'assistant' ? 'bot' : message.role,
    say: contentText(message.content),
  }))
  if (request.system !== undefined) turns.unshift({ who: 'system', say: request.system })
  return {
    engine: request.model,
    turns,
    ...(request.maxTokens === undefined ? {} : { max_new: request.maxTokens }),
    ...(request.temperature === undefined ? {} : { heat: request.temperature }),
  }
}

function acmeFinish(halted: unknown): FinishReason {
  return halted === 'cap' ? 'length' : 'stop'
}

function acmeUsage(meter: unknown): Usage | undefined {
  if (!isRecord(meter) || typeof meter.read !== 'number' || typeof meter.wrote !== 'number') return undefined
  return { inputTokens: meter.read, outputTokens: meter.wrote }
}

function acme(options: AcmeProviderOptions): InferenceProvider {
  const common = resolveCommonOptions('acme()', options, 'acme')
  const baseURL = resolveBaseUrl('acme()', 'baseURL', options.baseURL)
  const capabilities = mergeCapabilities('acme()', ACME_CAPABILITIES, common.models, options.capabilities)
  const http = new ProviderHttp({ providerId: common.id, ...common })
  const providerId = common.id
  const headers = {
    'content-type': 'application/json',
    'x-acme-key': options.apiKey,
    'x-acme-tier': options.tier ?? 'standard',
    ...common.headers,
  }
  return {
    specificationVersion: 'v1',
    id: providerId,
    capabilities,

    async complete(request: CanonicalRequest): Promise<CanonicalResponse> {
      const { body } = await http.json({
        method: 'POST',
        url: `${baseURL}/v2/generate`,
        headers,
        body: JSON.stringify(toAcmeRequest(request)),
        signal: request.signal,
      })
      if (!isRecord(body) || !isRecord(body.reply) || typeof body.reply.say !== 'string') {
        throw protocolError(providerId, 'a reply without text')
      }
      const response: CanonicalResponse = {
        id: typeof body.id === 'string' ? body.id : 'acme',
        model: request.model,
        provider: providerId,
        content: body.reply.say,
        toolCalls: [],
        finishReason: acmeFinish(body.halted),
      }
      const usage = acmeUsage(body.meter)
      if (usage !== undefined) response.usage = usage
      return response
    },

    async *stream(request: CanonicalRequest): AsyncGenerator<StreamChunk> {
      const bytes = http.stream({
        method: 'POST',
        url: `${baseURL}/v2/generate/stream`,
        headers: { ...headers, accept: 'application/x-ndjson' },
        body: JSON.stringify(toAcmeRequest(request)),
        signal: request.signal,
      })
      for await (const line of parseNdjson(bytes)) {
        if (!isRecord(line)) throw protocolError(providerId, 'a stream line that is not an object')
        if (typeof line.piece === 'string') yield { type: 'text-delta', text: line.piece }
        if (line.halted !== undefined) {
          const usage = acmeUsage(line.meter)
          if (usage !== undefined) yield { type: 'usage', usage }
          yield { type: 'finish', finishReason: acmeFinish(line.halted) }
          return
        }
      }
      throw streamEndedEarly(providerId)
    },

    embed: async () => {
      throw embeddingsNotSupported(providerId)
    },

    health: (signal) => probeHealth(http, { method: 'GET', url: `${baseURL}/v2/status`, headers, signal }),

    close: () => http.close(),
  }
}

/** `[inference.providers.<id>] type = "acme"`, with its own `tier` key. */
const acmeProviderType = defineProviderType({
  type: 'acme',
  settings: {
    tier: { type: 'string', enum: ['standard', 'priority'], expect: '"standard" or "priority"' },
  },
  create: (config, context) =>
    buildFromConfig(config, () =>
      acme({
        ...commonOptionsFromConfig(config, context),
        baseURL: config.endpoint ?? 'https://api.acme.example',
        apiKey: config.apiKey ?? '',
        tier: (stringSetting(config, 'tier') ?? 'standard') as AcmeTier,
      }),
    ),
})

// ---------------------------------------------------------------------------------------------
// A fake Acme server on a real socket.

const ACME_KEY = 'acme-secret-key'
type Behaviour = 'answer' | 'rate-limit' | 'unavailable' | 'drop' | 'silent' | 'garbage'

interface AcmeCall {
  path: string
  headers: IncomingMessage['headers']
  body: Record<string, unknown>
}

let behaviour: Behaviour = 'answer'
const calls: AcmeCall[] = []
let acmeServer: Server
let acmeUrl: string

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = ''
    request.setEncoding('utf8')
    request.on('data', (chunk: string) => (text += chunk))
    request.on('end', () => resolve(text))
    request.on('error', reject)
  })
}

async function handleAcme(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = request.url ?? ''
  if (request.method === 'GET' && path === '/v2/status') {
    response.setHeader('content-type', 'application/json')
    response.end('{"up":true}')
    return
  }
  const text = await readBody(request)
  const body = JSON.parse(text) as Record<string, unknown>
  calls.push({ path, headers: request.headers, body })
  if (request.headers['x-acme-key'] !== ACME_KEY) {
    response.writeHead(401, { 'content-type': 'application/json' }).end('{"fault":"key"}')
    return
  }
  if (behaviour === 'rate-limit') {
    response.writeHead(429, { 'retry-after': '7', 'content-type': 'application/json' })
    response.end('{"fault":"slow down"}')
    return
  }
  if (behaviour === 'unavailable') {
    response.writeHead(503, { 'content-type': 'application/json' }).end('{"fault":"overloaded"}')
    return
  }
  if (behaviour === 'drop') {
    request.socket.destroy()
    return
  }
  if (behaviour === 'silent') return // never answers; the client's timeout must end the call
  if (behaviour === 'garbage') {
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"reply":42}')
    return
  }
  const turns = body.turns as { who: string; say: string }[]
  const answer = `Acme heard: ${turns.at(-1)?.say}`
  if (path === '/v2/generate/stream') {
    response.writeHead(200, { 'content-type': 'application/x-ndjson' })
    for (const piece of answer.match(/.{1,5}/g) ?? []) response.write(`${JSON.stringify({ piece })}\n`)
    response.end(`${JSON.stringify({ halted: 'eos', meter: { read: 9, wrote: 4 } })}\n`)
    return
  }
  response.writeHead(200, { 'content-type': 'application/json' })
  response.end(
    JSON.stringify({ id: 'acme-1', reply: { say: answer }, halted: 'eos', meter: { read: 9, wrote: 4 } }),
  )
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
}

beforeAll(async () => {
  acmeServer = createServer((request, response) => {
    handleAcme(request, response).catch(() => response.destroy())
  })
  acmeUrl = await listen(acmeServer)
})

afterAll(async () => {
  await close(acmeServer)
})

afterEach(() => {
  behaviour = 'answer'
})

const request: CanonicalRequest = {
  model: 'acme-large',
  system: 'Be brief.',
  messages: [{ role: 'user', content: 'hello acme' }],
  maxTokens: 32,
}

async function failure(promise: Promise<unknown>): Promise<ContinuumError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  )
  expect(ContinuumError.isInstance(error)).toBe(true)
  return error as ContinuumError
}

async function collect(chunks: AsyncIterable<StreamChunk>): Promise<StreamChunk[]> {
  const collected: StreamChunk[] = []
  for await (const chunk of chunks) collected.push(chunk)
  return collected
}

// ---------------------------------------------------------------------------------------------

describe('a third-party provider built with continuum-proxy/provider-kit', () => {
  let provider: InferenceProvider

  beforeAll(() => {
    provider = acme({ baseURL: acmeUrl, apiKey: ACME_KEY, models: ['acme-large'], timeoutMs: 500 })
  })

  afterAll(async () => {
    await provider.close?.()
  })

  it('sends its own wire format and translates the answer', async () => {
    const response = await provider.complete(request)
    expect(calls.at(-1)).toMatchObject({
      path: '/v2/generate',
      headers: { 'x-acme-key': ACME_KEY, 'x-acme-tier': 'standard' },
      body: {
        engine: 'acme-large',
        turns: [
          { who: 'system', say: 'Be brief.' },
          { who: 'user', say: 'hello acme' },
        ],
        max_new: 32,
      },
    })
    expect(response).toMatchObject({
      provider: 'acme',
      model: 'acme-large',
      content: 'Acme heard: hello acme',
      finishReason: 'stop',
      usage: { inputTokens: 9, outputTokens: 4 },
    })
  })

  it('streams NDJSON pieces as canonical chunks', async () => {
    const chunks = await collect(provider.stream(request))
    const text = chunks.flatMap((chunk) => (chunk.type === 'text-delta' ? [chunk.text] : [])).join('')
    expect(text).toBe('Acme heard: hello acme')
    expect(chunks.filter((chunk) => chunk.type === 'text-delta').length).toBeGreaterThan(1)
    expect(chunks.slice(-2)).toEqual([
      { type: 'usage', usage: { inputTokens: 9, outputTokens: 4 } },
      { type: 'finish', finishReason: 'stop' },
    ])
  })

  it('maps a 429 with Retry-After onto CONTINUUM_PROVIDER_RATE_LIMITED', async () => {
    behaviour = 'rate-limit'
    const error = await failure(provider.complete(request))
    expect(error.code).toBe('CONTINUUM_PROVIDER_RATE_LIMITED')
    expect(error.status).toBe(429)
    expect(error.isRetryable).toBe(true)
    expect(error.retryAfterSeconds).toBe(7)
  })

  it('maps a 5xx onto a retryable CONTINUUM_PROVIDER_ERROR carrying the upstream status', async () => {
    behaviour = 'unavailable'
    const error = await failure(provider.complete(request))
    expect(error.code).toBe('CONTINUUM_PROVIDER_ERROR')
    expect(error.isRetryable).toBe(true)
    expect(error.details).toMatchObject({ upstreamStatus: 503 })
    expect(error.message).not.toContain('overloaded')
  })

  it('maps a dropped connection onto CONTINUUM_PROVIDER_UNAVAILABLE', async () => {
    behaviour = 'drop'
    const error = await failure(provider.complete(request))
    expect(error.code).toBe('CONTINUUM_PROVIDER_UNAVAILABLE')
    expect(error.isRetryable).toBe(true)
  })

  it('maps a refused connection onto CONTINUUM_PROVIDER_UNAVAILABLE', async () => {
    const closed = createServer()
    const url = await listen(closed)
    await close(closed)
    const unreachable = acme({ baseURL: url, apiKey: ACME_KEY, timeoutMs: 500 })
    const error = await failure(unreachable.complete(request))
    expect(error.code).toBe('CONTINUUM_PROVIDER_UNAVAILABLE')
    await unreachable.close?.()
  })

  it('ends a call to a silent server with CONTINUUM_PROVIDER_TIMEOUT', async () => {
    behaviour = 'silent'
    const error = await failure(provider.complete(request))
    expect(error.code).toBe('CONTINUUM_PROVIDER_TIMEOUT')
    expect(error.isRetryable).toBe(true)
  })

  it('refuses a malformed answer from a hostile server with a protocol error', async () => {
    behaviour = 'garbage'
    const error = await failure(provider.complete(request))
    expect(error.code).toBe('CONTINUUM_UPSTREAM_PROTOCOL_ERROR')
  })

  it('refuses a wrong key, mapped as an authentication failure without echoing the key', async () => {
    const wrong = acme({ baseURL: acmeUrl, apiKey: 'not-the-key', timeoutMs: 500 })
    const error = await failure(wrong.complete(request))
    expect(error.code).toBe('CONTINUUM_PROVIDER_AUTH_FAILED')
    expect(JSON.stringify(error.toJSON())).not.toContain('not-the-key')
    await wrong.close?.()
  })

  it('reports health from its status endpoint', async () => {
    expect((await provider.health()).status).toBe('healthy')
  })
})

describe('the Acme provider type in a TOML configuration, served to the openai SDK', () => {
  let folder: string
  let router: InferenceRouter
  let proxyServer: Server
  let client: OpenAI

  const toml = (tier: string) => `
[inference]
routing_policy = "cloud_first"

[inference.retry]
max_retries = 0

[inference.providers.acme-main]
type = "acme"
endpoint = "${acmeUrl}"
api_key = "env:ACME_API_KEY"
tier = "${tier}"
models = ["acme-large"]
timeout_ms = 2000
`

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'continuum-acme-'))
    const path = join(folder, 'router.toml')
    await writeFile(path, toml('priority'))
    const options = await loadRouterConfig(path, {
      providerTypes: [acmeProviderType],
      env: { ACME_API_KEY: ACME_KEY },
    })
    router = new InferenceRouter(options)
    const app = express()
    app.use(continuum({ router }))
    proxyServer = createServer(app)
    const url = await listen(proxyServer)
    client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused-by-the-gateway', maxRetries: 0 })
  })

  afterAll(async () => {
    await close(proxyServer)
    await router.close()
    await rm(folder, { recursive: true, force: true })
  })

  it('refuses a tier the type does not declare, naming the key', async () => {
    const path = join(folder, 'bad.toml')
    await writeFile(path, toml('platinum'))
    const error = await failure(
      loadRouterConfig(path, { providerTypes: [acmeProviderType], env: { ACME_API_KEY: ACME_KEY } }),
    )
    expect(error.code).toBe('CONTINUUM_CONFIG_INVALID')
    expect(error.message).toContain('inference.providers.acme-main.tier')
    expect(error.message).not.toContain(ACME_KEY)
  })

  it('answers a chat completion through the Acme wire, with the tier from the file', async () => {
    const completion = await client.chat.completions.create({
      model: 'acme-large',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hello gateway' },
      ],
      max_tokens: 16,
    })
    expect(completion.choices[0]?.message.content).toBe('Acme heard: hello gateway')
    expect(completion.choices[0]?.finish_reason).toBe('stop')
    expect(completion.usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 4 })
    expect(calls.at(-1)).toMatchObject({
      path: '/v2/generate',
      headers: { 'x-acme-key': ACME_KEY, 'x-acme-tier': 'priority' },
      body: { engine: 'acme-large', max_new: 16 },
    })
  })

  it('streams a chat completion from the Acme NDJSON stream', async () => {
    const stream = await client.chat.completions.create({
      model: 'acme-large',
      messages: [{ role: 'user', content: 'stream please' }],
      stream: true,
    })
    let text = ''
    let finish: string | null | undefined
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? ''
      finish = chunk.choices[0]?.finish_reason ?? finish
    }
    expect(text).toBe('Acme heard: stream please')
    expect(finish).toBe('stop')
    expect(calls.at(-1)?.path).toBe('/v2/generate/stream')
  })

  it("turns Acme's 429 into an OpenAI-format error the SDK raises", async () => {
    behaviour = 'rate-limit'
    const error = await client.chat.completions
      .create({ model: 'acme-large', messages: [{ role: 'user', content: 'hi' }] })
      .then(
        () => undefined,
        (caught: unknown) => caught,
      )
    expect(error).toBeInstanceOf(OpenAI.APIError)
    const apiError = error as InstanceType<typeof OpenAI.APIError>
    expect(apiError.status).toBe(429)
    expect(JSON.stringify(apiError.error)).toContain('CONTINUUM_PROVIDER_RATE_LIMITED')
  })
})
