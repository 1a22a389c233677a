/**
 * Gateway overhead (issue 3, item 5): latency a router gateway adds per sequential 2 KB chat
 * request compared with calling a fast fake OpenAI upstream directly, next to the plain proxy in
 * front of the same upstream; requests per second at concurrency 64; per-chunk cost of a
 * 1,000-chunk stream re-encoded event by event. Two gateway paths of issue 12 are measured apart:
 * an OpenAI request to an OpenAI-compatible provider (same dialect: forwarded as sent, answer
 * relayed as it came), and an Anthropic request whose stream is translated from an OpenAI-compatible
 * provider's chunks. The upstream and each gateway run in their own child process (this file,
 * started with GATEWAY_BENCH_ROLE), the load comes from undici here. The sequential series of all
 * rows (the direct one included) are taken interleaved, in rotating rounds, so the rows compare
 * the same minutes of a shared machine; the last line is the issue-12 figure, the same-dialect
 * pass-through's p50 minus the plain proxy's.
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
/** Rounds the sequential series are interleaved in (20 requests per series a round by default). */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 100)

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

/** One series of sequential requests: its own pool of one keep-alive connection. */
interface Series {
  label: string
  pool: Pool
  /** Sends one request and resolves once the whole answer was read. */
  send(): Promise<void>
  samples: number[]
  /** The median of each round's samples, for differences paired by round. */
  roundMedians: number[]
}

/**
 * A series that times `request` on its own keep-alive connection; `prepare` runs before the clock
 * starts (an encrypted request is sealed with a fresh nonce each time).
 */
function timedSeries<T>(
  label: string,
  port: number,
  prepare: () => T | Promise<T>,
  request: (pool: Pool, prepared: T) => Promise<void>,
): Series {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 1 })
  return {
    label,
    pool,
    samples: [],
    roundMedians: [],
    async send() {
      const prepared = await prepare()
      const started = performance.now()
      await request(pool, prepared)
      this.samples.push(performance.now() - started)
    },
  }
}

function chatSeries(label: string, port: number, key: Buffer | undefined): Series {
  return timedSeries(label, port, () => makeRequest(key, false), send)
}

/** The same 2 KB conversation as an Anthropic Messages request. */
const MESSAGES_BODY = {
  model: 'bench',
  max_tokens: 128,
  system: chatBody.messages[0]!.content,
  messages: [{ role: 'user', content: chatBody.messages[1]!.content }],
}

