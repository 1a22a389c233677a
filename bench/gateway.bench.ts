/**
 * Gateway overhead (issue 3, item 5): latency a router gateway adds per sequential 2 KB chat
 * request compared with calling a fast fake OpenAI upstream directly, next to the plain proxy in
 * front of the same upstream; requests per second at concurrency 64; per-chunk cost of a
 * 1,000-chunk stream re-encoded event by event. Two gateway paths of issue 12 are measured apart:
 * an OpenAI request to an OpenAI-compatible provider (same dialect: forwarded as sent, answer
 * relayed as it came), and an Anthropic request whose stream is translated from an OpenAI-compatible
 * provider's chunks. The upstream and each gateway run in their own child process (this file,
 * started with GATEWAY_BENCH_ROLE), the load comes from undici here.
 *
 * Run: `npx tsx bench/run.ts gateway`
 */

import { type ChildProcess, fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { Pool } from 'undici'
import { fixed, median, quantile } from './stats'
import { type BenchRequest, CHAT_BODY as chatBody, send } from './support/chat-load'

const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 2000)
const CONCURRENT_SECONDS = Number(process.env.BENCH_SECONDS ?? 3)
const STREAM_RUNS = 20

type Mode = 'proxy' | 'gateway' | 'gateway-encrypted' | 'gateway-compatible'

interface ChildData {
  role: 'upstream' | Mode
  upstream?: string
  key?: string
}

// --- child process side --------------------------------------------------------------------

async function startUpstream(): Promise<number> {
  const { createServer } = await import('node:http')
  const created = 1_700_000_000
  const completion = JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created,
    model: 'bench',
    choices: [{ index: 0, message: { role: 'assistant', content: 'x'.repeat(512) }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 500, completion_tokens: 128, total_tokens: 628 },
  })
  const chunk = (delta: Record<string, unknown>, finish: string | null) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created, model: 'bench', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`
  const stream = `${chunk({ content: 'token ' }, null).repeat(1000)}${chunk({}, 'stop')}data: [DONE]\n\n`
  const server = createServer(async (request, response) => {
    let body = ''
    for await (const part of request) body += part
    if (body.includes('"stream":true')) {
      response.setHeader('content-type', 'text/event-stream')
      response.end(stream)
      return
    }
    response.setHeader('content-type', 'application/json')
    response.end(completion)
  })
  server.keepAliveTimeout = 60_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

async function startGateway(data: ChildData): Promise<number> {
  const { default: express } = await import('express')
  const { continuum } = await import('../middleware/express')
  const { InferenceRouter } = await import('../src/router')
  const { vllm } = await import('../adapters/vllm/provider/provider')
  const { openAICompatible } = await import('../adapters/openai-compatible/provider/provider')
  const keys = data.role === 'gateway-encrypted' ? { keys: { keys: [{ id: 'bench', key: data.key! }] } } : {}
  const provider =
    data.role === 'gateway-compatible'
      ? openAICompatible({ id: 'bench', baseURL: `${data.upstream!}/v1` })
      : vllm({ id: 'bench', endpoints: [data.upstream!] })
  const options =
    data.role === 'proxy'
      ? { upstream: { url: data.upstream!, connections: 256 } }
      : { router: new InferenceRouter({ providers: [provider] }) }
  const app = express()
  app.use(continuum({ ...options, ...keys }))
  const server = app.listen(0, '127.0.0.1')
  server.keepAliveTimeout = 60_000
  await new Promise((resolve) => server.once('listening', resolve))
  return (server.address() as AddressInfo).port
}

if (process.env.GATEWAY_BENCH_ROLE !== undefined) {
  const data = JSON.parse(process.env.GATEWAY_BENCH_ROLE) as ChildData
  const port = data.role === 'upstream' ? await startUpstream() : await startGateway(data)
  process.send?.({ port })
}

// --- load generator side -------------------------------------------------------------------

interface Started {
  port: number
  child: ChildProcess
}

function start(data: ChildData): Promise<Started> {
  const child = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, GATEWAY_BENCH_ROLE: JSON.stringify(data) },
  })
  return new Promise((resolve, reject) => {
    child.once('message', (message) => resolve({ port: (message as { port: number }).port, child }))
    child.once('error', reject)
  })
}

async function makeRequest(key: Buffer | undefined, stream: boolean): Promise<BenchRequest> {
  const body = stream ? { ...chatBody, stream: true } : chatBody
  if (key === undefined)
    return { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }
  const { compilePlainFields, createFieldKey, encryptRequestMessage } = await import('../src/cipher')
  const { CHAT_REQUEST_PLAIN } = await import('../adapters/openai/proxy/fields')
  const nonce = randomBytes(16).toString('base64url')
  const timestamp = String(Date.now())
  const message = encryptRequestMessage({
    tree: compilePlainFields(CHAT_REQUEST_PLAIN),
    body,
    context: { key: createFieldKey('bench', key), nonce, direction: 'request' },
    method: 'POST',
    routePath: '/v1/chat/completions',
    timestamp,
    keyHeaders: { 'x-continuum-key-id': 'bench' },
  })
  return { body: message.text, headers: message.headers }
}

async function sequential(
  port: number,
  key: Buffer | undefined,
  count: number,
  stream = false,
): Promise<number[]> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 1 })
  const warmup = stream ? 3 : 200
  const samples: number[] = []
  for (let index = 0; index < count + warmup; index++) {
    const request = await makeRequest(key, stream)
    const started = performance.now()
    await send(pool, request)
    if (index >= warmup) samples.push(performance.now() - started)
  }
  await pool.close()
  return samples
}

/** The same 2 KB conversation as an Anthropic Messages request. */
const MESSAGES_BODY = {
  model: 'bench',
  max_tokens: 128,
  system: chatBody.messages[0]!.content,
  messages: [{ role: 'user', content: chatBody.messages[1]!.content }],
}

/** Sequential Anthropic requests (streamed when asked) to `/v1/messages`; milliseconds each. */
async function sequentialMessages(port: number, count: number, stream: boolean): Promise<number[]> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 1 })
  const body = JSON.stringify(stream ? { ...MESSAGES_BODY, stream: true } : MESSAGES_BODY)
  const headers = { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' }
  const warmup = stream ? 3 : 200
  const samples: number[] = []
  for (let index = 0; index < count + warmup; index++) {
    const started = performance.now()
    const response = await pool.request({ path: '/v1/messages', method: 'POST', headers, body })
    await response.body.arrayBuffer()
    if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}`)
    if (index >= warmup) samples.push(performance.now() - started)
  }
  await pool.close()
  return samples
}

