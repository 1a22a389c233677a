/**
 * The Responses API through the gateway, on a real Express socket, plain and encrypted, with the
 * three clients that use it by default: the official `openai` SDK (`responses.create`, streams,
 * `responses.parse` with a zod schema), the Vercel AI SDK's `openai()` model, and LangChain's
 * `ChatOpenAI` with `useResponsesApi`. `gpt-4o-mini` is served by an OpenAI provider, which gets
 * the request verbatim at its own `/v1/responses`; `llama` by vLLM (translated to Chat
 * Completions) and `claude` by Anthropic (translated to Messages).
 */

import { createOpenAI } from '@ai-sdk/openai'
import { tool as langchainTool } from '@langchain/core/tools'
import { ChatOpenAI } from '@langchain/openai'
import { generateText, jsonSchema, Output, streamText, tool } from 'ai'
import { createEncryptedFetch } from 'continuum-proxy/client'
import { anthropic, openai, vllm } from 'continuum-proxy/providers'
import { InferenceRouter } from 'continuum-proxy/router'
import type OpenAI from 'openai'
import { zodTextFormat } from 'openai/helpers/zod'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { type RunningApp, rootFrameworks } from '../conformance/frameworks'
import { recordingFetch } from '../conformance/support'
import { startAnthropicServer } from '../kit/anthropic'
import { STRUCTURED_ANSWER, startOpenAIDialectServer, TEXT_ANSWER } from '../kit/openai-dialects'
import { sseFrame } from '../kit/replies'
import type { FakeUpstream } from '../kit/server'
import { ANTHROPIC_KEY, CLAUDE_MODEL, gatewayKeys, KEY, KEY_ID, LLAMA_MODEL, openaiClient } from './support'

const SECRET = 'the vault combination is 31-41-59'
const express = rootFrameworks.find((harness) => harness.name === 'express')!

const weather = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'Weather of a place',
  parameters: {
    type: 'object',
    properties: { location: { type: 'string' } },
    required: ['location'],
    additionalProperties: false,
  },
  strict: true,
}
const weatherSchema = z.object({ city: z.string(), temperature: z.number() })

