/**
 * The stream-event fate tables of docs/gateway.md, driven through the gateway on a real Express
 * socket: each provider streams every kind of event its dialect has (text, reasoning and its
 * signature, refusal, citations, logprobs, tool-call fragments, pings, usage, the finish), and each
 * client dialect's stream is checked kind by kind. `verbatim`: the client got the provider's events
 * of that kind, as many and with the same data (only `model` replaced); `← source`: the client got
 * events of that kind, written from the provider's; `n/a`: the kind cannot arise from that
 * provider (the note says why), and the client got none.
 */
import { readFileSync } from 'node:fs'
import { anthropic, openai, vllm } from 'continuum-proxy/providers'
import { InferenceRouter } from 'continuum-proxy/router'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningApp, rootFrameworks } from '../conformance/frameworks'
import { startAnthropicServer } from '../kit/anthropic'
import { startOpenAIDialectServer } from '../kit/openai-dialects'
import { splitEvery } from '../kit/replies'
import type { FakeUpstream, Reply } from '../kit/server'
import { ANTHROPIC_KEY } from './support'

interface Event {
  name?: string
  data: Record<string, unknown>
}

const CITATION_URL = 'https://example.com/weather'
const base = { id: 'chatcmpl-rich', object: 'chat.completion.chunk', created: 1700000000, model: 'gpt-rich' }
const chunk = (delta: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  data: {
    ...base,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: null, ...extra }],
    usage: null,
  },
})

/** An OpenAI chat stream with every kind the tables name. */
const CHAT_STREAM: Event[] = [
  chunk({ role: 'assistant', content: '' }),
  chunk({ reasoning_content: 'Thinking.' }),
  chunk(
    { content: 'Paris' },
    { logprobs: { content: [{ token: 'Paris', logprob: -0.1, bytes: [80], top_logprobs: [] }] } },
  ),
  chunk({ content: ' is sunny.' }),
  chunk({ refusal: 'Not that part.' }),
  chunk({
    annotations: [
      { type: 'url_citation', url_citation: { url: CITATION_URL, title: 'W', start_index: 0, end_index: 5 } },
    ],
  }),
  chunk({
    tool_calls: [
      { index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' } },
    ],
  }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: '{"location":"Paris"}' } }] }),
  chunk({}, { finish_reason: 'tool_calls' }),
  {
    data: {
      ...base,
      choices: [],
      usage: {
        prompt_tokens: 20,
        completion_tokens: 10,
        total_tokens: 30,
        prompt_tokens_details: { cached_tokens: 8 },
      },
    },
  },
]

/** An Anthropic stream with every kind the tables name. */
const MESSAGES_STREAM: Event[] = [
  {
    name: 'message_start',
    data: {
      type: 'message_start',
      message: {
        id: 'msg_rich',
        type: 'message',
        role: 'assistant',
        model: 'claude-rich',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: {
          input_tokens: 12,
          cache_read_input_tokens: 8,
          cache_creation_input_tokens: 4,
          output_tokens: 1,
        },
      },
    },
  },
  { name: 'ping', data: { type: 'ping' } },
  {
    name: 'content_block_start',
    data: {
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'thinking', thinking: '', signature: '' },
    },
  },
  {
    name: 'content_block_delta',
    data: { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Thinking.' } },
  },
  {
    name: 'content_block_delta',
    data: { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'sig' } },
  },
  { name: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
  {
    name: 'content_block_start',
    data: { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
  },
  {
    name: 'content_block_delta',
    data: { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'Paris is sunny.' } },
  },
  {
    name: 'content_block_delta',
    data: {
      type: 'content_block_delta',
      index: 1,
      delta: {
        type: 'citations_delta',
        citation: {
          type: 'web_search_result_location',
          url: CITATION_URL,
          title: 'W',
          cited_text: 'Paris',
          encrypted_index: 'i',
        },
      },
    },
  },
  { name: 'content_block_stop', data: { type: 'content_block_stop', index: 1 } },
  {
    name: 'content_block_start',
    data: {
      type: 'content_block_start',
      index: 2,
      content_block: { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} },
    },
  },
  {
    name: 'content_block_delta',
    data: {
      type: 'content_block_delta',
      index: 2,
      delta: { type: 'input_json_delta', partial_json: '{"location":"Paris"}' },
    },
  },
  { name: 'content_block_stop', data: { type: 'content_block_stop', index: 2 } },
  {
    name: 'message_delta',
    data: {
      type: 'message_delta',
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: { output_tokens: 10 },
    },
  },
  { name: 'message_stop', data: { type: 'message_stop' } },
]

