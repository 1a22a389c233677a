/**
 * The gateway through the real Express, Koa and Fastify bindings (`continuum({ router })`), with the
 * official `openai` and `@anthropic-ai/sdk` clients, with and without field encryption. The router
 * runs the real provider clients against the fakes in test/kit, so each request crosses two
 * dialects: OpenAI-format clients reach the Anthropic, Bedrock and OpenAI providers, and
 * Anthropic-format clients reach the vLLM and OpenAI providers. Encrypted runs record the wire and
 * prove no prompt or answer crossed it in plaintext.
 */
import Anthropic from '@anthropic-ai/sdk'
import type { InferenceRouter } from 'continuum-proxy/router'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningApp, rootFrameworks } from '../conformance/frameworks'
import { recordingFetch } from '../conformance/support'
import {
  anthropicClient,
  CLAUDE_MODEL,
  type Fakes,
  fakeRouter,
  GEMINI_MODEL,
  gatewayKeys,
  LLAMA_MODEL,
  openaiClient,
  startFakes,
} from './support'

const SECRET = 'the vault combination is 31-41-59'

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather of a place',
    parameters: { type: 'object', properties: { location: { type: 'string' } } },
  },
}

const anthropicWeatherTool = {
  name: 'get_weather',
  description: 'Weather of a place',
  input_schema: { type: 'object' as const, properties: { location: { type: 'string' } } },
}

const cases = rootFrameworks.flatMap((harness) => [
  { harness, name: harness.name, encrypted: true },
  { harness, name: harness.name, encrypted: false },
])

