/**
 * The response-field fate tables of docs/gateway.md, driven through the gateway on a real Express
 * socket: each provider answers with a body holding every field of its dialect the tables name
 * (text, tool calls, refusal, reasoning or thinking, citations, logprobs, cache and reasoning token
 * counters), and each client dialect's answer is checked cell by cell. `verbatim`: the client got
 * the provider's value at the same path; `← source`: the client's field is filled from that
 * provider field; `n/a`: the field cannot arise from that provider (the note says why).
 */

import { readFileSync } from 'node:fs'
import { anthropic, openai, vllm } from 'continuum-proxy/providers'
import { InferenceRouter } from 'continuum-proxy/router'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningApp, rootFrameworks } from '../conformance/frameworks'
import { startAnthropicServer } from '../kit/anthropic'
import { startOpenAIDialectServer } from '../kit/openai-dialects'
import { jsonReply } from '../kit/replies'
import type { FakeUpstream } from '../kit/server'
import { ANTHROPIC_KEY } from './support'

const CITATION_URL = 'https://example.com/weather'

/** An OpenAI chat answer with every field the tables name. */
const CHAT_ANSWER = {
  id: 'chatcmpl-rich',
  object: 'chat.completion',
  created: 1700000000,
  model: 'gpt-rich',
  system_fingerprint: 'fp_rich',
  choices: [
    {
      index: 0,
      message: {
        role: 'assistant',
        content: 'Paris is sunny.',
        refusal: 'Not that part.',
        reasoning_content: 'Thinking about the weather.',
        annotations: [
          {
            type: 'url_citation',
            url_citation: { url: CITATION_URL, title: 'Weather', start_index: 0, end_index: 5 },
          },
        ],
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"location":"Paris"}' },
          },
        ],
      },
      logprobs: {
        content: [{ token: 'Paris', logprob: -0.1, bytes: [80, 97, 114, 105, 115], top_logprobs: [] }],
      },
      finish_reason: 'tool_calls',
    },
  ],
  usage: {
    prompt_tokens: 20,
    completion_tokens: 10,
    total_tokens: 30,
    prompt_tokens_details: { cached_tokens: 8 },
    completion_tokens_details: { reasoning_tokens: 3 },
  },
}

/** An Anthropic answer with every field the tables name. */
const MESSAGES_ANSWER = {
  id: 'msg_rich',
  type: 'message',
  role: 'assistant',
  model: 'claude-rich',
  content: [
    { type: 'thinking', thinking: 'Thinking about the weather.', signature: 'sig_rich' },
    { type: 'redacted_thinking', data: 'opaque' },
    {
      type: 'text',
      text: 'Paris is sunny.',
      citations: [
        {
          type: 'web_search_result_location',
          url: CITATION_URL,
          title: 'Weather',
          cited_text: 'Paris',
          encrypted_index: 'idx',
        },
      ],
    },
    { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { location: 'Paris' } },
  ],
  stop_reason: 'tool_use',
  stop_sequence: null,
  usage: {
    input_tokens: 12,
    cache_read_input_tokens: 8,
    cache_creation_input_tokens: 4,
    output_tokens: 10,
    output_tokens_details: { thinking_tokens: 3 },
  },
}

/** A Responses answer with every field the tables name. */
const RESPONSES_ANSWER = {
  id: 'resp_rich',
  object: 'response',
  created_at: 1700000000,
  status: 'completed',
  error: null,
  incomplete_details: null,
  model: 'gpt-rich',
  output: [
    {
      type: 'reasoning',
      id: 'rs_1',
      summary: [{ type: 'summary_text', text: 'Thinking about the weather.' }],
    },
    {
      type: 'message',
      id: 'msg_1',
      status: 'completed',
      role: 'assistant',
      content: [
        {
          type: 'output_text',
          text: 'Paris is sunny.',
          annotations: [
            { type: 'url_citation', url: CITATION_URL, title: 'Weather', start_index: 0, end_index: 5 },
          ],
          logprobs: [{ token: 'Paris', logprob: -0.1, top_logprobs: [] }],
        },
        { type: 'refusal', refusal: 'Not that part.' },
      ],
    },
    {
      type: 'function_call',
      id: 'fc_1',
      call_id: 'call_1',
      name: 'get_weather',
      arguments: '{"location":"Paris"}',
      status: 'completed',
    },
  ],
  usage: {
    input_tokens: 20,
    input_tokens_details: { cached_tokens: 8 },
    output_tokens: 10,
    output_tokens_details: { reasoning_tokens: 3 },
    total_tokens: 30,
  },
}

