/**
 * Regression: an Anthropic-format tool whose `input_schema` is not a JSON Schema object (a string,
 * an array, a number, a boolean) was sent on to a provider of the other dialect with an empty
 * schema in its place, so the model saw a tool without arguments and the client's mistake went
 * unseen. It is refused with 400 CONTINUUM_SCHEMA_VIOLATION naming the path, in Anthropic's error
 * shape, before any provider is called: translated for vLLM, verbatim for Anthropic, and on
 * count_tokens, through the official Anthropic SDK on a real Express socket. An object schema
 * still reaches vLLM as the function's parameters.
 */
import Anthropic from '@anthropic-ai/sdk'
import { describe, expect, it } from 'vitest'
import { anthropicClient, expressGateway, WRONG_SCHEMAS as WRONG } from './support'

const messages = [{ role: 'user' as const, content: 'Weather?' }]

describe('Anthropic tool input_schema of the wrong type through the gateway', () => {
  const gateway = expressGateway()

  const calls = () => gateway.fakes.vllm.requests.length + gateway.fakes.anthropic.requests.length

  function tools(inputSchema: unknown): Anthropic.Tool[] {
    return [
      { name: 'ok', input_schema: { type: 'object' } },
      { name: 'get_weather', input_schema: inputSchema },
    ] as unknown as Anthropic.Tool[]
  }

  function expectRefused(failure: unknown): void {
    expect(failure).toBeInstanceOf(Anthropic.BadRequestError)
    const body = (failure as InstanceType<typeof Anthropic.APIError>).error as Record<string, unknown>
    expect(body).toEqual({
      type: 'error',
      error: expect.objectContaining({
        type: 'invalid_request_error',
        code: 'CONTINUUM_SCHEMA_VIOLATION',
        path: '/tools/1/input_schema',
      }),
    })
    expect(JSON.stringify(body)).not.toContain('vault')
  }

  describe.each(['llama', 'claude'])('messages for %s', (model) => {
    it.each(WRONG)('refuses %s', async (_name, inputSchema) => {
      const before = calls()
      const failure = await anthropicClient(gateway.app.url, false)
        .messages.create({ model, max_tokens: 16, messages, tools: tools(inputSchema) })
        .catch((error: unknown) => error)
      expectRefused(failure)
      expect(calls()).toBe(before)
    })
  })

  it.each(WRONG)('count_tokens refuses %s', async (_name, inputSchema) => {
    const before = calls()
    const failure = await anthropicClient(gateway.app.url, false)
      .messages.countTokens({ model: 'llama', messages, tools: tools(inputSchema) })
      .catch((error: unknown) => error)
    expectRefused(failure)
    expect(calls()).toBe(before)
  })

  it('carries an object schema to vLLM as the function parameters', async () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }
    const answer = await anthropicClient(gateway.app.url, false).messages.create({
      model: 'llama',
      max_tokens: 16,
      messages,
      tools: tools(schema),
    })
    expect(answer.type).toBe('message')
    const sent = gateway.fakes.vllm.requests.at(-1)?.json() as {
      tools: { function: { parameters: unknown } }[]
    }
    expect(sent.tools.map((tool) => tool.function.parameters)).toEqual([{ type: 'object' }, schema])
  })
})