/** A Responses stream with every kind the tables name. */
function responsesStream(): Event[] {
  let sequence = 0
  const event = (type: string, data: Record<string, unknown>): Event => ({
    name: type,
    data: { type, sequence_number: sequence++, ...data },
  })
  const response = (status: string) => ({
    id: 'resp_rich',
    object: 'response',
    created_at: 1700000000,
    status,
    model: 'gpt-rich',
    output: [],
    usage:
      status === 'completed'
        ? {
            input_tokens: 20,
            input_tokens_details: { cached_tokens: 8 },
            output_tokens: 10,
            output_tokens_details: { reasoning_tokens: 3 },
            total_tokens: 30,
          }
        : null,
  })
  const message = { item_id: 'msg_1', output_index: 1, content_index: 0 }
  return [
    event('response.created', { response: response('in_progress') }),
    event('response.in_progress', { response: response('in_progress') }),
    event('response.output_item.added', {
      output_index: 0,
      item: { type: 'reasoning', id: 'rs_1', summary: [] },
    }),
    event('response.reasoning_summary_text.delta', {
      item_id: 'rs_1',
      output_index: 0,
      summary_index: 0,
      delta: 'Thinking.',
    }),
    event('response.output_item.done', {
      output_index: 0,
      item: { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'Thinking.' }] },
    }),
    event('response.output_item.added', {
      output_index: 1,
      item: { type: 'message', id: 'msg_1', status: 'in_progress', role: 'assistant', content: [] },
    }),
    event('response.content_part.added', {
      ...message,
      part: { type: 'output_text', text: '', annotations: [] },
    }),
    event('response.output_text.delta', {
      ...message,
      delta: 'Paris is sunny.',
      logprobs: [{ token: 'Paris', logprob: -0.1, top_logprobs: [] }],
    }),
    event('response.output_text.annotation.added', {
      ...message,
      annotation_index: 0,
      annotation: { type: 'url_citation', url: CITATION_URL, title: 'W', start_index: 0, end_index: 5 },
    }),
    event('response.output_text.done', { ...message, text: 'Paris is sunny.', logprobs: [] }),
    event('response.content_part.done', {
      ...message,
      part: { type: 'output_text', text: 'Paris is sunny.', annotations: [] },
    }),
    event('response.refusal.delta', { ...message, content_index: 1, delta: 'Not that part.' }),
    event('response.output_item.done', {
      output_index: 1,
      item: { type: 'message', id: 'msg_1', status: 'completed', role: 'assistant', content: [] },
    }),
    event('response.output_item.added', {
      output_index: 2,
      item: {
        type: 'function_call',
        id: 'fc_1',
        call_id: 'call_1',
        name: 'get_weather',
        arguments: '',
        status: 'in_progress',
      },
    }),
    event('response.function_call_arguments.delta', {
      item_id: 'fc_1',
      output_index: 2,
      delta: '{"location":"Paris"}',
    }),
    event('response.output_item.done', {
      output_index: 2,
      item: {
        type: 'function_call',
        id: 'fc_1',
        call_id: 'call_1',
        name: 'get_weather',
        arguments: '{"location":"Paris"}',
        status: 'completed',
      },
    }),
    event('response.completed', { response: response('completed') }),
  ]
}

function sse(events: Event[], done: boolean): Reply {
  let text = ''
  for (const event of events) {
    if (event.name !== undefined) text += `event: ${event.name}\n`
    text += `data: ${JSON.stringify(event.data)}\n\n`
  }
  if (done) text += 'data: [DONE]\n\n'
  return { kind: 'chunks', headers: { 'content-type': 'text/event-stream' }, chunks: splitEvery(text, 61) }
}

/** The kind of one event, as the tables name it. */
function kindsOf(table: string, event: Event): string[] {
  const data = event.data
  if (table === 'Chat Completions') {
    const choice = (data.choices as Array<Record<string, unknown>> | undefined)?.[0]
    if (choice === undefined) return data.usage ? ['usage chunk'] : []
    const delta = (choice.delta ?? {}) as Record<string, unknown>
    const kinds = Object.keys(delta)
      .filter((key) => key !== 'role' && delta[key] !== null && delta[key] !== '')
      .map((key) => `delta.${key}`)
    if (choice.logprobs !== null && choice.logprobs !== undefined) kinds.push('logprobs')
    if (typeof choice.finish_reason === 'string') kinds.push('finish_reason')
    return kinds
  }
  if (table === 'Messages') {
    if (data.type === 'content_block_delta')
      return [`content_block_delta ${(data.delta as { type: string }).type}`]
    if (data.type === 'content_block_start')
      return [`content_block_start ${(data.content_block as { type: string }).type}`]
    return [String(data.type)]
  }
  return [String(data.type)]
}

/** Reads an SSE body into events. */
function parseEvents(text: string): Event[] {
  const events: Event[] = []
  for (const block of text.split('\n\n')) {
    let name: string | undefined
    let data = ''
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) name = line.slice(7)
      else if (line.startsWith('data: ')) data += line.slice(6)
    }
    if (data === '' || data === '[DONE]') continue
    events.push({ ...(name === undefined ? {} : { name }), data: JSON.parse(data) })
  }
  return events
}

const CLIENTS: Record<
  string,
  { path: string; headers: Record<string, string>; body: Record<string, unknown> }
> = {
  'Chat Completions': {
    path: '/v1/chat/completions',
    headers: {},
    body: {
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'hi' }],
    },
  },
  Messages: {
    path: '/v1/messages',
    headers: { 'anthropic-version': '2023-06-01' },
    body: { stream: true, max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] },
  },
  Responses: { path: '/v1/responses', headers: {}, body: { stream: true, input: 'hi' } },
}