/** Each table: the client's route, request and the columns (provider types) it is checked against. */
const TABLES: Record<
  string,
  { path: string; headers: Record<string, string>; body: Record<string, unknown> }
> = {
  'Chat Completions': {
    path: '/v1/chat/completions',
    headers: {},
    body: { messages: [{ role: 'user', content: 'hi' }] },
  },
  Messages: {
    path: '/v1/messages',
    headers: { 'anthropic-version': '2023-06-01' },
    body: { max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] },
  },
  Responses: { path: '/v1/responses', headers: {}, body: { input: 'hi' } },
}

/** What each column's provider answers a request from each client dialect with. */
function providerAnswer(table: string, column: string): Record<string, unknown> {
  if (column === 'anthropic') return MESSAGES_ANSWER
  if (column === 'openai' && table === 'Responses') return RESPONSES_ANSWER
  return CHAT_ANSWER
}

/**
 * The values at a path: `a.b` members, `a[]` every element, `a[type=x]` the elements of that type.
 * Undefined values are left out, so a missing field gives an empty list.
 */
function valuesAt(value: unknown, path: string): unknown[] {
  let current: unknown[] = [value]
  for (const segment of path.split('.')) {
    const match = /^([a-z_]+)(\[(?:type=([a-z_]+))?\])?$/.exec(segment)
    if (match === null) throw new Error(`bad path ${path}`)
    const [, key, brackets, type] = match
    const next: unknown[] = []
    for (const item of current) {
      const member = (item as Record<string, unknown> | undefined)?.[key!]
      if (brackets === undefined) {
        if (member !== undefined && member !== null) next.push(member)
      } else if (Array.isArray(member)) {
        for (const element of member) {
          if (type === undefined || (element as { type?: unknown })?.type === type) next.push(element)
        }
      }
    }
    current = next
  }
  return current
}

/** The response-field tables: table → field path → column → cell. */
function responseTables(): Record<
  string,
  { columns: string[]; rows: Record<string, Record<string, string>> }
> {
  const text = readFileSync(new URL('../../docs/gateway.md', import.meta.url), 'utf8')
  const result: Record<string, { columns: string[]; rows: Record<string, Record<string, string>> }> = {}
  for (const table of Object.keys(TABLES)) {
    const start = text.indexOf(`| ${table} response field |`)
    expect(start, `the ${table} response table in docs/gateway.md`).toBeGreaterThanOrEqual(0)
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

const tables = responseTables()

describe('response-field fates (docs/gateway.md)', () => {
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

  const answers = new Map<string, Promise<Record<string, unknown>>>()
  /** The client's answer for a table and column, asked once. */
  function clientAnswer(table: string, column: string): Promise<Record<string, unknown>> {
    const key = `${table}|${column}`
    let answer = answers.get(key)
    if (answer === undefined) {
      const client = TABLES[table]!
      const fake = column === 'anthropic' ? anthropicFake : dialect
      fake.queue(jsonReply(providerAnswer(table, column)))
      answer = fetch(`${app.url}${client.path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...client.headers },
        body: JSON.stringify({ ...client.body, model: column }),
      }).then(async (response) => {
        const text = await response.text()
        expect(response.status, text).toBe(200)
        return JSON.parse(text)
      })
      answers.set(key, answer)
    }
    return answer
  }

  const cells = Object.entries(tables).flatMap(([table, { columns, rows }]) =>
    Object.entries(rows).flatMap(([field, fates]) =>
      columns.map((column) => ({ table, field, column, fate: fates[column]! })),
    ),
  )

  it('has a row for each field the issue names, in each table', () => {
    expect(Object.keys(tables['Chat Completions']!.rows)).toEqual(
      expect.arrayContaining([
        'choices[].logprobs',
        'choices[].message.refusal',
        'choices[].message.annotations',
      ]),
    )
    expect(Object.keys(tables.Messages!.rows)).toEqual(
      expect.arrayContaining([
        'content[type=thinking].thinking',
        'content[type=text].citations',
        'usage.cache_read_input_tokens',
      ]),
    )
  })

  it.each(cells)('$table `$field` from $column: $fate', async ({ table, field, column, fate }) => {
    const answer = await clientAnswer(table, column)
    const got = valuesAt(answer, field)
    if (fate === 'n/a') {
      expect(got, 'a field marked n/a must not appear').toEqual([])
      return
    }
    expect(got.length, `${field} in ${JSON.stringify(answer)}`).toBeGreaterThan(0)
    if (fate === 'verbatim') expect(got).toEqual(valuesAt(providerAnswer(table, column), field))
    else expect(fate.startsWith('← ')).toBe(true)
  })
})
