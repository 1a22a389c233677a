/**
 * The official openai client through `createEncryptedFetch`: each OpenAI route the adapter serves,
 * JSON and streamed. A recording fetch proves the wire carried no prompt or output in plaintext;
 * the fake upstream's records prove the inference server got the decrypted body.
 *
 * Per binding (six harnesses): a JSON chat and a streamed chat, end to end. These are the binding's
 * core job: hand the unread request body to the core, write a sealed JSON answer, and write an
 * SSE answer event by event up to its end marker.
 * Once, in process: tool calls, content parts, completions, embeddings, the Responses API, the
 * plain model list, 24 concurrent streams and `encryption: 'optional'`. The adapter's field lists,
 * the core's sealing and the per-request cipher state decide these; the binding only relays bytes
 * it already relays in the two scenarios above.
 */
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { replyFor, startOpenAIUpstream, toolArgumentsFor } from '../kit/openai-echo'
import { transcript } from '../kit/replies'
import type { FakeUpstream } from '../kit/server'
import { type FrameworkHarness, frameworks, type RunningApp } from './frameworks'
import { inProcess } from './in-process'
import { KEY, KEY_ID, openaiClient, recordingFetch, SECRET, send, sharedKeys } from './support'

/** The model the echo upstream lists (its vLLM transcript's). */
const VLLM_MODEL = 'meta-llama/Llama-3.1-8B-Instruct'

/** The app under test and its fake upstream, started once for the describe block. */
function useApp(harness: FrameworkHarness) {
  let upstream: FakeUpstream
  let app: RunningApp

  beforeAll(async () => {
    upstream = await startOpenAIUpstream()
    app = await harness.start({ upstream: upstream.url, keys: sharedKeys() })
  })

  afterAll(async () => {
    await app.close()
    await upstream.close()
  })

  return {
    app: () => app,
    upstream: () => upstream,
    recordedClient() {
      const wire = recordingFetch(app.fetch)
      return { wire, client: openaiClient(app, { keyId: KEY_ID, key: KEY, fetch: wire.fetch }) }
    },
    lastUpstreamBody(): Record<string, unknown> {
      return JSON.parse(upstream.requests.at(-1)?.body ?? '{}') as Record<string, unknown>
    },
  }
}

function expectNoPlaintext(wire: ReturnType<typeof recordingFetch>, ...texts: string[]): void {
  expect(wire.bodies.length).toBeGreaterThan(0)
  for (const text of [...wire.bodies, ...wire.responses]) {
    for (const secret of texts) expect(text).not.toContain(secret)
  }
}

describe.each(frameworks)('openai SDK via $name', (harness) => {
  const { upstream, recordedClient, lastUpstreamBody } = useApp(harness)

  it('completes a chat; only ciphertext crosses the wire and upstream gets the decrypted body', async () => {
    const { wire, client } = recordedClient()
    const answer = await client.chat.completions.create({
      model: 'llama-3-8b',
      max_tokens: 50,
      messages: [{ role: 'user', content: SECRET }],
    })
    expect(answer.choices[0]?.message.content).toBe(replyFor(SECRET))
    expect(answer.usage?.total_tokens).toBe(57)
    expectNoPlaintext(wire, SECRET, 'launch code')
    expect(wire.bodies[0]).toContain(`cp2.${KEY_ID}.`)
    expect(JSON.parse(wire.bodies[0]!).model).toBe('llama-3-8b')
    expect(lastUpstreamBody()).toMatchObject({
      model: 'llama-3-8b',
      max_tokens: 50,
      messages: [{ role: 'user', content: SECRET }],
    })
    expect(upstream().requests.at(-1)?.url).toBe('/v1/chat/completions')
  })

  it('streams a chat completion', async () => {
    const { wire, client } = recordedClient()
    const stream = await client.chat.completions.create({
      model: 'llama-3-8b',
      stream: true,
      messages: [{ role: 'user', content: SECRET }],
    })
    let text = ''
    let finish: string | null | undefined
    for await (const part of stream) {
      text += part.choices[0]?.delta.content ?? ''
      finish = part.choices[0]?.finish_reason ?? finish
    }
    await wire.settled()
    expect(text).toBe(replyFor(SECRET))
    expect(finish).toBe('stop')
    expect(wire.responses[0]).toContain('event: continuum.end')
    expect(wire.responses[0]).toContain('data: [DONE]')
    expectNoPlaintext(wire, 'launch code', 'nobody')
  })
})