/** What each column's provider streams to a client of each table. */
function providerStream(table: string, column: string): Event[] {
  if (column === 'anthropic') return MESSAGES_STREAM
  if (column === 'openai' && table === 'Responses') return responsesStream()
  return CHAT_STREAM
}

/** Strips what the gateway replaces (the model) so relayed events compare equal. */
function normalised(event: Event): unknown {
  const data = JSON.parse(JSON.stringify(event.data)) as Record<string, unknown>
  delete data.model
  for (const key of ['message', 'response'] as const) {
    const inner = data[key] as Record<string, unknown> | undefined
    if (inner !== undefined) delete inner.model
  }
  return data
}

function streamTables(): Record<string, { columns: string[]; rows: Record<string, Record<string, string>> }> {
  const text = readFileSync(new URL('../../docs/gateway.md', import.meta.url), 'utf8')
  const result: Record<string, { columns: string[]; rows: Record<string, Record<string, string>> }> = {}
  for (const table of Object.keys(CLIENTS)) {
    const start = text.indexOf(`| ${table} stream event |`)
    expect(start, `the ${table} stream table in docs/gateway.md`).toBeGreaterThanOrEqual(0)
    const lines = text.slice(start).split('\n')
    const columns = lines[0]!
      .split('|')
      .slice(2, -1)
      .map((cell) => cell.trim())
    const rows: Record<string, Record<string, string>> = {}
    for (const line of lines.slice(2)) {
      if (!line.startsWith('|')) break
      const cells = line
        .split('|')
        .slice(1, -1)
        .map((cell) => /`([^`]*)`/.exec(cell)?.[1] ?? cell.trim())
      rows[cells[0]!] = Object.fromEntries(columns.map((column, index) => [column, cells[index + 1]!]))
    }
    result[table] = { columns, rows }
  }
  return result
}

const tables = streamTables()

describe('stream-event fates (docs/gateway.md)', () => {
  let dialect: FakeUpstream
  let anthropicFake: FakeUpstream
  let router: InferenceRouter
  let app: RunningApp

  beforeAll(async () => {
    ;[dialect, anthropicFake] = await Promise.all([
      startOpenAIDialectServer(),
      startAnthropicServer(ANTHROPIC_KEY),
    ])
    router = new InferenceRouter({
      providers: [
        openai({ id: 'openai', apiKey: 'sk-up', baseURL: `${dialect.url}/v1`, models: ['gpt-rich'] }),
        vllm({ id: 'vllm', endpoints: [dialect.url], models: ['llama-rich'] }),
        anthropic({
          id: 'anthropic',
          apiKey: ANTHROPIC_KEY,
          baseURL: anthropicFake.url,
          models: ['claude-rich'],
        }),
      ],
      aliases: {
        openai: { openai: 'gpt-rich' },
        vllm: { vllm: 'llama-rich' },
        anthropic: { anthropic: 'claude-rich' },
      },
      retry: { maxRetries: 0 },
    })
    app = await rootFrameworks.find((harness) => harness.name === 'express')!.start({ router })
  })

  afterAll(async () => {
    await app.close()
    await router.close()
    await Promise.all([dialect.close(), anthropicFake.close()])
  })

  const streams = new Map<string, Promise<Event[]>>()
  function clientStream(table: string, column: string): Promise<Event[]> {
    const key = `${table}|${column}`
    let stream = streams.get(key)
    if (stream === undefined) {
      const client = CLIENTS[table]!
      const events = providerStream(table, column)
      const fake = column === 'anthropic' ? anthropicFake : dialect
      // Only Chat Completions streams end with [DONE].
      fake.queue(sse(events, events === CHAT_STREAM))
      stream = fetch(`${app.url}${client.path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...client.headers },
        body: JSON.stringify({ ...client.body, model: column }),
      }).then(async (response) => {
        const text = await response.text()
        expect(response.status, text).toBe(200)
        return parseEvents(text)
      })
      streams.set(key, stream)
    }
    return stream
  }

  const cells = Object.entries(tables).flatMap(([table, { columns, rows }]) =>
    Object.entries(rows).flatMap(([kind, fates]) =>
      columns.map((column) => ({ table, kind, column, fate: fates[column]! })),
    ),
  )

  it.each(cells)('$table `$kind` from $column: $fate', async ({ table, kind, column, fate }) => {
    const got = (await clientStream(table, column)).filter((event) => kindsOf(table, event).includes(kind))
    if (fate === 'n/a') {
      expect(got, 'a kind marked n/a must not appear').toEqual([])
      return
    }
    expect(got.length, `${kind} in the ${table} stream from ${column}`).toBeGreaterThan(0)
    if (fate === 'verbatim') {
      const sent = providerStream(table, column).filter((event) => kindsOf(table, event).includes(kind))
      expect(got.map(normalised)).toEqual(sent.map(normalised))
    } else expect(fate.startsWith('← ')).toBe(true)
  })
})
