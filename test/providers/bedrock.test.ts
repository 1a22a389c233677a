import type { CanonicalRequest, ContinuumError, StreamChunk } from 'continuum-proxy'
import { silentLogger, systemClock } from 'continuum-proxy'
import type { InferenceProvider } from 'continuum-proxy/provider-kit'
import { ProviderRegistry } from 'continuum-proxy/provider-kit'
import { bedrock } from 'continuum-proxy/providers'
import { request as undiciRequest } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bedrockProviderType } from '../../adapters/bedrock/provider/config'
import { BedrockSigner } from '../../adapters/bedrock/provider/signing'
import {
  EVENT_STREAM_HEADERS,
  encodeEvents,
  FAKE_AWS_CREDENTIALS,
  FAKE_AWS_REGION,
  startBedrockServer,
  streamTranscript,
} from '../kit/bedrock'
import type { FakeUpstream } from '../kit/server'
import { describeProviderFailures } from './provider-failures'

const MODEL = 'anthropic.claude-3-5-sonnet-20240620-v1:0'

const request: CanonicalRequest = {
  model: MODEL,
  system: 'You are an app that creates playlists for a radio station.',
  messages: [{ role: 'user', content: 'Hello, how are you?' }],
  maxTokens: 512,
  temperature: 0.5,
  topP: 0.9,
  stop: ['END'],
}

const topSongTool = {
  name: 'top_song',
  description: 'Get the most popular song played on a radio station.',
  parameters: { type: 'object', properties: { sign: { type: 'string' } }, required: ['sign'] },
}

function makeProvider(
  baseURL: string,
  overrides: Partial<Parameters<typeof bedrock>[0]> = {},
): InferenceProvider {
  return bedrock({
    region: FAKE_AWS_REGION,
    credentials: FAKE_AWS_CREDENTIALS,
    baseURL,
    controlPlaneURL: baseURL,
    ...overrides,
  })
}

async function collect(iterable: AsyncIterable<StreamChunk>): Promise<StreamChunk[]> {
  const chunks: StreamChunk[] = []
  for await (const chunk of iterable) chunks.push(chunk)
  return chunks
}

