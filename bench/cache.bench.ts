/**
 * Encrypted response cache: latency of one encrypted chat request through the Express middleware
 * without a cache, on a cache miss (forward, tee, encrypt at rest) and on a hit (HMAC lookup,
 * decrypt, replay, re-seal for the requester's nonce), for a JSON answer and a 200-event stream.
 * The upstream answers at once, so the table shows the cache's own cost and the floor a hit
 * reaches; on a real GPU server a miss also pays the whole generation time.
 */
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { CacheStage, ResponseCache } from 'continuum-proxy/cache'
import { continuum } from 'continuum-proxy/express'
import express from 'express'
import { Pool } from 'undici'
import { CHAT_REQUEST_PLAIN } from '../adapters/openai/proxy/fields'
import { type CipherContext, compilePlainFields, createFieldKey, encryptRequestMessage } from '../src/cipher'
import { fixed, median, quantile } from './stats'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 600)
const key = randomBytes(32)
const fieldKey = createFieldKey('bench', key)
const tree = compilePlainFields(CHAT_REQUEST_PLAIN)
const answer = 'A cached answer of moderate length. '.repeat(40)

/** An upstream that answers at once: a ~1.5 KB chat completion, or a 200-event SSE stream. */
function startUpstream(): Promise<Server> {
  const server = createServer(async (request, response) => {
    let text = ''
    for await (const part of request) text += part
    const body = JSON.parse(text) as { stream?: boolean; model: string }
    if (body.stream !== true) {
      response.setHeader('content-type', 'application/json')
      response.end(
        JSON.stringify({
          id: 'chatcmpl-bench',
          object: 'chat.completion',
          created: 1,
          model: body.model,
          choices: [{ index: 0, message: { role: 'assistant', content: answer }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 9, completion_tokens: 300, total_tokens: 309 },
        }),
      )
      return
    }
    response.setHeader('content-type', 'text/event-stream')
    let events = ''
    for (let index = 0; index < 200; index++) {
      const chunk = { id: 'c', object: 'chat.completion.chunk', created: 1, model: body.model }
      events += `data: ${JSON.stringify({ ...chunk, choices: [{ index: 0, delta: { content: 'word ' }, finish_reason: null }] })}\n\n`
    }
    response.end(`${events}data: [DONE]\n\n`)
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

function encryptedRequest(
  prompt: string,
  stream: boolean,
): { body: string; headers: Record<string, string> } {
  const nonce = randomBytes(16).toString('base64url')
  const timestamp = String(Date.now())
  const context: CipherContext = { key: fieldKey, nonce, direction: 'request' }
  const plain = {
    model: 'bench',
    messages: [{ role: 'user', content: prompt }],
    ...(stream ? { stream } : {}),
  }
  const message = encryptRequestMessage({
    tree,
    body: plain,
    context,
    method: 'POST',
    routePath: '/v1/chat/completions',
    timestamp,
    headers: { authorization: 'Bearer bench' },
    keyHeaders: { 'x-continuum-key-id': 'bench' },
  })
  return { body: message.text, headers: message.headers }
}

async function startProxy(upstreamUrl: string, cache: ResponseCache | false): Promise<Server> {
  const app = express()
  app.use(
    continuum({
      upstream: upstreamUrl,
      keys: { keys: [{ id: 'bench', key }] },
      stages: cache === false ? [] : [new CacheStage(cache)],
    }),
  )
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server))
  })
}

/**
 * The cache result of the request in flight. Encrypted exchanges never carry `x-continuum-cache`
 * (in clear it would tell an observer that two prompts were equal), so it is read from `onResult`;
 * the requests are sequential.
 */
let lastResult = 'none'

/** Milliseconds per request; `prompt(index)` picks the question, so misses and hits are chosen by the caller. */
async function measure(
  pool: Pool,
  stream: boolean,
  prompt: (index: number) => string,
  expected: string,
): Promise<number[]> {
  const times: number[] = []
  for (let index = 0; index < ROUNDS; index++) {
    const request = encryptedRequest(prompt(index), stream)
    lastResult = 'none'
    const started = performance.now()
    const response = await pool.request({ path: '/v1/chat/completions', method: 'POST', ...request })
    await response.body.arrayBuffer()
    times.push(performance.now() - started)
    const result = lastResult
    if (response.statusCode !== 200 || result !== expected) {
      throw new Error(`status ${response.statusCode}, cache ${String(result)} (wanted ${expected})`)
    }
  }
  return times
}

export default async function (): Promise<void> {
  const upstream = await startUpstream()
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`
  const cache = new ResponseCache({
    onResult: (result) => {
      lastResult = result
    },
  })
  const plain = await startProxy(upstreamUrl, false)
  const cached = await startProxy(upstreamUrl, cache)
  const poolOf = (server: Server) => new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
  const plainPool = poolOf(plain)
  const cachedPool = poolOf(cached)
  console.log(`${ROUNDS} sequential encrypted requests per row; upstream answers at once.\n`)
  console.log('| answer | path | median ms | p99 ms |')
  console.log('|---|---|---|---|')
  for (const stream of [false, true]) {
    const kind = stream ? 'stream (200 events)' : 'JSON (~1.5 KB)'
    await measure(plainPool, stream, (index) => `warm-up ${index}`, 'none')
    const rows: [string, number[]][] = [
      ['no cache', await measure(plainPool, stream, (index) => `question ${index}`, 'none')],
      ['cache miss', await measure(cachedPool, stream, (index) => `question ${index}`, 'miss')],
      ['cache hit', await measure(cachedPool, stream, (index) => `question ${index}`, 'hit')],
    ]
    for (const [path, times] of rows) {
      console.log(`| ${kind} | ${path} | ${fixed(median(times))} | ${fixed(quantile(times, 0.99))} |`)
    }
  }
  console.log(
    `\nCache after the run: ${cache.size} entries, ${(cache.bytes / 1024).toFixed(0)} KiB encrypted.`,
  )
  await Promise.all([plainPool.close(), cachedPool.close()])
  for (const server of [plain, cached, upstream]) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
}