async function throughput(port: number, key: Buffer | undefined): Promise<number> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 64 })
  const deadline = performance.now() + CONCURRENT_SECONDS * 1000
  let done = 0
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (performance.now() < deadline) {
        await send(pool, await makeRequest(key, false))
        done++
      }
    }),
  )
  await pool.close()
  return done / CONCURRENT_SECONDS
}

export default async function gatewayBench(): Promise<void> {
  const key = randomBytes(32)
  const upstream = await start({ role: 'upstream' })
  const url = `http://127.0.0.1:${upstream.port}`
  const direct = await sequential(upstream.port, undefined, SEQUENTIAL)
  const directRps = await throughput(upstream.port, undefined)
  const directStream = median(await sequential(upstream.port, undefined, STREAM_RUNS, true))
  console.log(
    `Direct to upstream: p50 ${fixed(median(direct))} ms, p99 ${fixed(quantile(direct, 0.99))} ms, ${fixed(directRps, 0)} req/s at concurrency 64, 1,000-chunk stream ${fixed(directStream, 2)} ms\n`,
  )
  console.log(
    '| Express, in front of the upstream | p50 added (ms) | p99 added (ms) | req/s @64 | per-chunk cost (µs) |',
  )
  console.log('| --- | --- | --- | --- | --- |')
  const modes: Array<[Mode, string]> = [
    ['proxy', 'proxy (URL upstream), plain'],
    ['gateway', 'router gateway, plain'],
    ['gateway-compatible', 'router gateway, OpenAI → OpenAI-compatible (same dialect), plain'],
    ['gateway-encrypted', 'router gateway, field encryption'],
  ]
  let translatedRow: string | undefined
  for (const [mode, label] of modes) {
    const server = await start({ role: mode, upstream: url, key: key.toString('base64url') })
    const requestKey = mode === 'gateway-encrypted' ? key : undefined
    const samples = await sequential(server.port, requestKey, SEQUENTIAL)
    const rps = await throughput(server.port, requestKey)
    const streamed = median(await sequential(server.port, requestKey, STREAM_RUNS, true))
    console.log(
      `| ${label} | ${fixed(median(samples) - median(direct))} | ${fixed(quantile(samples, 0.99) - quantile(direct, 0.99))} | ${fixed(rps, 0)} | ${fixed(streamed - directStream, 1)} |`,
    )
    if (mode === 'gateway-compatible') {
      // Anthropic clients of an OpenAI-compatible provider: every request and chunk is translated.
      const translated = await sequentialMessages(server.port, SEQUENTIAL, false)
      const translatedStream = median(await sequentialMessages(server.port, STREAM_RUNS, true))
      translatedRow = `| router gateway, Anthropic → OpenAI-compatible (translated), plain | ${fixed(median(translated) - median(direct))} | ${fixed(quantile(translated, 0.99) - quantile(direct, 0.99))} | | ${fixed(translatedStream - directStream, 1)} |`
    }
    server.child.kill()
  }
  if (translatedRow !== undefined) console.log(translatedRow)
  upstream.child.kill()
}