describe('bedrock provider', () => {
  let fake: FakeUpstream
  let provider: InferenceProvider
  beforeAll(async () => {
    fake = await startBedrockServer()
    provider = makeProvider(fake.url)
  })
  afterAll(async () => {
    await provider.close?.()
    await fake.close()
  })

  it('completes through a SigV4-signed Converse call the fake verifies', async () => {
    const response = await provider.complete(request)
    expect(response).toEqual({
      id: 'req-converse-1',
      model: MODEL,
      provider: 'bedrock',
      content: "Hello! I'm doing well, thank you for asking.",
      toolCalls: [],
      finishReason: 'stop',
      usage: { inputTokens: 30, outputTokens: 14 },
    })
    const sent = fake.requests.at(-1)!
    // The model id's ':' is percent-encoded in the path, as the AWS SDK sends it.
    expect(sent.url).toBe('/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse')
    expect(sent.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/bedrock\/aws4_request/,
    )
    expect(sent.json()).toEqual({
      system: [{ text: 'You are an app that creates playlists for a radio station.' }],
      messages: [{ role: 'user', content: [{ text: 'Hello, how are you?' }] }],
      inferenceConfig: { maxTokens: 512, temperature: 0.5, topP: 0.9, stopSequences: ['END'] },
    })
  })

  it('is refused with CONTINUUM_PROVIDER_AUTH_FAILED when the signature is wrong, without leaking the secret', async () => {
    const wrongSecret = 'notTheRightSecretKeyButSecretAnyway'
    const wrong = makeProvider(fake.url, {
      credentials: { ...FAKE_AWS_CREDENTIALS, secretAccessKey: wrongSecret },
    })
    const error = (await wrong.complete(request).catch((caught: unknown) => caught)) as ContinuumError
    expect(error.code).toBe('CONTINUUM_PROVIDER_AUTH_FAILED')
    expect(error.details?.upstreamStatus).toBe(403)
    expect(`${error.message} ${JSON.stringify(error.details)}`).not.toContain(wrongSecret)
    await wrong.close?.()
  })

  it('is refused when the body is altered after signing (the payload hash is signed)', async () => {
    const signer = new BedrockSigner(FAKE_AWS_REGION, FAKE_AWS_CREDENTIALS, systemClock, 'bedrock')
    const url = new URL(`${fake.url}/model/${encodeURIComponent(MODEL)}/converse`)
    const body = JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'signed' }] }] })
    const headers = await signer.sign('POST', url, { 'content-type': 'application/json' }, body)
    const genuine = await undiciRequest(url, { method: 'POST', headers, body })
    expect(genuine.statusCode).toBe(200)
    await genuine.body.dump()
    const tampered = await undiciRequest(url, {
      method: 'POST',
      headers,
      body: body.replace('signed', 'forged'),
    })
    expect(tampered.statusCode).toBe(403)
    await tampered.body.dump()
  })

  it('signs with credentials from a provider function', async () => {
    let calls = 0
    const rotating = makeProvider(fake.url, {
      credentials: async () => {
        calls++
        return { ...FAKE_AWS_CREDENTIALS }
      },
    })
    expect((await rotating.complete(request)).content).toContain('Hello!')
    expect(calls).toBe(1)
    const failing = makeProvider(fake.url, {
      credentials: async () => {
        throw new Error('instance metadata unreachable')
      },
    })
    const error = (await failing.complete(request).catch((caught: unknown) => caught)) as ContinuumError
    expect(error.code).toBe('CONTINUUM_PROVIDER_AUTH_FAILED')
    // The health probe signs inside the probe: a credentials failure is a report, not a throw.
    const count = fake.requests.length
    expect(await failing.health()).toMatchObject({
      status: 'unhealthy',
      detail: 'CONTINUUM_PROVIDER_AUTH_FAILED',
    })
    expect(fake.requests.length).toBe(count)
    await rotating.close?.()
    await failing.close?.()
  })

  it('translates tools, tool results and images, and reads toolUse blocks', async () => {
    const response = await provider.complete({
      model: MODEL,
      tools: [topSongTool],
      toolChoice: 'required',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Top song on WZPZ?' },
            { type: 'image', data: 'aGVsbG8=', mediaType: 'image/jpeg' },
          ],
        },
        {
          role: 'assistant',
          content: '',
          toolCalls: [{ id: 'tooluse_1', name: 'top_song', arguments: '{"sign":"WZPZ"}' }],
        },
        { role: 'tool', toolCallId: 'tooluse_1', content: '{"song":"Elemental Hotel"}' },
        { role: 'tool', toolCallId: 'tooluse_2', content: 'plain text result' },
      ],
    })
    expect(response.finishReason).toBe('tool_calls')
    expect(response.content).toBe("I'll look up the most popular song on that station.")
    expect(response.toolCalls).toEqual([
      { id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', name: 'top_song', arguments: '{"sign":"WZPZ"}' },
    ])
    const sent = fake.requests.at(-1)!.json()
    expect(sent.toolConfig).toEqual({
      tools: [
        {
          toolSpec: {
            name: 'top_song',
            description: topSongTool.description,
            inputSchema: { json: topSongTool.parameters },
          },
        },
      ],
      toolChoice: { any: {} },
    })
    expect(sent.messages).toEqual([
      {
        role: 'user',
        content: [
          { text: 'Top song on WZPZ?' },
          { image: { format: 'jpeg', source: { bytes: 'aGVsbG8=' } } },
        ],
      },
      {
        role: 'assistant',
        content: [{ toolUse: { toolUseId: 'tooluse_1', name: 'top_song', input: { sign: 'WZPZ' } } }],
      },
      // Both tool results merge into one user turn: Converse requires alternating roles.
      {
        role: 'user',
        content: [
          { toolResult: { toolUseId: 'tooluse_1', content: [{ json: { song: 'Elemental Hotel' } }] } },
          { toolResult: { toolUseId: 'tooluse_2', content: [{ text: 'plain text result' }] } },
        ],
      },
    ])
  })

  it('refuses web image URLs before calling Bedrock', async () => {
    const count = fake.requests.length
    const error = (await provider
      .complete({
        model: MODEL,
        messages: [{ role: 'user', content: [{ type: 'image', url: 'https://example.com/a.png' }] }],
      })
      .catch((caught: unknown) => caught)) as ContinuumError
    expect(error.code).toBe('CONTINUUM_NOT_SUPPORTED')
    expect(fake.requests.length).toBe(count)
  })

  it('streams ConverseStream event-stream messages as text deltas, usage and finish', async () => {
    const chunks = await collect(provider.stream(request))
    expect(chunks).toEqual([
      { type: 'text-delta', text: 'Hello' },
      { type: 'text-delta', text: '! How can' },
      { type: 'text-delta', text: ' I help?' },
      { type: 'usage', usage: { inputTokens: 12, outputTokens: 9 } },
      { type: 'finish', finishReason: 'stop' },
    ])
    const sent = fake.requests.at(-1)!
    expect(sent.url).toBe('/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream')
    expect(sent.headers.accept).toBe('application/vnd.amazon.eventstream')
  })

  it('reassembles event-stream messages split across arbitrary network chunks', async () => {
    const whole = Buffer.concat(encodeEvents(streamTranscript('converse-stream.json')))
    const pieces: Uint8Array[] = []
    for (let offset = 0; offset < whole.length; offset += 7) pieces.push(whole.subarray(offset, offset + 7))
    fake.queue({ kind: 'chunks', headers: EVENT_STREAM_HEADERS, chunks: pieces })
    const chunks = await collect(provider.stream(request))
    expect(
      chunks
        .filter((chunk) => chunk.type === 'text-delta')
        .map((chunk) => chunk.text)
        .join(''),
    ).toBe('Hello! How can I help?')
    expect(chunks.at(-1)).toEqual({ type: 'finish', finishReason: 'stop' })
  })

  it('streams tool use: a start with id and name, then input fragments, then tool_calls', async () => {
    const chunks = await collect(provider.stream({ ...request, tools: [topSongTool] }))
    expect(chunks).toEqual([
      { type: 'text-delta', text: 'Let me check.' },
      {
        type: 'tool-call-delta',
        index: 0,
        id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q',
        name: 'top_song',
        argumentsDelta: '',
      },
      { type: 'tool-call-delta', index: 0, argumentsDelta: '{"sign": ' },
      { type: 'tool-call-delta', index: 0, argumentsDelta: '"WZPZ"}' },
      { type: 'usage', usage: { inputTokens: 375, outputTokens: 59 } },
      { type: 'finish', finishReason: 'tool_calls' },
    ])
  })

  it('maps a throttlingException inside the stream to a retryable rate-limit error', async () => {
    fake.queue({
      kind: 'chunks',
      headers: EVENT_STREAM_HEADERS,
      chunks: encodeEvents(streamTranscript('converse-stream-throttled.json')),
    })
    const chunks: StreamChunk[] = []
    const error = (await (async () => {
      for await (const chunk of provider.stream(request)) chunks.push(chunk)
    })().catch((caught: unknown) => caught)) as ContinuumError
    expect(chunks).toEqual([{ type: 'text-delta', text: 'Hello' }])
    expect(error.code).toBe('CONTINUUM_PROVIDER_RATE_LIMITED')
    expect(error.isRetryable).toBe(true)
    expect(error.message).not.toContain('Too many requests')
  })

  it('rejects an event-stream message whose checksum does not match', async () => {
    const [first] = encodeEvents(streamTranscript('converse-stream.json'))
    const corrupted = Uint8Array.from(first!)
    corrupted[corrupted.length - 6]! ^= 0xff
    fake.queue({ kind: 'chunks', headers: EVENT_STREAM_HEADERS, chunks: [corrupted] })
    const error = (await collect(provider.stream(request)).catch(
      (caught: unknown) => caught,
    )) as ContinuumError
    expect(error.code).toBe('CONTINUUM_UPSTREAM_PROTOCOL_ERROR')
  })

  it('embeds with Titan through InvokeModel, one signed call per input, in input order', async () => {
    const inputs = ['a', 'bb', 'ccc', 'dddd', 'eeeee']
    const count = fake.requests.length
    const response = await provider.embed({ model: 'amazon.titan-embed-text-v2:0', input: inputs })
    expect(response.embeddings.map((vector) => vector[0])).toEqual([1, 2, 3, 4, 5])
    expect(response.embeddings[0]).toHaveLength(8)
    expect(response.usage).toEqual({ inputTokens: 20, outputTokens: 0 })
    const calls = fake.requests.slice(count)
    expect(calls).toHaveLength(5)
    expect(calls[0]!.url).toBe('/model/amazon.titan-embed-text-v2%3A0/invoke')
    expect(calls.map((call) => call.json().inputText).sort()).toEqual(inputs)
  })

  it('reports health through a signed ListFoundationModels call', async () => {
    expect((await provider.health()).status).toBe('healthy')
    expect(fake.requests.at(-1)!.url).toBe('/foundation-models?byOutputModality=TEXT')
  })

  it('validates options without echoing secrets', () => {
    expect(() => bedrock({ region: 'mars', credentials: FAKE_AWS_CREDENTIALS })).toThrow(/region/)
    expect(() =>
      bedrock({ region: 'us-east-1', credentials: { accessKeyId: 'AKID', secretAccessKey: '' } }),
    ).toThrow(/secretAccessKey/)
    expect(() =>
      bedrock({ region: 'us-east-1', credentials: FAKE_AWS_CREDENTIALS, embeddingConcurrency: 0 }),
    ).toThrow(/embeddingConcurrency/)
  })

  it('is built by the registry from configuration settings', async () => {
    const registry = new ProviderRegistry([bedrockProviderType])
    const config = {
      id: 'aws',
      type: 'bedrock' as const,
      endpoint: fake.url,
      models: [MODEL],
      timeoutMs: 5_000,
      headers: {},
      capabilities: {},
      settings: {
        region: FAKE_AWS_REGION,
        access_key_id: FAKE_AWS_CREDENTIALS.accessKeyId,
        secret_access_key: FAKE_AWS_CREDENTIALS.secretAccessKey,
        session_token: FAKE_AWS_CREDENTIALS.sessionToken,
        control_plane_endpoint: fake.url,
      },
    }
    const built = registry.create(config, { clock: systemClock, logger: silentLogger })
    expect((await built.complete(request)).provider).toBe('aws')
    expect((await built.health()).status).toBe('healthy')
    await built.close?.()
    let thrown: unknown
    try {
      registry.create(
        { ...config, settings: { region: 'us-east-1' } },
        { clock: systemClock, logger: silentLogger },
      )
    } catch (error) {
      thrown = error
    }
    expect((thrown as ContinuumError).code).toBe('CONTINUUM_CONFIG_INVALID')
    expect((thrown as ContinuumError).message).toMatch(/inference\.providers\.aws\.access_key_id/)
  })
})

describeProviderFailures({
  name: 'bedrock',
  start: startBedrockServer,
  provider: (baseURL, timeoutMs) => makeProvider(baseURL, { timeoutMs }),
  request,
  partialStream: {
    headers: EVENT_STREAM_HEADERS,
    chunks: encodeEvents(streamTranscript('converse-stream.json').slice(0, 3)),
  },
  errorBody: { message: 'failure' },
  secret: FAKE_AWS_CREDENTIALS.secretAccessKey,
})
