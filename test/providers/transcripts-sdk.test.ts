/**
 * Checks the fake servers' transcripts against the providers' official SDKs: if `openai` and
 * `@anthropic-ai/sdk` parse them into the documented objects, the transcripts follow the real wire
 * format and the provider tests that replay them test the real protocol.
 */
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startAnthropicServer } from '../kit/anthropic'
import { openaiDialect, startOpenAIServer } from '../kit/openai'
import type { FakeUpstream } from '../kit/server'
import { weatherTool } from './openai-fixtures'

describe('transcripts read by the official SDKs', () => {
  let openaiFake: FakeUpstream
  let anthropicFake: FakeUpstream
  beforeAll(async () => {
    openaiFake = await startOpenAIServer(openaiDialect('sk-sdk'))
    anthropicFake = await startAnthropicServer('sk-ant-sdk')
  })
  afterAll(async () => {
    await openaiFake.close()
    await anthropicFake.close()
  })

  it('openai parses the chat completion, the streamed tool calls and the embeddings', async () => {
    const client = new OpenAI({ apiKey: 'sk-sdk', baseURL: `${openaiFake.url}/v1`, maxRetries: 0 })
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hello!' }],
    })
    expect(completion.choices[0]?.message.content).toBe('Hello! How can I assist you today?')
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Weather?' }],
      tools: [{ type: 'function', function: weatherTool }],
      stream: true,
      stream_options: { include_usage: true },
    })
    let argumentsText = ''
    let usage: unknown
    for await (const chunk of stream) {
      argumentsText +=
        chunk.choices[0]?.delta.tool_calls?.[0]?.index === 0
          ? (chunk.choices[0].delta.tool_calls[0].function?.arguments ?? '')
          : ''
      if (chunk.usage) usage = chunk.usage
    }
    expect(JSON.parse(argumentsText)).toEqual({ location: 'Paris, France' })
    expect(usage).toMatchObject({ prompt_tokens: 88, completion_tokens: 31 })
    const embeddings = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['a', 'b'],
      encoding_format: 'float',
    })
    expect(embeddings.data).toHaveLength(2)
  })

  it('anthropic parses the message and accumulates the streamed tool use', async () => {
    const client = new Anthropic({ apiKey: 'sk-ant-sdk', baseURL: anthropicFake.url, maxRetries: 0 })
    const message = await client.messages.create({
      model: 'claude-sonnet-4-20250514',
      max_tokens: 1024,
      messages: [{ role: 'user', content: 'Hello, Claude' }],
    })
    expect(message.content[0]).toMatchObject({ type: 'text', text: 'Hi! My name is Claude.' })
    const final = await client.messages
      .stream({
        model: 'claude-sonnet-4-20250514',
        max_tokens: 1024,
        messages: [{ role: 'user', content: 'Weather?' }],
        tools: [{ name: weatherTool.name, input_schema: weatherTool.parameters as never }],
      })
      .finalMessage()
    expect(final.stop_reason).toBe('tool_use')
    expect(final.content[1]).toMatchObject({
      type: 'tool_use',
      name: 'get_weather',
      input: { location: 'San Francisco, CA', unit: 'fahrenheit' },
    })
    expect(final.usage.output_tokens).toBe(89)
  })
})
