/**
 * Router provider client costs for the OpenAI family and Anthropic: how fast an SSE stream is
 * parsed and translated into canonical chunks (no network), and the round trip of `complete()` and
 * a whole `stream()` for the OpenAI, Azure OpenAI, vLLM, OpenAI-compatible and Anthropic clients
 * against their loopback fake servers replaying the test transcripts. The round trip includes the
 * fake server's own work, so it is an upper bound on the client's overhead, not a model latency.
 */

import { parseSse } from 'continuum-proxy'
import { anthropic, azureOpenAI, openAICompatible, openai, vllm } from 'continuum-proxy/providers'
import { AnthropicStreamTranslator } from '../adapters/anthropic/provider/wire-stream'
import { OpenAIStreamTranslator } from '../adapters/openai/provider/wire-stream'
import { startAnthropicServer } from '../test/kit/anthropic'
import { azureDialect, openaiDialect, startOpenAIServer } from '../test/kit/openai'
import { fixed, median, quantile } from './stats'
import { chunked, type ProviderSubject, printRoundTrips } from './support/provider-round-trips'

const EVENTS = 2000
const ROUNDS = 20
const REQUESTS = 200

function openaiStream(): string {
  let text = ''
  for (let index = 0; index < EVENTS; index++) {
    text += `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":" token${index}"},"logprobs":null,"finish_reason":null}],"usage":null}\n\n`
  }
  return `${text}data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}\n\ndata: [DONE]\n\n`
}

function anthropicStream(): string {
  let text =
    'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude","usage":{"input_tokens":5,"output_tokens":1}}}\n\n' +
    'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n'
  for (let index = 0; index < EVENTS; index++) {
    text += `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" token${index}"}}\n\n`
  }
  return `${text}event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\nevent: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":${EVENTS}}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n`
}

async function translateBench(): Promise<void> {
  console.log('| SSE parse + translate | median µs/event | p90 µs/event | MB/s (median) |')
  console.log('|---|---|---|---|')
  const cases = [
    {
      name: 'openai chat.completion.chunk',
      text: openaiStream(),
      make: () => new OpenAIStreamTranslator('bench'),
    },
    {
      name: 'anthropic content_block_delta',
      text: anthropicStream(),
      make: () => new AnthropicStreamTranslator('bench'),
    },
  ]
  for (const { name, text, make } of cases) {
    const bytes = Buffer.from(text, 'utf8')
    const perEvent: number[] = []
    for (let round = 0; round < ROUNDS; round++) {
      const translator = make()
      let deltas = 0
      const started = performance.now()
      for await (const event of parseSse(chunked(bytes, 16 * 1024))) {
        for (const chunk of translator.push(event.data)) if (chunk.type === 'text-delta') deltas++
      }
      translator.end()
      perEvent.push(((performance.now() - started) * 1000) / EVENTS)
      if (deltas !== EVENTS) throw new Error(`${name}: lost deltas`)
    }
    const megabytesPerSecond = bytes.length / (median(perEvent) * EVENTS)
    console.log(
      `| ${name}, ${EVENTS} events, 16 KiB chunks | ${fixed(median(perEvent))} | ${fixed(quantile(perEvent, 0.9))} | ${fixed(megabytesPerSecond, 1)} |`,
    )
  }
}

const subjects: ProviderSubject[] = [
  {
    name: 'openai',
    start: () => startOpenAIServer(openaiDialect('sk-bench')),
    make: (url) => openai({ apiKey: 'sk-bench', baseURL: `${url}/v1` }),
    model: 'gpt-4o-mini',
  },
  {
    name: 'azure-openai',
    start: () => startOpenAIServer(azureDialect({ apiKey: 'azure-bench' }, ['gpt-4o-mini']), 'azure-openai'),
    make: (url) => azureOpenAI({ endpoint: url, apiKey: 'azure-bench' }),
    model: 'gpt-4o-mini',
  },
  {
    name: 'vllm',
    start: () => startOpenAIServer(openaiDialect(undefined), 'vllm'),
    make: (url) => vllm({ endpoints: [url] }),
    model: 'meta-llama/Llama-3.1-8B-Instruct',
  },
  {
    name: 'openai-compatible',
    start: () => startOpenAIServer(openaiDialect(undefined)),
    make: (url) => openAICompatible({ baseURL: `${url}/v1` }),
    model: 'qwen2.5-7b',
  },
  {
    name: 'anthropic',
    start: () => startAnthropicServer('sk-ant-bench'),
    make: (url) => anthropic({ apiKey: 'sk-ant-bench', baseURL: url }),
    model: 'claude-sonnet-4-20250514',
  },
]

export default async function (): Promise<void> {
  await translateBench()
  console.log('')
  await printRoundTrips(subjects, REQUESTS)
}
