/**
 * Regression: an Anthropic-format tool whose `input_schema` is not a JSON Schema object (a string,
 * an array, a number, a boolean), or a custom tool with none at all (absent or null, which
 * Anthropic's API refuses: only server tools go without one), was sent on to a provider of the other dialect with an empty
 * schema in its place, so the model saw a tool without arguments and the client's mistake went
 * unseen. It is refused with 400 CONTINUUM_SCHEMA_VIOLATION naming the path, in Anthropic's error
 * shape, before any provider is called: translated for vLLM, verbatim for Anthropic, and on
 * count_tokens, through the official Anthropic SDK on a real Express socket. An object schema
 * still reaches vLLM as the function's parameters, and server tools (bash, text editor, computer,
 * web search), which have no `input_schema`, still reach Anthropic as they are.
 */
import Anthropic from '@anthropic-ai/sdk'
import { describe, expect, it } from 'vitest'
import { anthropicClient, expressGateway, WRONG_SCHEMAS as WRONG } from './support'

const messages = [{ role: 'user' as const, content: 'Weather?' }]
// A missing member is reported at the object that lacks it, as for every required member.
const REFUSED = [
  ...WRONG.map(([name, schema]) => [name, schema, '/tools/1/input_schema'] as const),
  ['absent', undefined, '/tools/1'],
  ['null', null, '/tools/1/input_schema'],
] as const

describe('Anthropic tool input_schema of the wrong type through the gateway', () => {
  const gateway = expressGateway()

  const calls = () => gateway.fakes.vllm.requests.length + gateway.fakes.anthropic.requests.length

  function tools(inputSchema: unknown): Anthropic.Tool[] {
    return [
      { name: 'ok', input_schema: { type: 'object' } },
      { name: 'get_weather', input_schema: inputSchema },
    ] as unknown as Anthropic.Tool[]
  }

  function expectRefused(failure: unknown, path: string): void {
    expect(failure).toBeInstanceOf(Anthropic.BadRequestError)
    const body = (failure as InstanceType<typeof Anthropic.APIError>).error as Record<string, unknown>
    expect(body).toEqual({
      type: 'error',
      error: expect.objectContaining({
        type: 'invalid_request_error',
        code: 'CONTINUUM_SCHEMA_VIOLATION',
        path,
        message: expect.stringContaining(path === '/tools/1' ? "'input_schema'" : 'must be object'),
      }),
    })
    expect(JSON.stringify(body)).not.toContain('vault')
  }

  describe.each(['llama', 'claude'])('messages for %s', (model) => {
    it.each(REFUSED)('refuses %s', async (_name, inputSchema, path) => {
      const before = calls()
      const failure = await anthropicClient(gateway.app.url, false)
        .messages.create({ model, max_tokens: 16, messages, tools: tools(inputSchema) })
        .catch((error: unknown) => error)
      expectRefused(failure, path)
      expect(calls()).toBe(before)
    })
  })

  it.each(REFUSED)('count_tokens refuses %s', async (_name, inputSchema, path) => {
    const before = calls()
    const failure = await anthropicClient(gateway.app.url, false)
      .messages.countTokens({ model: 'llama', messages, tools: tools(inputSchema) })
      .catch((error: unknown) => error)
    expectRefused(failure, path)
    expect(calls()).toBe(before)
  })

  it('refuses a custom tool of explicit type "custom" without input_schema', async () => {
    const before = calls()
    const failure = await anthropicClient(gateway.app.url, false)
      .messages.create({
        model: 'claude',
        max_tokens: 16,
        messages,
        tools: [
          { name: 'ok', input_schema: { type: 'object' } },
          { type: 'custom', name: 'get_weather' },
        ],
      } as unknown as Anthropic.MessageCreateParamsNonStreaming)
      .catch((error: unknown) => error)
    expectRefused(failure, '/tools/1')
    expect(calls()).toBe(before)
  })

  it('passes server tools, which have no input_schema, to Anthropic as they are', async () => {
    const serverTools = [
      { type: 'bash_20250124', name: 'bash' },
      { type: 'text_editor_20250728', name: 'str_replace_based_edit_tool' },
      { type: 'computer_20250124', name: 'computer', display_width_px: 1024, display_height_px: 768 },
      { type: 'web_search_20250305', name: 'web_search', max_uses: 2 },
    ]
    const tools = [{ name: 'get_weather', input_schema: { type: 'object' } }, ...serverTools]
    const answer = await anthropicClient(gateway.app.url, false).messages.create({
      model: 'claude',
      max_tokens: 16,
      messages,
      tools,
    } as unknown as Anthropic.MessageCreateParamsNonStreaming)
    expect(answer.type).toBe('message')
    const sent = gateway.fakes.anthropic.requests.at(-1)?.json() as { tools: unknown[] }
    expect(sent.tools).toEqual(tools)
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
