/**
 * A proxy instance for the `redis` benchmark, in its own child process: Express with encryption,
 * its shared state in a MemoryStateStore or on Redis. `replay` puts only the replay nonces in the
 * store (one SET NX PX a request); `all` adds a router with rate limits and a concurrency cap
 * (one atomic charge and one lease, pipelined, then their release) and the shared response cache
 * (a GET, and a SET on a miss), in front of the same fast fake upstream.
 */
import type { AddressInfo } from 'node:net'
import type { StateStore } from '../src/stores'

interface Data {
  upstream: string
  key: string
  store: 'memory' | 'redis'
  redisUrl?: string
  features: 'replay' | 'all'
}

const data = JSON.parse(process.argv[2] ?? '{}') as Data

async function openStore(): Promise<StateStore> {
  if (data.store === 'memory') {
    const { MemoryStateStore } = await import('../src/stores')
    return new MemoryStateStore()
  }
  const { createRedisStateStore } = await import('../src/redis')
  return createRedisStateStore({ connection: { url: data.redisUrl! } })
}

async function start(): Promise<number> {
  const store = await openStore()
  const { default: express } = await import('express')
  const { continuum } = await import('../middleware/express')
  const base = { keys: { keys: [{ id: 'bench', key: data.key }] }, store }
  let options: Record<string, unknown> = { ...base, upstream: { url: data.upstream, connections: 256 } }
  if (data.features === 'all') {
    const { InferenceRouter } = await import('../src/router')
    const { vllm } = await import('../adapters/providers')
    const { CacheStage, ResponseCache } = await import('../src/cache')
    const router = new InferenceRouter({
      providers: [vllm({ id: 'gpu', endpoints: [data.upstream], models: [] })],
      rateLimits: { gpu: { requestsPerMinute: 1e9, tokensPerMinute: 1e12, maxConcurrency: 100_000 } },
      sharedBreakers: true,
      retry: { maxRetries: 0 },
      store,
    })
    const cache = new ResponseCache({ secret: data.key, store })
    options = { ...base, router, stages: [new CacheStage(cache)] }
  }
  const app = express()
  app.use(continuum(options))
  const server = app.listen(0, '127.0.0.1')
  server.keepAliveTimeout = 60_000
  await new Promise((resolve) => server.once('listening', resolve))
  return (server.address() as AddressInfo).port
}

process.send?.({ port: await start() })
