/**
 * The parameter-fate tables of docs/gateway.md, checked against the code and against the official
 * SDKs: every request parameter the `openai` and `@anthropic-ai/sdk` type definitions declare for
 * Chat Completions, the Responses API and Messages has a row, and every cell is driven through the
 * real gateway (Express on a real socket) to a fake of that provider type, which records exactly
 * what it was sent. `verbatim`: the provider got the value as the client sent it; `→ path`: the
 * provider's wire carries a translation at that path; `translated` / `read`: answered, the
 * parameter turned into the provider's own form or acted on by the gateway; `refused`: a 400
 * `CONTINUUM_NOT_SUPPORTED` naming the parameter and the provider (never the value), and nothing
 * reached the provider; `denied`: the same for every provider, naming the parameter. The table and the code cannot drift apart.
 */
import { readFileSync } from 'node:fs'
import {
  anthropic,
  azureOpenAI,
  bedrock,
  ollama,
  openAICompatible,
  openai,
  tgi,
  vertex,
  vllm,
} from 'continuum-proxy/providers'
import { InferenceRouter } from 'continuum-proxy/router'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningApp, rootFrameworks } from '../conformance/frameworks'
import { FAKE_AWS_CREDENTIALS, FAKE_AWS_REGION } from '../kit/bedrock'
import { startOllamaServer } from '../kit/ollama'
import { azureDialect, startOpenAIServer } from '../kit/openai'
import { startOpenAIDialectServer } from '../kit/openai-dialects'
import type { FakeUpstream } from '../kit/server'
import { startTgiServer } from '../kit/tgi'
import { VERTEX_LOCATION, VERTEX_PROJECT } from '../kit/vertex'
import { ANTHROPIC_KEY, BEDROCK_MODEL, CLAUDE_MODEL, type Fakes, GEMINI_MODEL, startFakes } from './support'

/** A marker in every string sample: a refusal must never echo it. */
const MARK = 'secret-7d1f'

const COLUMNS = [
  'openai',
  'azure_openai',
  'vllm',
  'openai_compatible',
  'anthropic',
  'bedrock',
  'vertex',
  'ollama',
  'tgi',
] as const
type Column = (typeof COLUMNS)[number]

/** Parameters the APIs still accept that the SDK types no longer list. */
const LEGACY: Record<string, string[]> = { Messages: ['temperature', 'top_p', 'top_k'] }

const weatherFunction = { name: 'get_weather', parameters: { type: 'object', properties: {} } }

