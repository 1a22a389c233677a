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
import { createServer, type Server } from 'node:http'
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
  settingError,
  streamEndedEarly,
  stringSetting,
  type Usage,
} from 'continuum-proxy/provider-kit'
import { InferenceRouter, loadRouterConfig } from 'continuum-proxy/router'
import express from 'express'
import OpenAI from 'openai'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { closedPort, FakeUpstream, type RecordedRequest, type Reply } from '../kit/server'

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
    buildFromConfig(config, () => {
      const tier = (stringSetting(config, 'tier') ?? 'standard') as AcmeTier
      // A rule the schema cannot say: the priority tier is only sold with a key of its own.
      if (tier === 'priority' && config.apiKey === undefined)
        throw settingError(config, 'api_key', 'is required with tier = "priority"')
      return acme({
        ...commonOptionsFromConfig(config, context),
        baseURL: config.endpoint ?? 'https://api.acme.example',
        apiKey: config.apiKey ?? '',
        tier,
      })
    }),
})

// ---------------------------------------------------------------------------------------------
// A fake Acme server on a real socket (the test kit's server core).

const ACME_KEY = 'acme-secret-key'
type Behaviour = 'answer' | 'rate-limit' | 'unavailable' | 'drop' | 'silent' | 'garbage'

let behaviour: Behaviour = 'answer'
let acmeServer: FakeUpstream
let acmeUrl: string

/** The last generate call the Acme server received: its path, headers and JSON body. */
function lastCall(): { path: string; headers: Record<string, string>; body: Record<string, unknown> } {
  const recorded = acmeServer.requests.filter((request) => request.method === 'POST').at(-1)!
  return { path: recorded.url, headers: recorded.headers, body: recorded.json() }
}

function acmeJson(status: number, body: string, headers: Record<string, string> = {}): Reply {
  return { kind: 'body', status, headers: { 'content-type': 'application/json', ...headers }, body }
}

function acmeRoute(request: RecordedRequest): Reply {
  if (request.method === 'GET' && request.url === '/v2/status') return acmeJson(200, '{"up":true}')
  if (request.headers['x-acme-key'] !== ACME_KEY) return acmeJson(401, '{"fault":"key"}')
  if (behaviour === 'rate-limit') return acmeJson(429, '{"fault":"slow down"}', { 'retry-after': '7' })
  if (behaviour === 'unavailable') return acmeJson(503, '{"fault":"overloaded"}')
  if (behaviour === 'drop') return { kind: 'reset' }
  if (behaviour === 'silent') return { kind: 'hang' } // the client's timeout must end the call
  if (behaviour === 'garbage') return acmeJson(200, '{"reply":42}')
  const turns = request.json().turns as { who: string; say: string }[]
  const answer = `Acme heard: ${turns.at(-1)?.say}`
  const meter = { read: 9, wrote: 4 }
  if (request.url === '/v2/generate/stream') {
    const pieces = (answer.match(/.{1,5}/g) ?? []).map((piece) => `${JSON.stringify({ piece })}\n`)
    return {
      kind: 'chunks',
      headers: { 'content-type': 'application/x-ndjson' },
      chunks: [...pieces, `${JSON.stringify({ halted: 'eos', meter })}\n`],
    }
  }
  return acmeJson(200, JSON.stringify({ id: 'acme-1', reply: { say: answer }, halted: 'eos', meter }))
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
  acmeServer = await FakeUpstream.start(acmeRoute)
  acmeUrl = acmeServer.url
})

afterAll(async () => {
  await acmeServer.close()
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
    expect(lastCall()).toMatchObject({
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
    const url = `http://127.0.0.1:${await closedPort()}`
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

  const toml = (tier: string, key = 'api_key = "env:ACME_API_KEY"') => `
[inference]
routing_policy = "cloud_first"

[inference.retry]
max_retries = 0

[inference.providers.acme-main]
type = "acme"
endpoint = "${acmeUrl}"
${key}
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

  it("refuses what the type's own factory checks (priority without a key), naming the key", async () => {
    const path = join(folder, 'keyless.toml')
    await writeFile(path, toml('priority', ''))
    const error = await failure(loadRouterConfig(path, { providerTypes: [acmeProviderType], env: {} }))
    expect(error.code).toBe('CONTINUUM_CONFIG_INVALID')
    expect(error.message).toBe('inference.providers.acme-main.api_key: is required with tier = "priority"')
    expect(error.details).toEqual({ key: 'inference.providers.acme-main.api_key' })
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
    expect(lastCall()).toMatchObject({
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
    expect(lastCall().path).toBe('/v2/generate/stream')
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
