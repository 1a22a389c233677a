import type { CanonicalRequest, ContinuumError, StreamChunk } from 'continuum-proxy'
import { silentLogger, systemClock } from 'continuum-proxy'
import type { InferenceProvider } from 'continuum-proxy/provider-kit'
import { ProviderRegistry } from 'continuum-proxy/provider-kit'
import { vertex } from 'continuum-proxy/providers'
import { JWT } from 'google-auth-library'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { vertexProviderType } from '../../adapters/vertex/provider/config'
import { jsonReply, transcript, transcriptLines } from '../kit/replies'
import type { FakeUpstream } from '../kit/server'
import { startVertexServer, VERTEX_LOCATION, VERTEX_PROJECT } from '../kit/vertex'
import { describeProviderFailures } from './provider-failures'

const TOKEN = 'ya29.a0AfB_secretAccessTokenValue'
const MODEL = 'gemini-2.0-flash-001'
const MODEL_PATH = `/v1/projects/${VERTEX_PROJECT}/locations/${VERTEX_LOCATION}/publishers/google/models/${MODEL}`

const request: CanonicalRequest = {
  model: MODEL,
  system: 'Answer in one sentence.',
  messages: [{ role: 'user', content: 'Why is the sky blue?' }],
  temperature: 0.4,
  topP: 0.95,
  maxTokens: 100,
  stop: ['STOP!'],
}

const weatherTool = {
  name: 'get_current_weather',
  description: 'Get the current weather in a given location',
  parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
}

function makeProvider(
  baseURL: string,
  overrides: Partial<Parameters<typeof vertex>[0]> = {},
): InferenceProvider {
  return vertex({
    project: VERTEX_PROJECT,
    location: VERTEX_LOCATION,
    accessToken: TOKEN,
    baseURL,
    ...overrides,
  })
}

async function collect(iterable: AsyncIterable<StreamChunk>): Promise<StreamChunk[]> {
  const chunks: StreamChunk[] = []
  for await (const chunk of iterable) chunks.push(chunk)
  return chunks
}