/** One sample per parameter, and what it needs beside it. */
const SAMPLES: Record<string, Record<string, { value: unknown; with?: Record<string, unknown> }>> = {
  'Chat Completions': {
    messages: { value: [{ role: 'user', content: `hello ${MARK}` }] },
    model: { value: undefined },
    audio: { value: { voice: 'alloy', format: 'wav' } },
    frequency_penalty: { value: 0.5 },
    function_call: { value: 'auto' },
    functions: { value: [weatherFunction] },
    logit_bias: { value: { '50256': -100 } },
    logprobs: { value: true },
    max_completion_tokens: { value: 33 },
    max_tokens: { value: 33 },
    metadata: { value: { team: MARK } },
    modalities: { value: ['text'] },
    moderation: { value: { model: 'omni-moderation-latest' } },
    n: { value: 2 },
    parallel_tool_calls: { value: false, with: { tools: [{ type: 'function', function: weatherFunction }] } },
    prediction: { value: { type: 'content', content: MARK } },
    presence_penalty: { value: 0.5 },
    prompt_cache_key: { value: `key-${MARK}` },
    prompt_cache_options: { value: { mode: 'explicit' } },
    prompt_cache_retention: { value: '24h' },
    reasoning_effort: { value: 'high' },
    response_format: {
      value: { type: 'json_schema', json_schema: { name: 'weather', schema: { type: 'object' } } },
    },
    safety_identifier: { value: `user-${MARK}` },
    seed: { value: 7 },
    service_tier: { value: 'flex' },
    stop: { value: ['END'] },
    store: { value: true },
    stream: { value: true },
    stream_options: { value: { include_usage: true }, with: { stream: true } },
    temperature: { value: 0.5 },
    tool_choice: { value: 'required', with: { tools: [{ type: 'function', function: weatherFunction }] } },
    tools: { value: [{ type: 'function', function: weatherFunction }] },
    top_logprobs: { value: 2 },
    top_p: { value: 0.9 },
    user: { value: `user-${MARK}` },
    verbosity: { value: 'low' },
    web_search_options: { value: { search_context_size: 'low' } },
  },
  Responses: {
    access_programs: { value: { cyber: 'standard' } },
    background: { value: true },
    context_management: { value: [{ type: 'compaction', compact_threshold: 1000 }] },
    conversation: { value: 'conv_1' },
    image: { value: { context_compression: 'enabled' } },
    include: { value: ['message.output_text.logprobs'] },
    input: { value: `hello ${MARK}` },
    instructions: { value: `be brief ${MARK}` },
    max_output_tokens: { value: 33 },
    max_tool_calls: { value: 3 },
    metadata: { value: { team: MARK } },
    model: { value: undefined },
    moderation: { value: { model: 'omni-moderation-latest' } },
    parallel_tool_calls: { value: false, with: { tools: [{ type: 'function', ...weatherFunction }] } },
    previous_response_id: { value: 'resp_1' },
    prompt: { value: { id: 'pmpt_1' } },
    prompt_cache_key: { value: `key-${MARK}` },
    prompt_cache_options: { value: { mode: 'explicit' } },
    prompt_cache_retention: { value: '24h' },
    reasoning: { value: { effort: 'high' } },
    safety_identifier: { value: `user-${MARK}` },
    service_tier: { value: 'flex' },
    store: { value: true },
    stream: { value: true },
    stream_options: { value: { include_obfuscation: false }, with: { stream: true } },
    temperature: { value: 0.5 },
    text: { value: { format: { type: 'json_schema', name: 'weather', schema: { type: 'object' } } } },
    tool_choice: { value: 'required', with: { tools: [{ type: 'function', ...weatherFunction }] } },
    tools: { value: [{ type: 'function', ...weatherFunction }] },
    top_logprobs: { value: 2 },
    top_p: { value: 0.9 },
    truncation: { value: 'auto' },
    user: { value: `user-${MARK}` },
  },
  Messages: {
    max_tokens: { value: 33 },
    messages: { value: [{ role: 'user', content: `hello ${MARK}` }] },
    model: { value: undefined },
    cache_control: { value: { type: 'ephemeral' } },
    container: { value: 'cntr_1' },
    diagnostics: { value: { previous_message_id: 'msg_1' } },
    inference_geo: { value: 'us' },
    metadata: { value: { user_id: `user-${MARK}` } },
    output_config: { value: { format: { type: 'json_schema', schema: { type: 'object' } } } },
    service_tier: { value: 'standard_only' },
    speed: { value: 'fast' },
    stop_sequences: { value: ['END'] },
    stream: { value: true },
    system: { value: [{ type: 'text', text: `be brief ${MARK}` }] },
    thinking: { value: { type: 'enabled', budget_tokens: 1024 } },
    tool_choice: {
      value: { type: 'any' },
      with: { tools: [{ name: 'get_weather', input_schema: { type: 'object' } }] },
    },
    tools: { value: [{ name: 'get_weather', input_schema: { type: 'object' } }] },
    user_profile_id: { value: 'up_1' },
    workspace_id: { value: 'ws_1' },
    temperature: { value: 0.5 },
    top_p: { value: 0.9 },
    top_k: { value: 5 },
  },
}

/** How each table's client calls the gateway. */
const CLIENTS: Record<
  string,
  { path: string; headers: Record<string, string>; base: Record<string, unknown> }
> = {
  'Chat Completions': {
    path: '/v1/chat/completions',
    headers: {},
    base: { messages: [{ role: 'user', content: `hello ${MARK}` }] },
  },
  Responses: { path: '/v1/responses', headers: {}, base: { input: `hello ${MARK}` } },
  Messages: {
    path: '/v1/messages',
    headers: { 'anthropic-version': '2023-06-01' },
    base: { max_tokens: 32, messages: [{ role: 'user', content: `hello ${MARK}` }] },
  },
}

