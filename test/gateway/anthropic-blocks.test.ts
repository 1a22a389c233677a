/**
 * Regression: a malformed Anthropic content block in a client's request (a text block without
 * text or with text of another type, an image without its source, a tool_use whose input is not
 * an object, a tool_result whose content is neither text nor blocks) was taken for a block only
 * Anthropic reads, and refused with CONTINUUM_NOT_SUPPORTED for other providers (and forwarded
 * as it was to Anthropic). It is 400 CONTINUUM_SCHEMA_VIOLATION naming the path, for every
 * provider, before any is called. A well-formed block of a type only Anthropic reads (a document,
 * an image by file id) is still refused by its path for a provider of another dialect. Through
 * the official Anthropic SDK on a real Express socket.
 */
import Anthropic from '@anthropic-ai/sdk'
import { describe, expect, it } from 'vitest'

import { anthropicClient, expressGateway } from './support'

const SECRET = 'the vault combination is 31-41-59'

type Message = { role: 'user' | 'assistant'; content: unknown }

const question: Message = { role: 'user', content: 'Weather?' }
const asked: Message = {
  role: 'assistant',
  content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }],
}

/** Each malformed block, the conversation it is in, and the path the refusal names. */
const MALFORMED: [string, Message[], string][] = [
  [
    'a text block without text',
    [{ role: 'user', content: [{ type: 'text' }] }],
    'messages[0].content[0].text',
  ],
  [
    'a text block whose text is a number',
    [{ role: 'user', content: [{ type: 'text', text: 42 }] }],
    'messages[0].content[0].text',
  ],
  [
    'a text block whose text is an object',
    [{ role: 'user', content: [{ type: 'text', text: { secret: SECRET } }] }],
    'messages[0].content[0].text',
  ],
  [
    'an image block without source',
    [{ role: 'user', content: [{ type: 'image' }] }],
    'messages[0].content[0].source',
  ],
  [
    'an image block whose source is text',
    [{ role: 'user', content: [{ type: 'image', source: SECRET }] }],
    'messages[0].content[0].source',
  ],
  [
    'a base64 image without data',
    [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png' } }] }],
    'messages[0].content[0].source.data',
  ],
  [
    'a url image whose url is a number',
    [{ role: 'user', content: [{ type: 'image', source: { type: 'url', url: 7 } }] }],
    'messages[0].content[0].source.url',
  ],
  [
    "an assistant's text block without text",
    [question, { role: 'assistant', content: [{ type: 'text' }] }, { role: 'user', content: 'And?' }],
    'messages[1].content[0].text',
  ],
  [
    'a tool_use whose input is text',
    [
      question,
      {
        role: 'assistant',
        content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: SECRET }],
      },
      { role: 'user', content: 'And?' },
    ],
    'messages[1].content[0].input',
  ],
  [
    'a tool_result whose content is a number',
    [
      question,
      asked,
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 5 }] },
    ],
    'messages[2].content[0].content',
  ],
  [
    'a tool_result with a text block without text',
    [
      question,
      asked,
      {
        role: 'user',
        content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text' }] }],
      },
    ],
    'messages[2].content[0].content[0].text',
  ],
]

describe('malformed Anthropic content blocks through the gateway', () => {
  const gateway = expressGateway()

  const calls = () => gateway.fakes.vllm.requests.length + gateway.fakes.anthropic.requests.length

  function send(model: string, messages: Message[]): Promise<unknown> {
    return anthropicClient(gateway.app.url, false)
      .messages.create({
        model,
        max_tokens: 16,
        messages,
        tools: [{ name: 'get_weather', input_schema: { type: 'object' } }],
      } as unknown as Anthropic.MessageCreateParamsNonStreaming)
      .catch((error: unknown) => error)
  }

  describe.each(['llama', 'claude'])('to %s', (model) => {
    it.each(MALFORMED)('refuses %s as a schema violation', async (_name, messages, path) => {
      const before = calls()
      const failure = await send(model, messages)
      expect(failure).toBeInstanceOf(Anthropic.BadRequestError)
      const body = (failure as InstanceType<typeof Anthropic.APIError>).error as Record<string, unknown>
      expect(body).toMatchObject({ error: { code: 'CONTINUUM_SCHEMA_VIOLATION', path } })
      expect(JSON.stringify(body)).not.toContain('vault')
      expect(calls()).toBe(before)
    })
  })

  it.each([
    [
      'a document block',
      { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'A memo' } },
      'messages[0].content[0] (document)',
    ],
    [
      'an image by file id',
      { type: 'image', source: { type: 'file', file_id: 'file_011' } },
      'messages[0].content[0].source',
    ],
  ])('still refuses %s, well-formed, as not supported for another dialect', async (_name, block, path) => {
    const before = calls()
    const failure = await send('llama', [{ role: 'user', content: [block] }])
    expect(failure).toBeInstanceOf(Anthropic.BadRequestError)
    expect((failure as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
      error: { code: 'CONTINUUM_NOT_SUPPORTED' },
    })
    expect(JSON.stringify((failure as InstanceType<typeof Anthropic.APIError>).error)).toContain(path)
    expect(calls()).toBe(before)
  })
})
