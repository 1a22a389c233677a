/**
 * Proxy overhead (issue: the encrypted inference proxy): added latency per sequential 2 KB chat
 * request versus calling the upstream directly, requests per second at concurrency 64, for each
 * framework with encryption on and off; per-chunk cost of a 1,000-chunk stream; RSS growth over
 * 100,000 requests; bytes per nonce of the replay memory at 250,000 and 1,000,000 nonces. Servers
 * run in worker threads; the load comes from undici on the main thread.
 */

import { type ChildProcess, fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { Pool } from 'undici'
import { CHAT_REQUEST_PLAIN } from '../adapters/openai/proxy/fields'
import { type CipherContext, compilePlainFields, createFieldKey, encryptRequestMessage } from '../src/cipher'
import { fixed, median, quantile } from './stats'
import { type BenchRequest, CHAT_BODY as chatBody, post, send } from './support/chat-load'
import { forkBenchServer } from './support/server-process'

const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 3000)
const CONCURRENT_SECONDS = Number(process.env.BENCH_SECONDS ?? 3)
const RSS_REQUESTS = Number(process.env.BENCH_RSS_REQUESTS ?? 100_000)
const NONCE_COUNTS = [250_000, 1_000_000]
const key = randomBytes(32)
const fieldKey = createFieldKey('bench', key)
const tree = compilePlainFields(CHAT_REQUEST_PLAIN)

interface Started {
  port: number
  worker: ChildProcess & { terminate(): void }
}

function start(data: Record<string, unknown>): Promise<Started> {
  const child = forkBenchServer(data, ['--expose-gc'])
  const worker = Object.assign(child, { terminate: () => void child.kill() })
  return new Promise((resolve, reject) => {
    child.once('message', (message) => resolve({ port: (message as { port: number }).port, worker }))
    child.once('error', reject)
  })
}

function rssOf(worker: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    worker.once('message', (message) => resolve((message as { rss: number }).rss))
    worker.send('rss')
  })
}

/** A request ready to send: encrypted ones get a fresh nonce each, as a real client would. */
function makeRequest(encrypted: boolean, stream = false): BenchRequest {
  const body = stream ? { ...chatBody, stream: true } : chatBody
  if (!encrypted) return { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }
  const nonce = randomBytes(16).toString('base64url')
  const timestamp = String(Date.now())
  const context: CipherContext = { key: fieldKey, nonce, direction: 'request' }
  const message = encryptRequestMessage({
    tree,
    body,
    context,
    method: 'POST',
    routePath: '/v1/chat/completions',
    timestamp,
    keyHeaders: { 'x-continuum-key-id': 'bench' },
  })
  return { body: message.text, headers: message.headers }
}

/**
 * Sequential latency, interleaved: each proxied request is paired with a direct one sent right
 * before it, so machine noise hits both series alike. Returns both series after a warm-up.
 */
async function sequential(
  directPort: number,
  proxyPort: number,
  encrypted: boolean,
): Promise<{ direct: number[]; proxied: number[] }> {
  const direct = new Pool(`http://127.0.0.1:${directPort}`, { connections: 1 })
  const proxied = new Pool(`http://127.0.0.1:${proxyPort}`, { connections: 1 })
  const requests = Array.from({ length: SEQUENTIAL + 300 }, () => makeRequest(encrypted))
  const plain = makeRequest(false)
  const result = { direct: [] as number[], proxied: [] as number[] }
  for (const [index, request] of requests.entries()) {
    let started = performance.now()
    await send(direct, plain)
    const directMillis = performance.now() - started
    started = performance.now()
    await send(proxied, request)
    const proxiedMillis = performance.now() - started
    if (index < 300) continue
    result.direct.push(directMillis)
    result.proxied.push(proxiedMillis)
  }
  await Promise.all([direct.close(), proxied.close()])
  return result
}

async function throughput(port: number, encrypted: boolean, seconds: number): Promise<number> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 64 })
  const deadline = performance.now() + seconds * 1000
  let done = 0
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (performance.now() < deadline) {
        await send(pool, makeRequest(encrypted))
        done++
      }
    }),
  )
  await pool.close()
  return done / seconds
}

async function streamMillis(port: number, encrypted: boolean, runs: number): Promise<number[]> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 1 })
  const samples: number[] = []
  for (let run = 0; run < runs; run++) {
    const request = makeRequest(encrypted, true)
    const started = performance.now()
    await send(pool, request)
    samples.push(performance.now() - started)
  }
  await pool.close()
  return samples
}

/**
 * `count` encrypted requests at concurrency 64. A request can reach a busy shared machine's proxy
 * more than a 1-second replay window after its timestamp; the proxy then rightly refuses it
 * (CONTINUUM_TIMESTAMP_OUT_OF_WINDOW), and, as a real client would, it is built afresh and sent
 * again. Returns how many were refused so; any other refusal fails the bench.
 */
async function load(port: number, count: number): Promise<number> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 64 })
  let sent = 0
  let stale = 0
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (sent < count) {
        sent++
        for (;;) {
          const status = await post(pool, makeRequest(true))
          if (status.code === 200) break
          if (status.error !== 'CONTINUUM_TIMESTAMP_OUT_OF_WINDOW' || ++stale > count / 100)
            throw new Error(`status ${status.code} ${status.error ?? ''}`)
        }
      }
    }),
  )
  await pool.close()
  return stale
}

