/**
 * Shared state on Redis (issue: many instances, one truth): the latency the Redis store adds to
 * an encrypted request over the in-memory store, on loopback, and requests per second at
 * concurrency 64 with one and with three proxy instances sharing one Redis. Sequential requests
 * alternate between an instance on the memory store and one on Redis, so machine noise hits
 * both series alike. Two configurations: replay nonces only (one SET NX PX a request), and every
 * shared feature on (replay, a rate-limited router with a concurrency cap and shared breakers,
 * the shared cache on a miss). Every process is its own: redis-server, the fake upstream, each
 * proxy, and the undici load generator here.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Pool } from 'undici'
import { CHAT_REQUEST_PLAIN } from '../adapters/openai/proxy/fields'
import { type CipherContext, compilePlainFields, createFieldKey, encryptRequestMessage } from '../src/cipher'
import { startRedis } from '../test/support/redis-servers'
import { fixed, median, quantile } from './stats'
import { type BenchRequest, CHAT_BODY, send } from './support/chat-load'

const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 2000)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3)
const key = randomBytes(32)
const fieldKey = createFieldKey('bench', key)
const tree = compilePlainFields(CHAT_REQUEST_PLAIN)

interface Started {
  port: number
  child: ChildProcess
}

function start(script: string, data: Record<string, unknown>): Promise<Started> {
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), [JSON.stringify(data)], {
    execArgv: ['--import', 'tsx'],
  })
  return new Promise((resolve, reject) => {
    child.once('message', (message) => resolve({ port: (message as { port: number }).port, child }))
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`benchmark process exited with ${code}`)))
  })
}

/** A fresh encrypted request; with `unique` a deterministic one the cache has never seen (a miss). */
function makeRequest(unique: boolean): BenchRequest {
  const body = unique
    ? {
        ...CHAT_BODY,
        temperature: 0,
        messages: [...CHAT_BODY.messages, { role: 'user', content: randomUUID() }],
      }
    : CHAT_BODY
  const nonce = randomBytes(16).toString('base64url')
  const context: CipherContext = { key: fieldKey, nonce, direction: 'request' }
  const message = encryptRequestMessage({
    tree,
    body,
    context,
    method: 'POST',
    routePath: '/v1/chat/completions',
    timestamp: String(Date.now()),
    keyHeaders: { 'x-continuum-key-id': 'bench' },
  })
  return { body: JSON.stringify(message.body), headers: message.headers }
}

/** Alternating sequential requests to the two instances, after a warm-up. */
async function sequential(memoryPort: number, redisPort: number, unique: boolean) {
  const memory = new Pool(`http://127.0.0.1:${memoryPort}`, { connections: 1 })
  const redis = new Pool(`http://127.0.0.1:${redisPort}`, { connections: 1 })
  const samples = { memory: [] as number[], redis: [] as number[] }
  for (let index = 0; index < SEQUENTIAL + 300; index++) {
    const [first, second] = [makeRequest(unique), makeRequest(unique)]
    let started = performance.now()
    await send(memory, first)
    const memoryMillis = performance.now() - started
    started = performance.now()
    await send(redis, second)
    const redisMillis = performance.now() - started
    if (index < 300) continue
    samples.memory.push(memoryMillis)
    samples.redis.push(redisMillis)
  }
  await Promise.all([memory.close(), redis.close()])
  return samples
}

/** Requests per second at concurrency 64, spread evenly over the instances. */
async function throughput(ports: readonly number[], unique: boolean): Promise<number> {
  const pools = ports.map(
    (port) => new Pool(`http://127.0.0.1:${port}`, { connections: Math.ceil(64 / ports.length) }),
  )
  const deadline = performance.now() + SECONDS * 1000
  let done = 0
  await Promise.all(
    Array.from({ length: 64 }, async (_, worker) => {
      const pool = pools[worker % pools.length]!
      while (performance.now() < deadline) {
        const request = makeRequest(unique)
        const response = await pool.request({ path: '/v1/chat/completions', method: 'POST', ...request })
        const text = await response.body.text()
        if (response.statusCode !== 200)
          throw new Error(`status ${response.statusCode}: ${text.slice(0, 300)}`)
        done++
      }
    }),
  )
  await Promise.all(pools.map((pool) => pool.close()))
  return done / SECONDS
}

export default async function redisBench(): Promise<void> {
  const redis = await startRedis()
  const started: Started[] = []
  try {
    const upstream = await start('./support/bench-servers.ts', { role: 'upstream' })
    started.push(upstream)
    const upstreamUrl = `http://127.0.0.1:${upstream.port}`
    const instance = async (store: 'memory' | 'redis', features: 'replay' | 'all') => {
      const running = await start('./redis-instance.ts', {
        upstream: upstreamUrl,
        key: key.toString('base64url'),
        store,
        redisUrl: redis.url,
        features,
      })
      started.push(running)
      return running
    }
    console.log(
      `redis-server on loopback, no persistence; ${availableParallelism()} cores; Express with encryption.\n`,
    )
    console.log(
      '| state in the store | memory p50 (ms) | Redis p50 (ms) | p50 added (ms) | memory p99 (ms) | Redis p99 (ms) | p99 added (ms) |',
    )
    console.log('| --- | --- | --- | --- | --- | --- | --- |')
    const rates: string[] = []
    for (const features of ['replay', 'all'] as const) {
      const memory = await instance('memory', features)
      const shared = await instance('redis', features)
      const unique = features === 'all'
      const samples = await sequential(memory.port, shared.port, unique)
      const [m50, r50, m99, r99] = [
        median(samples.memory),
        median(samples.redis),
        quantile(samples.memory, 0.99),
        quantile(samples.redis, 0.99),
      ]
      const label =
        features === 'replay'
          ? 'replay nonces (1 round trip)'
          : 'everything: replay, limits + lease (pipelined), cache miss (3 round trips in the request path)'
      console.log(
        `| ${label} | ${fixed(m50)} | ${fixed(r50)} | ${fixed(r50 - m50)} | ${fixed(m99)} | ${fixed(r99)} | ${fixed(r99 - m99)} |`,
      )
      const memoryRps = await throughput([memory.port], unique)
      const one = await throughput([shared.port], unique)
      const others = [await instance('redis', features), await instance('redis', features)]
      const three = await throughput([shared.port, ...others.map((other) => other.port)], unique)
      rates.push(
        `| ${features === 'replay' ? 'replay nonces' : 'everything'} | ${fixed(memoryRps, 0)} | ${fixed(one, 0)} | ${fixed(three, 0)} | ${fixed(three / one, 2)}× |`,
      )
      for (const running of [memory, shared, ...others]) running.child.kill()
    }
    console.log(
      '\n| state in the store | 1 instance, memory store (req/s @64) | 1 instance, Redis (req/s @64) | 3 instances, one Redis (req/s @64) | scaling 1 → 3 |',
    )
    console.log('| --- | --- | --- | --- | --- |')
    for (const row of rates) console.log(row)
  } finally {
    for (const running of started) running.child.kill()
    await redis.stop()
  }
}
