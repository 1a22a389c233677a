/**
 * Client input at the edge of what the official SDKs send, through the gateway on a real Express
 * socket to a provider of the other dialect. Parameters the SDK's types allow as `null` ask for
 * the default and are served; parameters of the wrong type are refused with 400
 * CONTINUUM_SCHEMA_VIOLATION naming the path, before any provider is called, instead of being
 * dropped on the way to a provider that does not speak the client's dialect.
 */
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { describe, expect, it } from 'vitest'

import { anthropicClient, expressGateway, openaiClient } from './support'

describe('client input through the gateway', () => {
  const gateway = expressGateway()

  it("serves the OpenAI SDK's nullable parameters sent as null, as their defaults", async () => {
    const openai = openaiClient(gateway.app.url, false)
    const answer = await openai.chat.completions.create({
      model: 'claude',
      messages: [{ role: 'user', content: 'Hi' }],
      temperature: null,
      top_p: null,
      max_tokens: null,
      max_completion_tokens: null,
      n: null,
      stream: null,
    })
    expect(answer.choices[0]?.message.content).toBe('Hi! My name is Claude.')
    const sent = gateway.fakes.anthropic.requests.at(-1)?.json()
    expect(sent).not.toHaveProperty('temperature')
    expect(sent).not.toHaveProperty('top_p')
    expect(sent).not.toHaveProperty('stream')

    const response = await openai.responses.create({
      model: 'claude',
      input: 'Hi',
      max_output_tokens: null,
      stream: null,
    })
    expect(response.output_text).toBe('Hi! My name is Claude.')
  })

  it.each([
    ['stop', 5],
    ['parallel_tool_calls', 'false'],
    ['stream_options', 'include_usage'],
    ['seed', '42'],
    ['presence_penalty', '0.5'],
    ['reasoning_effort', 5],
    ['response_format', 'json_object'],
    ['tool_choice', 7],
    ['user', 5],
  ])('refuses an OpenAI `%s` of the wrong type rather than dropping it', async (parameter, value) => {
    const before = gateway.fakes.anthropic.requests.length
    const failure = await openaiClient(gateway.app.url, false)
      .chat.completions.create({
        model: 'claude',
        messages: [{ role: 'user', content: 'Hi' }],
        [parameter]: value,
      } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming)
      .catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(OpenAI.BadRequestError)
    expect(failure).toMatchObject({ status: 400, code: 'CONTINUUM_SCHEMA_VIOLATION' })
    expect((failure as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({ path: `/${parameter}` })
    expect(gateway.fakes.anthropic.requests.length).toBe(before)
  })

  it.each([
    ['thinking', 'enabled'],
    ['output_config', 'json'],
  ])('refuses an Anthropic `%s` of the wrong type rather than dropping it', async (parameter, value) => {
    const before = gateway.fakes.vllm.requests.length
    const failure = await anthropicClient(gateway.app.url, false)
      .messages.create({
        model: 'llama',
        max_tokens: 16,
        messages: [{ role: 'user', content: 'Hi' }],
        [parameter]: value,
      } as unknown as Anthropic.MessageCreateParamsNonStreaming)
      .catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(Anthropic.BadRequestError)
    expect((failure as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
      error: { code: 'CONTINUUM_SCHEMA_VIOLATION', path: `/${parameter}` },
    })
    expect(gateway.fakes.vllm.requests.length).toBe(before)
  })
})