describe('openai SDK in process', () => {
  const harness = inProcess
  const { app, upstream, recordedClient, lastUpstreamBody } = useApp(harness)

  it('answers tool calls, JSON and streamed as argument deltas', async () => {
    const { wire, client } = recordedClient()
    const tools = [
      {
        type: 'function' as const,
        function: {
          name: 'lookup',
          description: 'Look up the launch registry',
          parameters: { type: 'object', properties: { query: { type: 'string' } } },
        },
      },
    ]
    const answer = await client.chat.completions.create({
      model: 'tool-call',
      tools,
      messages: [{ role: 'user', content: SECRET }],
    })
    const call = answer.choices[0]?.message.tool_calls?.[0]
    expect(answer.choices[0]?.finish_reason).toBe('tool_calls')
    expect(call?.type === 'function' ? call.function : undefined).toEqual({
      name: 'lookup',
      arguments: toolArgumentsFor(SECRET),
    })
    expect(lastUpstreamBody().tools).toEqual(tools)

    const stream = await client.chat.completions.create({
      model: 'tool-call',
      stream: true,
      tools,
      messages: [{ role: 'user', content: SECRET }],
    })
    let argumentsText = ''
    let deltas = 0
    let name: string | undefined
    for await (const part of stream) {
      const delta = part.choices[0]?.delta.tool_calls?.[0]
      if (delta === undefined) continue
      deltas++
      name ??= delta.function?.name
      argumentsText += delta.function?.arguments ?? ''
    }
    await wire.settled()
    expect(name).toBe('lookup')
    expect(deltas).toBeGreaterThan(3)
    expect(argumentsText).toBe(toolArgumentsFor(SECRET))
    expectNoPlaintext(wire, 'launch code', 'Look up the launch registry', '"lookup"')
  })

  it('sends content-part messages', async () => {
    const { wire, client } = recordedClient()
    const answer = await client.chat.completions.create({
      model: 'llama-3-8b',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'tell nobody: ' },
            { type: 'image_url', image_url: { url: 'https://example.test/secret-diagram.png' } },
            { type: 'text', text: 'the launch code is 8675309' },
          ],
        },
      ],
    })
    expect(answer.choices[0]?.message.content).toBe(replyFor(SECRET))
    expect(lastUpstreamBody().messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'tell nobody: ' },
          { type: 'image_url', image_url: { url: 'https://example.test/secret-diagram.png' } },
          { type: 'text', text: 'the launch code is 8675309' },
        ],
      },
    ])
    expectNoPlaintext(wire, 'launch code', 'secret-diagram')
  })

  it('serves /v1/completions, JSON and streamed', async () => {
    const { wire, client } = recordedClient()
    const answer = await client.completions.create({ model: 'llama-3-8b', prompt: SECRET, max_tokens: 20 })
    expect(answer.choices[0]?.text).toBe(replyFor(SECRET))
    expect(lastUpstreamBody()).toMatchObject({ prompt: SECRET, max_tokens: 20 })
    const stream = await client.completions.create({ model: 'llama-3-8b', prompt: SECRET, stream: true })
    let text = ''
    for await (const part of stream) text += part.choices[0]?.text ?? ''
    await wire.settled()
    expect(text).toBe(replyFor(SECRET))
    expectNoPlaintext(wire, 'launch code')
  })

  it('serves /v1/embeddings with each vector encrypted', async () => {
    const { wire, client } = recordedClient()
    const answer = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: [SECRET, 'second input'],
      encoding_format: 'float',
    })
    expect(answer.data.map((item) => item.embedding)).toEqual([
      [SECRET.length / 10, 0.5, -0.25],
      [1.2, 0.5, -0.25],
    ])
    expect(lastUpstreamBody().input).toEqual([SECRET, 'second input'])
    expectNoPlaintext(wire, 'launch code', 'second input', '-0.25')
  })

  it('serves /v1/responses as JSON and as named SSE events', async () => {
    const { wire, client } = recordedClient()
    const answer = await client.responses.create({ model: 'gpt-4.1', input: SECRET })
    expect(answer.output_text).toBe(replyFor(SECRET))
    expect(answer.status).toBe('completed')
    expect(lastUpstreamBody().input).toBe(SECRET)

    const stream = await client.responses.create({ model: 'gpt-4.1', input: SECRET, stream: true })
    const types: string[] = []
    let text = ''
    for await (const event of stream) {
      types.push(event.type)
      if (event.type === 'response.output_text.delta') text += event.delta
    }
    await wire.settled()
    expect(text).toBe(replyFor(SECRET))
    expect(types[0]).toBe('response.created')
    expect(types.at(-1)).toBe('response.completed')
    const streamed = wire.responses.at(-1) ?? ''
    // The client asks for batch frames: the event names travel inside their ciphertext.
    expect(streamed).toContain('event: continuum.batch\n')
    expect(streamed).not.toContain('event: response.output_text.delta\n')
    expect(streamed).toContain('event: continuum.end\n')
    expectNoPlaintext(wire, 'launch code')
  })

  it('lists models in plain, untouched', async () => {
    const { wire, client } = recordedClient()
    const models = await client.models.list()
    expect(models.data.map((model) => model.id)).toEqual([VLLM_MODEL])
    // Untouched: byte for byte what the upstream sent, its pretty-printing included.
    expect(wire.responses[0]).toBe(transcript('vllm', 'models.json'))
    const raw = await send(app(), 'GET', '/v1/models')
    expect(raw.status).toBe(200)
    expect(raw.headers['x-continuum-encrypted']).toBeUndefined()
    expect(raw.body.data[0].id).toBe(VLLM_MODEL)
  })

  it('keeps 24 concurrent streams apart', async () => {
    const client = openaiClient(app())
    const prompts = Array.from({ length: 24 }, (_, index) => `${SECRET} #${index}`)
    const texts = await Promise.all(
      prompts.map(async (prompt, index) => {
        const stream = await client.chat.completions.create({
          model: 'llama-3-8b',
          stream: index % 2 === 0,
          messages: [{ role: 'user', content: prompt }],
        })
        if (!('controller' in stream)) return stream.choices[0]?.message.content
        let text = ''
        for await (const part of stream) text += part.choices[0]?.delta.content ?? ''
        return text
      }),
    )
    expect(texts).toEqual(prompts.map(replyFor))
  })

  it("with encryption 'optional', serves the plain SDK in plain and the encrypting one encrypted", async () => {
    const optional = await harness.start({
      upstream: upstream().url,
      keys: sharedKeys(),
      encryption: 'optional',
    })
    try {
      const plain = new OpenAI({
        baseURL: `${optional.url}/v1`,
        apiKey: 'sk-conformance',
        maxRetries: 0,
        fetch: optional.fetch,
      })
      const answer = await plain.chat.completions.create({
        model: 'llama-3-8b',
        messages: [{ role: 'user', content: 'plain question' }],
      })
      expect(answer.choices[0]?.message.content).toBe(replyFor('plain question'))
      const wire = recordingFetch(app().fetch)
      const encrypted = openaiClient(optional, { keyId: KEY_ID, key: KEY, fetch: wire.fetch })
      const secret = await encrypted.chat.completions.create({
        model: 'llama-3-8b',
        messages: [{ role: 'user', content: SECRET }],
      })
      expect(secret.choices[0]?.message.content).toBe(replyFor(SECRET))
      expect(wire.responses[0]).not.toContain('launch code')
    } finally {
      await optional.close()
    }
  })
})
