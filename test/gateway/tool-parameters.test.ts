/**
 * Regression: an OpenAI-format tool whose `parameters` is not a JSON Schema object (a string, an
 * array, a number, a boolean) was sent on with an empty schema in its place, so the model saw a
 * tool without arguments and the client's mistake went unseen. It is refused with 400
 * CONTINUUM_SCHEMA_VIOLATION naming the path, before any provider is called, on Chat Completions
 * (translated for Anthropic, verbatim for OpenAI) and the Responses API, through the official SDK
 * on a real Express socket. Absent or null parameters still declare a function without any.
 */
import OpenAI from 'openai'
import { describe, expect, it } from 'vitest'

import { expressGateway, openaiClient, WRONG_SCHEMAS as WRONG } from './support'

describe('OpenAI tool parameters of the wrong type through the gateway', () => {
  const gateway = expressGateway()

  const calls = () => gateway.fakes.anthropic.requests.length + gateway.fakes.openai.requests.length

  function expectRefused(failure: unknown, path: string): void {
    expect(failure).toBeInstanceOf(OpenAI.BadRequestError)
    expect(failure).toMatchObject({ status: 400, code: 'CONTINUUM_SCHEMA_VIOLATION' })
    const error = (failure as InstanceType<typeof OpenAI.APIError>).error as Record<string, unknown>
    expect(error.path).toBe(path)
    expect(JSON.stringify(error)).not.toContain('vault')
  }

  describe.each(['claude', 'gpt-4o-mini'])('chat completions for %s', (model) => {
    it.each(WRONG)('refuses %s', async (_name, parameters) => {
      const before = calls()
      const failure = await openaiClient(gateway.app.url, false)
        .chat.completions.create({
          model,
          messages: [{ role: 'user', content: 'Weather?' }],
          tools: [
            { type: 'function', function: { name: 'ok', parameters: { type: 'object' } } },
            { type: 'function', function: { name: 'get_weather', parameters } },
          ],
        } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming)
        .catch((error: unknown) => error)
      expectRefused(failure, '/tools/1/function/parameters')
      expect(calls()).toBe(before)
    })
  })

  it.each(WRONG)('the Responses API refuses %s', async (_name, parameters) => {
    const before = calls()
    const failure = await openaiClient(gateway.app.url, false)
      .responses.create({
        model: 'claude',
        input: 'Weather?',
        tools: [{ type: 'function', name: 'get_weather', parameters, strict: false }],
      } as unknown as OpenAI.Responses.ResponseCreateParamsNonStreaming)
      .catch((error: unknown) => error)
    expectRefused(failure, 'tools[0].parameters')
    expect(calls()).toBe(before)
  })

  it('serves a function without parameters, or with null ones', async () => {
    const answer = await openaiClient(gateway.app.url, false).chat.completions.create({
      model: 'claude',
      messages: [{ role: 'user', content: 'Hi' }],
      tools: [
        { type: 'function', function: { name: 'now' } },
        { type: 'function', function: { name: 'today', parameters: null } },
      ],
    } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming)
    expect(answer.choices[0]?.message).toBeDefined()
    const sent = gateway.fakes.anthropic.requests.at(-1)?.json() as { tools: { input_schema: unknown }[] }
    expect(sent.tools.map((tool) => tool.input_schema)).toEqual([
      { type: 'object', properties: {} },
      { type: 'object', properties: {} },
    ])
  })
})