/** The SDK interface that lists each table's parameters. */
const SDK_TYPES: Record<string, { file: string; name: string }> = {
  'Chat Completions': {
    file: 'openai/resources/chat/completions/completions.d.ts',
    name: 'ChatCompletionCreateParamsBase',
  },
  Responses: { file: 'openai/resources/responses/responses.d.ts', name: 'ResponseCreateParamsBase' },
  Messages: { file: '@anthropic-ai/sdk/resources/messages/messages.d.ts', name: 'MessageCreateParamsBase' },
}

/** The top-level members of an interface in a type definition file. */
function sdkParameters(table: string): string[] {
  const { file, name } = SDK_TYPES[table]!
  const text = readFileSync(new URL(`../../node_modules/${file}`, import.meta.url), 'utf8')
  const start = text.indexOf(`export interface ${name} {`)
  expect(start, `${name} in ${file}`).toBeGreaterThanOrEqual(0)
  const body = text.slice(start, text.indexOf('\n}', start))
  return [...body.matchAll(/^ {4}([a-z_]+)\??:/gm)].map((match) => match[1]!)
}

/** The fate tables of docs/gateway.md: table → parameter → column → cell. */
function docTables(): Record<string, Record<string, Record<Column, string>>> {
  const text = readFileSync(new URL('../../docs/gateway.md', import.meta.url), 'utf8')
  const tables: Record<string, Record<string, Record<Column, string>>> = {}
  for (const table of Object.keys(CLIENTS)) {
    const header = `| ${table} parameter | ${COLUMNS.join(' | ')} |`
    const start = text.indexOf(header)
    expect(start, `the ${table} table header in docs/gateway.md`).toBeGreaterThanOrEqual(0)
    const rows: Record<string, Record<Column, string>> = {}
    for (const line of text.slice(start).split('\n').slice(2)) {
      if (!line.startsWith('|')) break
      const cells = line
        .split('|')
        .slice(1, -1)
        .map((cell) => /`([^`]*)`/.exec(cell)?.[1] ?? cell.trim())
      const [parameter, ...fates] = cells
      rows[parameter!] = Object.fromEntries(
        COLUMNS.map((column, index) => [column, fates[index]!]),
      ) as Record<Column, string>
    }
    tables[table] = rows
  }
  return tables
}

function valueAt(body: unknown, path: string): unknown {
  let value = body
  for (const key of path.split('.')) value = (value as Record<string, unknown> | undefined)?.[key]
  return value
}

const tables = docTables()

describe('parameter fates (docs/gateway.md)', () => {
  it.each(Object.keys(CLIENTS))('the %s table lists exactly the SDK parameters', (table) => {
    const expected = [...sdkParameters(table), ...(LEGACY[table] ?? [])].sort()
    expect(Object.keys(tables[table]!).sort()).toEqual(expected)
    expect(Object.keys(SAMPLES[table]!).sort()).toEqual(expected)
  })

  let fakes: Fakes
  let dialect: FakeUpstream
  let azure: FakeUpstream
  let ollamaFake: FakeUpstream
  let tgiFake: FakeUpstream
  let router: InferenceRouter
  let app: RunningApp
  const upstreamOf: Partial<Record<Column, () => FakeUpstream>> = {}
  const modelOf: Record<Column, string> = {
    openai: 'gpt-fate',
    azure_openai: 'gpt-4o-prod',
    vllm: 'llama-fate',
    openai_compatible: 'compat-fate',
    anthropic: CLAUDE_MODEL,
    bedrock: BEDROCK_MODEL,
    vertex: GEMINI_MODEL,
    ollama: 'llama3.2',
    tgi: 'tgi',
  }

  beforeAll(async () => {
    ;[fakes, dialect, azure, ollamaFake, tgiFake] = await Promise.all([
      startFakes(),
      startOpenAIDialectServer(),
      startOpenAIServer(azureDialect({ apiKey: 'az-key' }, ['gpt-4o-prod']), 'azure-openai'),
      startOllamaServer(),
      startTgiServer(),
    ])
    Object.assign(upstreamOf, {
      openai: () => dialect,
      azure_openai: () => azure,
      vllm: () => dialect,
      openai_compatible: () => dialect,
      anthropic: () => fakes.anthropic,
      bedrock: () => fakes.bedrock,
      vertex: () => fakes.vertex,
      ollama: () => ollamaFake,
      tgi: () => tgiFake,
    })
    router = new InferenceRouter({
      providers: [
        openai({ id: 'openai', apiKey: 'sk-up', baseURL: `${dialect.url}/v1`, models: [modelOf.openai] }),
        azureOpenAI({
          id: 'azure_openai',
          endpoint: azure.url,
          apiKey: 'az-key',
          deployments: { 'gpt-4o-prod': 'gpt-4o-prod' },
        }),
        vllm({ id: 'vllm', endpoints: [dialect.url], models: [modelOf.vllm] }),
        openAICompatible({
          id: 'openai_compatible',
          baseURL: `${dialect.url}/v1`,
          models: [modelOf.openai_compatible],
        }),
        anthropic({
          id: 'anthropic',
          apiKey: ANTHROPIC_KEY,
          baseURL: fakes.anthropic.url,
          models: [CLAUDE_MODEL],
        }),
        bedrock({
          id: 'bedrock',
          region: FAKE_AWS_REGION,
          credentials: FAKE_AWS_CREDENTIALS,
          baseURL: fakes.bedrock.url,
          controlPlaneURL: fakes.bedrock.url,
          models: [BEDROCK_MODEL],
        }),
        vertex({
          id: 'vertex',
          project: VERTEX_PROJECT,
          location: VERTEX_LOCATION,
          accessToken: 'ya29.gateway',
          baseURL: fakes.vertex.url,
          models: [GEMINI_MODEL],
        }),
        ollama({ id: 'ollama', baseURL: ollamaFake.url, models: [modelOf.ollama] }),
        tgi({ id: 'tgi', baseURL: tgiFake.url, models: [modelOf.tgi] }),
      ],
      aliases: Object.fromEntries(COLUMNS.map((column) => [column, { [column]: modelOf[column] }])),
      retry: { maxRetries: 0 },
    })
    app = await rootFrameworks.find((harness) => harness.name === 'express')!.start({ router })
  })

  afterAll(async () => {
    await app.close()
    await router.close()
    await Promise.all([fakes.close(), dialect.close(), azure.close(), ollamaFake.close(), tgiFake.close()])
  })

  const cells = Object.entries(tables).flatMap(([table, rows]) =>
    Object.entries(rows).flatMap(([parameter, fates]) =>
      COLUMNS.map((column) => ({ table, parameter, column, fate: fates[column] })),
    ),
  )

  it.each(cells)('$table `$parameter` to $column: $fate', async ({ table, parameter, column, fate }) => {
    const client = CLIENTS[table]!
    const sample = SAMPLES[table]![parameter]!
    const body: Record<string, unknown> = { ...client.base, model: column, ...sample.with }
    if (parameter !== 'model') body[parameter] = sample.value
    const upstream = upstreamOf[column]!()
    const before = upstream.requests.length
    const response = await fetch(`${app.url}${client.path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...client.headers },
      body: JSON.stringify(body),
    })
    const text = await response.text()
    const sent = upstream.requests.slice(before)
    if (fate === 'refused' || fate === 'denied') {
      expect(response.status, text).toBe(400)
      const error = JSON.parse(text).error
      expect(error.code).toBe('CONTINUUM_NOT_SUPPORTED')
      expect(error.message).toContain(parameter)
      // A refusal names the provider that cannot carry it; a denial holds for every provider.
      if (fate === 'refused') expect(error.message.toLowerCase()).toContain(column.split('_')[0])
      expect(text).not.toContain(MARK)
      expect(sent).toHaveLength(0)
      return
    }
    expect(response.status, text).toBe(200)
    expect(sent.length).toBeGreaterThan(0)
    const wire = sent.at(-1)!.json()
    if (fate === 'verbatim') {
      expect(wire[parameter]).toEqual(sample.value)
      // Only the model is mapped.
      expect(wire.model).toBe(modelOf[column])
    } else if (fate.startsWith('→ ')) {
      const path = fate.slice(2)
      if (path === 'model') expect(wire.model).toBe(modelOf[column])
      else expect(valueAt(wire, path), `${path} in ${JSON.stringify(Object.keys(wire))}`).toBeDefined()
    } else {
      expect(['translated', 'read']).toContain(fate)
    }
  })
})