const megabytes = (bytes: number): string => fixed(bytes / 2 ** 20, 1)

interface NonceMemory {
  nonces: number
  tableBytesPerNonce: number
  processBytesPerNonce: number
  microsecondsPerAdd: number
}

/** Fills a fresh replay memory with `count` nonces in a child process and reads what they cost. */
function nonceMemory(count: number): Promise<NonceMemory> {
  const child = fork(fileURLToPath(new URL('./support/nonce-memory.ts', import.meta.url)), [String(count)], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
  })
  return new Promise((resolve, reject) => {
    child.once('message', (message) => {
      child.kill()
      resolve(message as NonceMemory)
    })
    child.once('error', reject)
  })
}

export default async function proxyBench(): Promise<void> {
  const started: Started[] = []
  try {
    const upstream = await start({ role: 'upstream' })
    started.push(upstream)
    const upstreamUrl = `http://127.0.0.1:${upstream.port}`
    const directRps = await throughput(upstream.port, false, CONCURRENT_SECONDS)
    const directStream = median(await streamMillis(upstream.port, false, 30))
    console.log(
      `Direct to upstream: ${fixed(directRps, 0)} req/s at concurrency 64, 1,000-chunk stream ${fixed(directStream, 2)} ms\n`,
    )
    console.log(
      '| framework | encryption | direct p50 (ms) | proxied p50 (ms) | p50 added (ms) | p99 added (ms) | req/s @64 | per-chunk cost (µs) |',
    )
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- |')
    const bare = await start({ role: 'bare', upstream: upstreamUrl })
    started.push(bare)
    const floor = await sequential(upstream.port, bare.port, false)
    console.log(
      `| bare node:http + undici relay (the floor) | off | ${fixed(median(floor.direct))} | ${fixed(median(floor.proxied))} | ${fixed(median(floor.proxied) - median(floor.direct))} | ${fixed(quantile(floor.proxied, 0.99) - quantile(floor.direct, 0.99))} | - | - |`,
    )
    bare.worker.terminate()
    for (const framework of ['express', 'koa', 'fastify'] as const) {
      for (const encryption of [false, true]) {
        const proxy = await start({
          role: 'proxy',
          framework,
          upstream: upstreamUrl,
          key: key.toString('base64url'),
          encryption,
        })
        started.push(proxy)
        const samples = await sequential(upstream.port, proxy.port, encryption)
        const rps = await throughput(proxy.port, encryption, CONCURRENT_SECONDS)
        const streamed = median(await streamMillis(proxy.port, encryption, 30))
        const perChunk = ((streamed - directStream) * 1000) / 1000
        const directP50 = median(samples.direct)
        const proxiedP50 = median(samples.proxied)
        const p99Added = quantile(samples.proxied, 0.99) - quantile(samples.direct, 0.99)
        console.log(
          `| ${framework} | ${encryption ? 'on' : 'off'} | ${fixed(directP50)} | ${fixed(proxiedP50)} | ${fixed(proxiedP50 - directP50)} | ${fixed(p99Added)} | ${fixed(rps, 0)} | ${fixed(perChunk, 1)} |`,
        )
        proxy.worker.terminate()
      }
    }
    // Memory: the first requests grow the allocator's pools once (cold start); what must stay flat
    // is the steady state, so RSS is read idle, after a 10,000-request warm-up, and after N more.
    // Replay protection keeps every nonce of the window by design, so it is measured twice: with
    // the default 5-minute window, and with a 1-second one that isolates everything else.
    for (const replayWindowMs of [300_000, 1_000]) {
      const proxy = await start({
        role: 'proxy',
        framework: 'express',
        upstream: upstreamUrl,
        key: key.toString('base64url'),
        encryption: true,
        replayWindowMs,
      })
      started.push(proxy)
      const idle = await rssOf(proxy.worker)
      let stale = await load(proxy.port, 10_000)
      const warm = await rssOf(proxy.worker)
      stale += await load(proxy.port, RSS_REQUESTS)
      const after = await rssOf(proxy.worker)
      console.log(
        `\nRSS of the proxy process (Express, encryption on, replay window ${replayWindowMs / 1000} s, after GC): ${megabytes(idle)} MB idle, ${megabytes(warm)} MB after a 10,000-request warm-up, ${megabytes(after)} MB after ${RSS_REQUESTS.toLocaleString('en')} more requests: steady-state growth ${megabytes(after - warm)} MB${stale === 0 ? '' : ` (${stale} requests arrived outside the window and were sent again)`}`,
      )
      proxy.worker.terminate()
    }
    // What one remembered nonce costs, measured rather than assumed (the docs once said 60 bytes
    // while the old string sets took 93).
    console.log('\n| nonces held | table bytes / nonce | process heap + buffers / nonce | µs / add |')
    console.log('| --- | --- | --- | --- |')
    for (const count of NONCE_COUNTS) {
      const memory = await nonceMemory(count)
      console.log(
        `| ${memory.nonces.toLocaleString('en')} | ${fixed(memory.tableBytesPerNonce, 1)} | ${fixed(memory.processBytesPerNonce, 1)} | ${fixed(memory.microsecondsPerAdd, 2)} |`,
      )
    }
  } finally {
    for (const server of started) server.worker.terminate()
  }
}