const MESSAGES_HEADERS = { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' }

/** Sends one Anthropic request (streamed when asked) to `/v1/messages` and reads the whole answer. */
async function postMessages(pool: Pool, body: string): Promise<void> {
  const response = await pool.request({
    path: '/v1/messages',
    method: 'POST',
    headers: MESSAGES_HEADERS,
    body,
  })
  await response.body.arrayBuffer()
  if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}`)
}

function messagesSeries(label: string, port: number): Series {
  const body = JSON.stringify(MESSAGES_BODY)
  return timedSeries(label, port, () => body, postMessages)
}

/**
 * Sequential latency of every series at the same moments: after a warm-up, `ROUNDS` rounds each
 * send `count / ROUNDS` requests per series (20, by default), the order of the series rotating
 * from round to round, so a change of load on a shared machine hits every row alike. (The rows
 * used to be measured one after the other, a minute apart, and on this machine the load moves
 * more than that between two rows.) Rounds of one request each would also work, but then every
 * request wakes a sleeping process, and on a loaded machine the wake-up dominates what is measured.
 */
async function interleaved(series: readonly Series[], count: number): Promise<void> {
  for (const entry of series) {
    for (let index = 0; index < 200; index++) await entry.send()
    entry.samples.length = 0
  }
  const perRound = Math.max(1, Math.round(count / ROUNDS))
  for (let round = 0; round < ROUNDS; round++) {
    for (let offset = 0; offset < series.length; offset++) {
      const entry = series[(round + offset) % series.length]!
      const first = entry.samples.length
      for (let index = 0; index < perRound; index++) await entry.send()
      entry.roundMedians.push(median(entry.samples.slice(first)))
    }
  }
}

/** Sequential streamed requests (1,000 chunks each); milliseconds each. */
async function streamed(port: number, key: Buffer | undefined, count: number): Promise<number[]> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 1 })
  const samples: number[] = []
  for (let index = 0; index < count + 3; index++) {
    const request = await makeRequest(key, true)
    const started = performance.now()
    await send(pool, request)
    if (index >= 3) samples.push(performance.now() - started)
  }
  await pool.close()
  return samples
}

/** Sequential streamed Anthropic requests; milliseconds each. */
async function streamedMessages(port: number, count: number): Promise<number[]> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 1 })
  const body = JSON.stringify({ ...MESSAGES_BODY, stream: true })
  const samples: number[] = []
  for (let index = 0; index < count + 3; index++) {
    const started = performance.now()
    await postMessages(pool, body)
    if (index >= 3) samples.push(performance.now() - started)
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
  const modes: Array<[Mode, string]> = [
    ['proxy', 'proxy (URL upstream), plain'],
    ['gateway', 'router gateway, plain'],
    ['gateway-compatible', 'router gateway, OpenAI → OpenAI-compatible (same dialect), plain'],
    ['gateway-encrypted', 'router gateway, field encryption'],
  ]
  const servers = new Map<Mode, Started>()
  for (const [mode] of modes) {
    servers.set(mode, await start({ role: mode, upstream: url, key: key.toString('base64url') }))
  }
  const requestKey = (mode: Mode) => (mode === 'gateway-encrypted' ? key : undefined)
  const direct = chatSeries('direct', upstream.port, undefined)
  const rows = modes.map(([mode]) => chatSeries(mode, servers.get(mode)!.port, requestKey(mode)))
  // Anthropic clients of an OpenAI-compatible provider: every request and chunk is translated.
  const translated = messagesSeries('translated', servers.get('gateway-compatible')!.port)
  await interleaved([direct, ...rows, translated], SEQUENTIAL)
  for (const series of [direct, ...rows, translated]) await series.pool.close()

  const directRps = await throughput(upstream.port, undefined)
  const directStream = median(await streamed(upstream.port, undefined, STREAM_RUNS))
  const directSamples = direct.samples
  console.log(
    `Direct to upstream: p50 ${fixed(median(directSamples))} ms, p99 ${fixed(quantile(directSamples, 0.99))} ms, ${fixed(directRps, 0)} req/s at concurrency 64, 1,000-chunk stream ${fixed(directStream, 2)} ms\n`,
  )
  console.log(
    '| Express, in front of the upstream | p50 added (ms) | p99 added (ms) | req/s @64 | per-chunk cost (µs) |',
  )
  console.log('| --- | --- | --- | --- | --- |')
  const added = (samples: number[], q: number) => quantile(samples, q) - quantile(directSamples, q)
  for (const [index, [mode, label]] of modes.entries()) {
    const server = servers.get(mode)!
    const rps = await throughput(server.port, requestKey(mode))
    const stream = median(await streamed(server.port, requestKey(mode), STREAM_RUNS))
    const samples = rows[index]!.samples
    console.log(
      `| ${label} | ${fixed(added(samples, 0.5))} | ${fixed(added(samples, 0.99))} | ${fixed(rps, 0)} | ${fixed(stream - directStream, 1)} |`,
    )
  }
  const translatedStream = median(
    await streamedMessages(servers.get('gateway-compatible')!.port, STREAM_RUNS),
  )
  console.log(
    `| router gateway, Anthropic → OpenAI-compatible (translated), plain | ${fixed(added(translated.samples, 0.5))} | ${fixed(added(translated.samples, 0.99))} | | ${fixed(translatedStream - directStream, 1)} |`,
  )
  const proxy = rows[0]!
  const passThrough = rows[2]!
  const proxyP50 = median(proxy.samples)
  const passThroughP50 = median(passThrough.samples)
  // Paired by round: each round's difference is taken at one moment, so load drift cancels.
  const paired = median(passThrough.roundMedians.map((value, round) => value - proxy.roundMedians[round]!))
  console.log(
    `\nSame-dialect pass-through against the plain proxy, same rounds: p50 ${fixed(passThroughP50)} ms vs ${fixed(proxyP50)} ms, **${fixed(passThroughP50 - proxyP50)} ms** added; median of the ${proxy.roundMedians.length} per-round differences ${fixed(paired)} ms (target ≤ 0.1 ms)`,
  )
  for (const server of servers.values()) server.child.kill()
  upstream.child.kill()
}