describe.each(cases)('gateway via $name (encrypted: $encrypted)', ({ harness, encrypted }) => {
  let fakes: Fakes
  let router: InferenceRouter
  let app: RunningApp

  beforeAll(async () => {
    fakes = await startFakes()
    router = fakeRouter(fakes)
    app = await harness.start({ router, ...(encrypted ? { keys: gatewayKeys() } : {}) })
  })

  afterAll(async () => {
    await app.close()
    await router.close()
    await fakes.close()
  })

  function recorded(): { wire: ReturnType<typeof recordingFetch>; openai: OpenAI; anthropic: Anthropic } {
    const wire = recordingFetch()
    return {
      wire,
      openai: openaiClient(app.url, encrypted, wire.fetch),
      anthropic: anthropicClient(app.url, encrypted, wire.fetch),
    }
  }

  async function expectWire(wire: ReturnType<typeof recordingFetch>, ...texts: string[]): Promise<void> {
    await wire.settled()
    const all = [...wire.bodies, ...wire.responses].join('\n')
    for (const text of texts) {
      if (encrypted) expect(all).not.toContain(text)
      else expect(all).toContain(text)
    }
  }

  it('answers an OpenAI chat from the Anthropic provider', async () => {
    const { wire, openai } = recorded()
    const answer = await openai.chat.completions.create({
      model: 'claude',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: SECRET },
      ],
    })
    expect(answer.object).toBe('chat.completion')
    expect(answer.model).toBe('claude')
    expect(answer.choices[0]?.message).toMatchObject({ role: 'assistant', content: 'Hi! My name is Claude.' })
    expect(answer.choices[0]?.finish_reason).toBe('stop')
    expect(answer.usage).toMatchObject({ prompt_tokens: 2095, completion_tokens: 503, total_tokens: 2598 })
    expect(fakes.anthropic.requests.at(-1)?.json()).toMatchObject({
      model: CLAUDE_MODEL,
      system: 'Be brief.',
      messages: [{ role: 'user', content: SECRET }],
    })
    await expectWire(wire, SECRET, 'My name is Claude')
  })

  it('streams Anthropic tool use to the OpenAI SDK as tool-call deltas, with usage', async () => {
    const { wire, openai } = recorded()
    const stream = await openai.chat.completions.create({
      model: 'claude',
      stream: true,
      stream_options: { include_usage: true },
      tools: [weatherTool],
      messages: [{ role: 'user', content: SECRET }],
    })
    let text = ''
    let finish: string | null | undefined
    let usage: OpenAI.CompletionUsage | null | undefined
    const calls: Array<{ id?: string; name?: string; arguments: string }> = []
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk')
      usage = chunk.usage ?? usage
      const choice = chunk.choices[0]
      if (choice === undefined) continue
      text += choice.delta.content ?? ''
      finish = choice.finish_reason ?? finish
      for (const call of choice.delta.tool_calls ?? []) {
        const entry = calls[call.index] ?? { arguments: '' }
        calls[call.index] = entry
        if (call.id !== undefined) entry.id = call.id
        if (call.function?.name !== undefined) entry.name = call.function.name
        entry.arguments += call.function?.arguments ?? ''
      }
    }
    expect(text).toBe("Okay, let's check the weather for San Francisco, CA:")
    expect(finish).toBe('tool_calls')
    expect(calls.map((call) => [call.id, call.name])).toEqual([
      ['toolu_01T1x1fJ34qAmk2tNTrN7Up6', 'get_weather'],
      ['toolu_01VnUuGmRtwBqfLnVmhvzN6n', 'get_time'],
    ])
    expect(JSON.parse(calls[0]!.arguments)).toMatchObject({ location: 'San Francisco, CA' })
    expect(JSON.parse(calls[1]!.arguments)).toEqual({})
    expect(usage).toMatchObject({ prompt_tokens: 472, completion_tokens: 89 })
    expect(fakes.anthropic.requests.at(-1)?.json().tools).toEqual([
      {
        name: 'get_weather',
        description: 'Weather of a place',
        input_schema: weatherTool.function.parameters,
      },
    ])
    await expectWire(wire, SECRET, 'San Francisc')
    if (encrypted) expect(wire.responses.at(-1)).toContain('data: [DONE]')
  })

  it('answers the OpenAI SDK from Bedrock, JSON, tool calls and streamed', async () => {
    const { openai } = recorded()
    const answer = await openai.chat.completions.create({
      model: 'bedrock-claude',
      messages: [{ role: 'user', content: SECRET }],
    })
    expect(answer.choices[0]?.message.content).toBe("Hello! I'm doing well, thank you for asking.")
    expect(answer.usage).toMatchObject({ prompt_tokens: 30, completion_tokens: 14 })

    const tools = await openai.chat.completions.create({
      model: 'bedrock-claude',
      tools: [weatherTool],
      messages: [{ role: 'user', content: SECRET }],
    })
    const call = tools.choices[0]?.message.tool_calls?.[0]
    expect(tools.choices[0]?.finish_reason).toBe('tool_calls')
    expect(
      call?.type === 'function' ? [call.id, call.function.name, JSON.parse(call.function.arguments)] : [],
    ).toEqual(['tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', 'top_song', { sign: 'WZPZ' }])

    const stream = await openai.chat.completions.create({
      model: 'bedrock-claude',
      stream: true,
      messages: [{ role: 'user', content: SECRET }],
    })
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
    expect(text).toBe('Hello! How can I help?')
  })

  it('answers the OpenAI SDK from Vertex (Gemini), JSON, parallel tool calls and streamed', async () => {
    const { wire, openai } = recorded()
    const answer = await openai.chat.completions.create({
      model: 'gemini',
      messages: [{ role: 'user', content: SECRET }],
    })
    expect(answer.choices[0]?.message.content).toBe('The sky appears blue because of Rayleigh scattering.')
    expect(fakes.vertex.requests.at(-1)?.url).toContain(`/models/${GEMINI_MODEL}:generateContent`)

    const tools = await openai.chat.completions.create({
      model: 'gemini',
      tools: [weatherTool],
      messages: [{ role: 'user', content: SECRET }],
    })
    const calls = tools.choices[0]?.message.tool_calls ?? []
    expect(tools.choices[0]?.finish_reason).toBe('tool_calls')
    expect(
      calls.map((call) =>
        call.type === 'function' ? [call.function.name, JSON.parse(call.function.arguments)] : [],
      ),
    ).toEqual([
      ['get_current_weather', { location: 'Boston, MA' }],
      ['get_current_weather', { location: 'San Francisco, CA' }],
    ])
    expect(new Set(calls.map((call) => call.id)).size).toBe(2)

    const stream = await openai.chat.completions.create({
      model: 'gemini',
      stream: true,
      messages: [{ role: 'user', content: SECRET }],
    })
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
    expect(text).toBe('The sky appears blue because of Rayleigh scattering.')
    await expectWire(wire, SECRET, 'Rayleigh scattering')
  })

  it('streams Vertex tool calls to the Anthropic SDK as tool_use blocks', async () => {
    const { anthropic } = recorded()
    const message = await anthropic.messages
      .stream({
        model: 'gemini',
        max_tokens: 64,
        tools: [anthropicWeatherTool],
        messages: [{ role: 'user', content: SECRET }],
      })
      .finalMessage()
    expect(message.stop_reason).toBe('tool_use')
    expect(message.content).toEqual([
      expect.objectContaining({
        type: 'tool_use',
        name: 'get_current_weather',
        input: { location: 'Boston, MA' },
      }),
    ])
  })

  it('answers the Anthropic SDK from the vLLM provider', async () => {
    const { wire, anthropic } = recorded()
    const message = await anthropic.messages.create({
      model: 'llama',
      max_tokens: 64,
      system: 'Be brief.',
      messages: [{ role: 'user', content: SECRET }],
    })
    expect(message).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'llama',
      stop_reason: 'end_turn',
      usage: { input_tokens: 42, output_tokens: 15 },
    })
    expect(message.content).toEqual([
      { type: 'text', text: 'The sky looks blue because air scatters short wavelengths more strongly.' },
    ])
    expect(fakes.vllm.requests.at(-1)?.json()).toMatchObject({
      model: LLAMA_MODEL,
      max_tokens: 64,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: SECRET },
      ],
    })
    await expectWire(wire, SECRET, 'scatters short wavelengths')
  })

  it('streams vLLM text to the Anthropic SDK with messages.stream()', async () => {
    const { wire, anthropic } = recorded()
    const stream = anthropic.messages.stream({
      model: 'llama',
      max_tokens: 64,
      messages: [{ role: 'user', content: SECRET }],
    })
    const message = await stream.finalMessage()
    expect(message.content).toEqual([{ type: 'text', text: 'Rayleigh scattering.' }])
    expect(message.stop_reason).toBe('end_turn')
    expect(message.model).toBe('llama')
    await expectWire(wire, SECRET, 'Rayleigh')
    if (encrypted) expect(wire.responses.at(-1)).toContain('event: continuum.end')
  })

  it('gives the Anthropic SDK tool_use blocks from an OpenAI-format provider, JSON and streamed, and takes tool results back', async () => {
    const { anthropic } = recorded()
    const message = await anthropic.messages.create({
      model: 'gpt-4o-mini',
      max_tokens: 64,
      tools: [anthropicWeatherTool],
      tool_choice: { type: 'auto' },
      messages: [{ role: 'user', content: SECRET }],
    })
    expect(message.stop_reason).toBe('tool_use')
    expect(message.content).toEqual([
      { type: 'tool_use', id: 'call_abc123', name: 'get_current_weather', input: { location: 'Boston, MA' } },
    ])
    expect(fakes.openai.requests.at(-1)?.json()).toMatchObject({
      tools: [
        {
          type: 'function',
          function: { name: 'get_weather', parameters: anthropicWeatherTool.input_schema },
        },
      ],
      tool_choice: 'auto',
    })

    const streamed = await anthropic.messages
      .stream({
        model: 'gpt-4o-mini',
        max_tokens: 64,
        tools: [anthropicWeatherTool],
        messages: [{ role: 'user', content: SECRET }],
      })
      .finalMessage()
    expect(streamed.stop_reason).toBe('tool_use')
    expect(streamed.content).toEqual([
      {
        type: 'tool_use',
        id: 'call_DdmO9pD3xa9XTPNJ32zg2hcA',
        name: 'get_weather',
        input: { location: 'Paris, France' },
      },
      expect.objectContaining({ type: 'tool_use', name: 'get_time', input: { zone: 'CET' } }),
    ])
    expect(streamed.usage).toMatchObject({ output_tokens: 31 })

    await anthropic.messages.create({
      model: 'gpt-4o-mini',
      max_tokens: 64,
      tools: [anthropicWeatherTool],
      messages: [
        { role: 'user', content: SECRET },
        { role: 'assistant', content: message.content as Anthropic.ContentBlockParam[] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_abc123', content: '21°C' }] },
      ],
    })
    expect(fakes.openai.requests.at(-1)?.json().messages).toEqual([
      { role: 'user', content: SECRET },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_abc123',
            type: 'function',
            function: { name: 'get_current_weather', arguments: '{"location":"Boston, MA"}' },
          },
        ],
      },
      { role: 'tool', content: '21°C', tool_call_id: 'call_abc123' },
    ])
  })

  it('serves embeddings to the OpenAI SDK (its default base64 encoding and floats)', async () => {
    const { wire, openai } = recorded()
    const result = await openai.embeddings.create({ model: 'text-embedding-3-small', input: [SECRET, 'b'] })
    expect(result.data.map((item) => item.index)).toEqual([0, 1])
    const first = result.data[0]!.embedding
    expect(first).toHaveLength(3)
    expect(first[0]).toBeCloseTo(0.0023064255, 7)
    expect(result.data[1]!.embedding[2]).toBeCloseTo(0.0789, 6)
    expect(result.usage).toEqual({ prompt_tokens: 8, total_tokens: 8 })
    const floats = await openai.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['one', 'two'],
      encoding_format: 'float',
    })
    expect(floats.data[0]?.embedding).toEqual([0.0023064255, -0.009327292, -0.0028842222])
    expect(fakes.openai.requests.at(-1)?.json()).toMatchObject({
      input: ['one', 'two'],
      encoding_format: 'float',
    })
    await expectWire(wire, SECRET)
  })

  it("lists the router's models in each SDK's shape", async () => {
    const { openai, anthropic } = recorded()
    const listed = []
    for await (const model of openai.models.list()) listed.push(model)
    expect(listed.map((model) => model.id)).toEqual(
      expect.arrayContaining(['claude', 'llama', 'bedrock-claude', 'gpt-4o-mini', 'text-embedding-3-small']),
    )
    expect(listed.find((model) => model.id === 'claude')).toMatchObject({
      object: 'model',
      owned_by: 'claude',
    })
    expect(await openai.models.retrieve('llama')).toMatchObject({ id: 'llama', owned_by: 'local-vllm' })
    const anthropicModels = []
    for await (const model of anthropic.models.list()) anthropicModels.push(model)
    expect(anthropicModels.map((model) => model.id)).toContain('claude')
    expect(anthropicModels[0]).toMatchObject({ type: 'model' })
    await expect(openai.models.retrieve('nope')).rejects.toMatchObject({
      status: 404,
      code: 'CONTINUUM_MODEL_NOT_FOUND',
    })
  })

  it("maps router errors to each dialect's error shape and status, with our code", async () => {
    const { openai, anthropic } = recorded()
    const openaiFailure = await openai.chat.completions
      .create({ model: 'no-such-model', messages: [{ role: 'user', content: SECRET }] })
      .catch((error: unknown) => error)
    expect(openaiFailure).toBeInstanceOf(OpenAI.NotFoundError)
    expect(openaiFailure).toMatchObject({
      status: 404,
      code: 'CONTINUUM_MODEL_NOT_FOUND',
      type: 'not_found_error',
    })
    expect(String((openaiFailure as Error).message)).not.toContain(SECRET)

    const anthropicFailure = await anthropic.messages
      .create({ model: 'no-such-model', max_tokens: 8, messages: [{ role: 'user', content: SECRET }] })
      .catch((error: unknown) => error)
    expect(anthropicFailure).toBeInstanceOf(Anthropic.NotFoundError)
    expect((anthropicFailure as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
      type: 'error',
      error: { type: 'not_found_error', code: 'CONTINUUM_MODEL_NOT_FOUND' },
    })

    const unsupported = await openai.chat.completions
      .create({ model: 'claude', n: 2, messages: [{ role: 'user', content: SECRET }] })
      .catch((error: unknown) => error)
    expect(unsupported).toMatchObject({ status: 400, code: 'CONTINUUM_NOT_SUPPORTED' })

    const noEmbeddings = await openai.embeddings
      .create({ model: 'claude', input: 'x' })
      .catch((error: unknown) => error)
    expect(noEmbeddings).toMatchObject({ status: 400, code: 'CONTINUUM_NOT_SUPPORTED' })
  })

  it('refuses routes the router does not serve with 501 in the dialect', async () => {
    const { openai } = recorded()
    const failure = await openai.completions
      .create({ model: 'claude', prompt: SECRET })
      .catch((error: unknown) => error)
    expect(failure).toMatchObject({ status: 501, code: 'CONTINUUM_ROUTE_NOT_SUPPORTED' })
  })

  it('drains cleanly when the client stops reading mid-stream', async () => {
    const { openai } = recorded()
    const stream = await openai.chat.completions.create({
      model: 'claude',
      stream: true,
      messages: [{ role: 'user', content: SECRET }],
    })
    for await (const _ of stream) break
    // The next request still works: nothing was left hanging in the router or provider pool.
    const answer = await openai.chat.completions.create({
      model: 'claude',
      messages: [{ role: 'user', content: 'x' }],
    })
    expect(answer.choices[0]?.message.content).toBe('Hi! My name is Claude.')
  })
})