describe('vertex provider', () => {
  let fake: FakeUpstream
  let provider: InferenceProvider
  beforeAll(async () => {
    fake = await startVertexServer(TOKEN)
    provider = makeProvider(fake.url)
  })
  afterAll(async () => {
    await provider.close?.()
    await fake.close()
  })

  it('completes through generateContent with systemInstruction and generationConfig', async () => {
    const response = await provider.complete(request)
    expect(response).toEqual({
      id: 'k9yTZ5qCFrbHz7IPyPG5gAg',
      model: 'gemini-2.0-flash-001',
      provider: 'vertex',
      content: 'The sky appears blue because of Rayleigh scattering.',
      toolCalls: [],
      finishReason: 'stop',
      usage: { inputTokens: 8, outputTokens: 12 },
    })
    const sent = fake.requests.at(-1)!
    expect(sent.url).toBe(`${MODEL_PATH}:generateContent`)
    expect(sent.json()).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'Why is the sky blue?' }] }],
      systemInstruction: { parts: [{ text: 'Answer in one sentence.' }] },
      generationConfig: { temperature: 0.4, topP: 0.95, maxOutputTokens: 100, stopSequences: ['STOP!'] },
    })
  })

  it('streams SSE chunks with alt=sse, reporting the final usage once', async () => {
    const chunks = await collect(provider.stream(request))
    expect(chunks).toEqual([
      { type: 'text-delta', text: 'The' },
      { type: 'text-delta', text: ' sky appears blue because of' },
      { type: 'text-delta', text: ' Rayleigh scattering.' },
      { type: 'usage', usage: { inputTokens: 8, outputTokens: 12 } },
      { type: 'finish', finishReason: 'stop' },
    ])
    expect(fake.requests.at(-1)!.url).toBe(`${MODEL_PATH}:streamGenerateContent?alt=sse`)
  })

  it('sends functionDeclarations and function responses by name, and reads functionCall parts', async () => {
    const response = await provider.complete({
      model: MODEL,
      tools: [weatherTool],
      toolChoice: { name: 'get_current_weather' },
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Weather in Boston?' },
            { type: 'image', url: 'gs://bucket/sky.jpg', mediaType: 'image/jpeg' },
          ],
        },
        {
          role: 'assistant',
          content: '',
          toolCalls: [{ id: 'call_a', name: 'get_current_weather', arguments: '{"location":"Boston"}' }],
        },
        { role: 'tool', toolCallId: 'call_a', content: '{"temperature":"38F"}' },
      ],
    })
    expect(response.finishReason).toBe('tool_calls')
    expect(response.toolCalls.map((call) => [call.name, JSON.parse(call.arguments)])).toEqual([
      ['get_current_weather', { location: 'Boston, MA' }],
      ['get_current_weather', { location: 'San Francisco, CA' }],
    ])
    expect(new Set(response.toolCalls.map((call) => call.id)).size).toBe(2)
    const sent = fake.requests.at(-1)!.json()
    expect(sent.tools).toEqual([{ functionDeclarations: [weatherTool] }])
    expect(sent.toolConfig).toEqual({
      functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_current_weather'] },
    })
    expect(sent.contents).toEqual([
      {
        role: 'user',
        parts: [
          { text: 'Weather in Boston?' },
          { fileData: { mimeType: 'image/jpeg', fileUri: 'gs://bucket/sky.jpg' } },
        ],
      },
      {
        role: 'model',
        parts: [{ functionCall: { name: 'get_current_weather', args: { location: 'Boston' } } }],
      },
      {
        role: 'user',
        parts: [{ functionResponse: { name: 'get_current_weather', response: { temperature: '38F' } } }],
      },
    ])
  })

  it('streams function calls as whole tool-call deltas', async () => {
    const chunks = await collect(provider.stream({ ...request, tools: [weatherTool] }))
    expect(chunks[0]).toMatchObject({ type: 'tool-call-delta', index: 0, name: 'get_current_weather' })
    expect(JSON.parse((chunks[0] as { argumentsDelta: string }).argumentsDelta)).toEqual({
      location: 'Boston, MA',
    })
    expect(chunks.slice(1)).toEqual([
      { type: 'usage', usage: { inputTokens: 41, outputTokens: 9 } },
      { type: 'finish', finishReason: 'tool_calls' },
    ])
  })

  it('reports a blocked prompt as content_filter', async () => {
    const response = await provider.complete({ ...request, model: 'blocked-model' })
    expect(response).toMatchObject({
      content: '',
      finishReason: 'content_filter',
      usage: { inputTokens: 7, outputTokens: 0 },
    })
  })

  it('maps RESOURCE_EXHAUSTED to a rate-limit error, and an error event inside the stream too', async () => {
    fake.queue({
      kind: 'body',
      status: 429,
      headers: { 'content-type': 'application/json' },
      body: transcript('vertex', 'resource-exhausted.json'),
    })
    const error = (await provider.complete(request).catch((caught: unknown) => caught)) as ContinuumError
    expect(error.code).toBe('CONTINUUM_PROVIDER_RATE_LIMITED')
    const first = transcriptLines(transcript('vertex', 'stream-generate-content.sse')).slice(0, 2)
    fake.queue({
      kind: 'chunks',
      headers: { 'content-type': 'text/event-stream' },
      chunks: [...first, `data: ${transcript('vertex', 'resource-exhausted.json').trim()}\r\n\r\n`],
    })
    const chunks: StreamChunk[] = []
    const streamError = (await (async () => {
      for await (const chunk of provider.stream(request)) chunks.push(chunk)
    })().catch((caught: unknown) => caught)) as ContinuumError
    expect(chunks).toEqual([{ type: 'text-delta', text: 'The' }])
    expect(streamError.code).toBe('CONTINUUM_PROVIDER_RATE_LIMITED')
  })

  it('embeds through :predict in batches, in input order', async () => {
    const batched = makeProvider(fake.url, { embeddingBatchSize: 2 })
    const count = fake.requests.length
    const response = await batched.embed({ model: 'text-embedding-005', input: ['one', 'two', 'three'] })
    expect(response.embeddings).toHaveLength(3)
    expect(response.embeddings[0]).toEqual([0.0051, -0.0313, 0.0208, 0.0511, -0.0149, 0.0274])
    expect(response.embeddings[2]).toEqual(response.embeddings[0])
    expect(response.usage).toEqual({ inputTokens: 16, outputTokens: 0 })
    const calls = fake.requests.slice(count)
    expect(calls.map((call) => call.json())).toEqual([
      { instances: [{ content: 'one' }, { content: 'two' }] },
      { instances: [{ content: 'three' }] },
    ])
    expect(calls[0]!.url).toMatch(/\/models\/text-embedding-005:predict$/)
    await batched.close?.()
  })

  it('rejects a predict answer with the wrong number of predictions', async () => {
    fake.queue(jsonReply({ predictions: [] }))
    const error = (await provider
      .embed({ model: 'text-embedding-005', input: ['a'] })
      .catch((caught: unknown) => caught)) as ContinuumError
    expect(error.code).toBe('CONTINUUM_UPSTREAM_PROTOCOL_ERROR')
  })

  it('probes health with countTokens', async () => {
    expect((await provider.health()).status).toBe('healthy')
    expect(fake.requests.at(-1)!.url).toBe(`${MODEL_PATH}:countTokens`)
  })

  it('asks a token function for each call and maps its failure to AUTH_FAILED', async () => {
    let calls = 0
    const refreshing = makeProvider(fake.url, {
      accessToken: async () => {
        calls++
        return TOKEN
      },
    })
    await refreshing.complete(request)
    await refreshing.complete(request)
    expect(calls).toBe(2)
    const failing = makeProvider(fake.url, {
      accessToken: async () => {
        throw new Error('refresh failed')
      },
    })
    const error = (await failing.complete(request).catch((caught: unknown) => caught)) as ContinuumError
    expect(error.code).toBe('CONTINUUM_PROVIDER_AUTH_FAILED')
    // The health probe asks for a token inside the probe: a failure is a report, not a throw.
    const count = fake.requests.length
    expect(await failing.health()).toMatchObject({
      status: 'unhealthy',
      detail: 'CONTINUUM_PROVIDER_AUTH_FAILED',
    })
    expect(fake.requests.length).toBe(count)
    await refreshing.close?.()
    await failing.close?.()
  })

  it('uses google-auth-library lazily: construction needs no credentials, a failing client maps to AUTH_FAILED', async () => {
    const count = fake.requests.length
    // A service-account client whose key cannot sign: getAccessToken fails locally, before any network.
    const authClient = new JWT({ email: 'svc@my-project.iam.gserviceaccount.com', key: 'not a PEM key' })
    const adc = makeProvider(fake.url, { accessToken: undefined, googleAuth: { authClient } })
    expect(adc.id).toBe('vertex')
    const error = (await adc.complete(request).catch((caught: unknown) => caught)) as ContinuumError
    expect(error.code).toBe('CONTINUUM_PROVIDER_AUTH_FAILED')
    expect(fake.requests.length).toBe(count)
    await adc.close?.()
  })

  it('validates options', () => {
    expect(() => vertex({ project: 'Bad Project', location: VERTEX_LOCATION })).toThrow(/project/)
    expect(() => vertex({ project: VERTEX_PROJECT, location: '' })).toThrow(/location/)
    expect(() => vertex({ project: VERTEX_PROJECT, location: VERTEX_LOCATION, accessToken: '' })).toThrow(
      /accessToken/,
    )
  })

  it('is built by the registry with api_key as the access token', async () => {
    const registry = new ProviderRegistry([vertexProviderType])
    const config = {
      id: 'gemini',
      type: 'vertex' as const,
      endpoint: fake.url,
      apiKey: TOKEN,
      models: [MODEL],
      timeoutMs: 5_000,
      headers: {},
      capabilities: {},
      settings: { project: VERTEX_PROJECT, location: VERTEX_LOCATION },
    }
    const built = registry.create(config, { clock: systemClock, logger: silentLogger })
    expect((await built.complete(request)).provider).toBe('gemini')
    await built.close?.()
    expect(() =>
      registry.create({ ...config, settings: {} }, { clock: systemClock, logger: silentLogger }),
    ).toThrow(/inference\.providers\.gemini\.project/)
  })
})

describeProviderFailures({
  name: 'vertex',
  start: () => startVertexServer(TOKEN),
  provider: (baseURL, timeoutMs) => makeProvider(baseURL, { timeoutMs }),
  request,
  partialStream: {
    headers: { 'content-type': 'text/event-stream' },
    chunks: transcriptLines(transcript('vertex', 'stream-generate-content.sse')).slice(0, 4),
  },
  errorBody: { error: { code: 500, message: 'failure', status: 'INTERNAL' } },
  secret: TOKEN,
})