describe.each([false, true])('the Responses API through the gateway (encrypted: %s)', (encrypted) => {
  let openaiFake: FakeUpstream
  let anthropicFake: FakeUpstream
  let router: InferenceRouter
  let app: RunningApp
  let wire: ReturnType<typeof recordingFetch>

  beforeAll(async () => {
    ;[openaiFake, anthropicFake] = await Promise.all([
      startOpenAIDialectServer(),
      startAnthropicServer(ANTHROPIC_KEY),
    ])
    router = new InferenceRouter({
      providers: [
        openai({
          id: 'openai',
          apiKey: 'sk-upstream',
          baseURL: `${openaiFake.url}/v1`,
          models: ['gpt-4o-mini'],
        }),
        vllm({ id: 'local-vllm', endpoints: [openaiFake.url], models: [LLAMA_MODEL] }),
        anthropic({
          id: 'claude',
          apiKey: ANTHROPIC_KEY,
          baseURL: anthropicFake.url,
          models: [CLAUDE_MODEL],
        }),
      ],
      aliases: { llama: { 'local-vllm': LLAMA_MODEL }, claude: { claude: CLAUDE_MODEL } },
      retry: { maxRetries: 0 },
    })
    app = await express.start({ router, ...(encrypted ? { keys: gatewayKeys() } : {}) })
  })

  afterAll(async () => {
    await app.close()
    await router.close()
    await Promise.all([openaiFake.close(), anthropicFake.close()])
  })

  /** The fetch each client uses: recording the wire, encrypting when the run is encrypted. */
  function clientFetch(): typeof fetch {
    wire = recordingFetch()
    return encrypted ? createEncryptedFetch({ keyId: KEY_ID, key: KEY, fetch: wire.fetch }) : wire.fetch
  }

  /** On an encrypted run the prompt never crossed the wire in clear. */
  async function expectNoPlaintextOnWire(): Promise<void> {
    await wire.settled()
    expect(wire.bodies.length).toBeGreaterThan(0)
    const text = wire.bodies.join('\n')
    if (encrypted) expect(text).not.toContain(SECRET)
    else expect(text).toContain(SECRET)
  }

  function lastBody(fake: FakeUpstream): Record<string, unknown> {
    return fake.requests.at(-1)!.json()
  }

  it('official SDK: an OpenAI provider gets the request verbatim at /v1/responses', async () => {
    const client = openaiClient(app.url, false, clientFetch())
    const request = {
      model: 'gpt-4o-mini',
      instructions: 'Be brief.',
      input: [{ role: 'user' as const, content: SECRET }],
      max_output_tokens: 64,
      store: true,
      metadata: { team: 'a' },
      include: ['message.output_text.logprobs' as const],
    }
    const response = await client.responses.create(request)
    expect(response.output_text).toBe(TEXT_ANSWER)
    expect(response.model).toBe('gpt-4o-mini')
    expect(openaiFake.requests.at(-1)!.url).toBe('/v1/responses')
    // Same dialect: forwarded as sent, Responses-only parameters included.
    expect(lastBody(openaiFake)).toEqual(request)
    await expectNoPlaintextOnWire()
  })

  it('official SDK: translated to Chat Completions for vLLM and to Messages for Anthropic', async () => {
    const client = openaiClient(app.url, false, clientFetch())
    const viaChat = await client.responses.create({
      model: 'llama',
      instructions: 'Be brief.',
      input: SECRET,
    })
    expect(viaChat.output_text).toBe(TEXT_ANSWER)
    expect(viaChat.status).toBe('completed')
    expect(viaChat.usage).toMatchObject({
      input_tokens: 11,
      output_tokens: 7,
      input_tokens_details: { cached_tokens: 4 },
    })
    expect(openaiFake.requests.at(-1)!.url).toBe('/v1/chat/completions')
    expect(lastBody(openaiFake)).toMatchObject({
      model: LLAMA_MODEL,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: SECRET },
      ],
    })
    const viaMessages = await client.responses.create({
      model: 'claude',
      input: SECRET,
      max_output_tokens: 99,
    })
    expect(viaMessages.output_text.length).toBeGreaterThan(0)
    expect(lastBody(anthropicFake)).toMatchObject({ model: CLAUDE_MODEL, max_tokens: 99 })
    await expectNoPlaintextOnWire()
  })

  it('official SDK: a Responses-only parameter is refused for a provider that cannot carry it, by name', async () => {
    const client = openaiClient(app.url, false, clientFetch())
    const failure = await client.responses
      .create({ model: 'claude', input: SECRET, include: ['message.output_text.logprobs'] })
      .then(
        () => ({ status: 200, code: '', message: '' }),
        (error: unknown) => error as { status: number; code: string; message: string },
      )
    expect(failure).toMatchObject({ status: 400, code: 'CONTINUUM_NOT_SUPPORTED' })
    expect(failure.message).toContain('include')
    expect(failure.message).toContain('claude')
    expect(failure.message).not.toContain(SECRET)
  })

  it('official SDK: provider-kept conversation state is refused for every provider (the credential is shared)', async () => {
    const before = openaiFake.requests.length
    const client = openaiClient(app.url, false, clientFetch())
    const failure = await client.responses
      .create({ model: 'gpt-4o-mini', input: SECRET, previous_response_id: 'resp_of_another_caller' })
      .then(
        () => ({ status: 200, code: '', message: '' }),
        (error: unknown) => error as { status: number; code: string; message: string },
      )
    expect(failure).toMatchObject({ status: 400, code: 'CONTINUUM_NOT_SUPPORTED' })
    expect(failure.message).toContain('previous_response_id')
    expect(failure.message).not.toContain(SECRET)
    expect(openaiFake.requests.length).toBe(before)
  })

  it.each(['gpt-4o-mini', 'claude'])('official SDK: streams a tool call from %s', async (model) => {
    const client = openaiClient(app.url, false, clientFetch())
    const stream = await client.responses.create({ model, input: SECRET, tools: [weather], stream: true })
    const types: string[] = []
    let completed: OpenAI.Responses.Response | undefined
    for await (const event of stream) {
      types.push(event.type)
      if (event.type === 'response.completed') completed = event.response
    }
    expect(types[0]).toBe('response.created')
    expect(types).toContain('response.function_call_arguments.delta')
    expect(types.at(-1)).toBe('response.completed')
    const call = completed!.output.find((item) => item.type === 'function_call')
    expect(call?.name).toBe('get_weather')
    expect(JSON.parse(call?.arguments ?? '')).toHaveProperty('location')
    await expectNoPlaintextOnWire()
  })

  it('official SDK: a stream whose provider interleaves parallel tool calls fails, never splits a call in two', async () => {
    const chunk = (call: Record<string, unknown>) =>
      sseFrame({
        id: 'chatcmpl-interleaved',
        object: 'chat.completion.chunk',
        created: 1,
        model: LLAMA_MODEL,
        choices: [{ index: 0, delta: { tool_calls: [call] }, finish_reason: null }],
      })
    const header = (index: number, id: string, name: string) =>
      chunk({ index, id, type: 'function', function: { name, arguments: '' } })
    openaiFake.queue({
      kind: 'chunks',
      headers: { 'content-type': 'text/event-stream' },
      chunks: [
        header(0, 'call_weather', 'get_weather'),
        header(1, 'call_time', 'get_time'),
        chunk({ index: 0, function: { arguments: '{"location":"Paris"}' } }),
        chunk({ index: 1, function: { arguments: '{"zone":"CET"}' } }),
        sseFrame({
          id: 'chatcmpl-interleaved',
          object: 'chat.completion.chunk',
          created: 1,
          model: LLAMA_MODEL,
          choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }],
        }),
        'data: [DONE]\n\n',
      ],
    })
    const client = openaiClient(app.url, false, clientFetch())
    const failure = await client.responses
      .stream({ model: 'llama', input: SECRET, tools: [weather] })
      .finalResponse()
      .catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(Error)
    expect(String((failure as Error).message)).toContain('interleaved tool calls')
  })

  it.each(['gpt-4o-mini', 'llama'])(
    'official SDK: structured output with responses.parse via %s',
    async (model) => {
      const client = openaiClient(app.url, false, clientFetch())
      const parsed = await client.responses.parse({
        model,
        input: SECRET,
        text: { format: zodTextFormat(weatherSchema, 'weather') },
      })
      expect(parsed.output_parsed).toEqual(STRUCTURED_ANSWER)
      if (model === 'llama') {
        expect(lastBody(openaiFake).response_format).toMatchObject({
          type: 'json_schema',
          json_schema: { name: 'weather', strict: true },
        })
      }
    },
  )

  it.each(['gpt-4o-mini', 'llama', 'claude'])(
    'AI SDK openai(): generateText and a streamed tool call via %s',
    async (model) => {
      const provider = createOpenAI({ baseURL: `${app.url}/v1`, apiKey: 'sk-client', fetch: clientFetch() })
      const answer = await generateText({ model: provider(model), prompt: SECRET, maxRetries: 0 })
      expect(answer.text.length).toBeGreaterThan(0)
      if (model !== 'claude') expect(answer.text).toBe(TEXT_ANSWER)
      const result = streamText({
        model: provider(model),
        prompt: SECRET,
        maxRetries: 0,
        tools: {
          get_weather: tool({
            description: 'Weather of a place',
            inputSchema: jsonSchema<{ location: string }>({
              type: 'object',
              properties: { location: { type: 'string' } },
              required: ['location'],
            }),
          }),
        },
      })
      const calls = await result.toolCalls
      expect(calls.map((call) => call.toolName)).toContain('get_weather')
      expect(calls[0]!.input).toHaveProperty('location')
      await expectNoPlaintextOnWire()
    },
  )

  it('AI SDK openai(): structured output via Output.object', async () => {
    const provider = createOpenAI({ baseURL: `${app.url}/v1`, apiKey: 'sk-client', fetch: clientFetch() })
    const answer = await generateText({
      model: provider('gpt-4o-mini'),
      prompt: SECRET,
      maxRetries: 0,
      output: Output.object({ schema: weatherSchema }),
    })
    expect(answer.output).toEqual(STRUCTURED_ANSWER)
    expect(lastBody(openaiFake).text).toMatchObject({ format: { type: 'json_schema' } })
  })

  it.each(['gpt-4o-mini', 'claude'])(
    'LangChain useResponsesApi: invoke, stream, tools and structured output via %s',
    async (model) => {
      const chat = new ChatOpenAI({
        model,
        apiKey: 'sk-client',
        useResponsesApi: true,
        maxRetries: 0,
        configuration: { baseURL: `${app.url}/v1`, fetch: clientFetch() },
      })
      const reply = await chat.invoke(SECRET)
      expect(String(reply.content === '' ? reply.text : reply.text).length).toBeGreaterThan(0)
      let streamed = ''
      for await (const chunk of await chat.stream(SECRET)) streamed += chunk.text
      expect(streamed.length).toBeGreaterThan(0)
      const lookup = langchainTool(async () => 'sunny', {
        name: 'get_weather',
        description: 'Weather of a place',
        schema: z.object({ location: z.string() }),
      })
      const withTools = await chat.bindTools([lookup]).invoke(SECRET)
      expect(withTools.tool_calls?.map((call) => call.name)).toEqual(['get_weather'])
      if (model === 'gpt-4o-mini') {
        const structured = await chat.withStructuredOutput(weatherSchema, { name: 'weather' }).invoke(SECRET)
        expect(structured).toEqual(STRUCTURED_ANSWER)
      }
      await expectNoPlaintextOnWire()
    },
  )
})
