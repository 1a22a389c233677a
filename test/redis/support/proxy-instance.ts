/**
 * One proxy instance of the multi-instance suite, run as its own child process (`node --import
 * tsx`), as a deployment runs one per GPU host. It serves two Express apps: one whose shared
 * state is on a standalone Redis, one on a Redis Cluster, each with every shared feature on:
 * replay nonces, a router with a rate-limited provider and shared breakers, the encrypted
 * response cache, a privacy budget endpoint and the FHE endpoints. It reports its two ports over
 * IPC and exits when its parent says so (or goes away).
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ContinuumError, type CoreHandler, type CoreResponse, errorResponse } from 'continuum-proxy'
import { CacheStage, ResponseCache } from 'continuum-proxy/cache'
import { continuum } from 'continuum-proxy/express'
import { createFheHandler, FheService } from 'continuum-proxy/fhe'
import { PrivacyAccountant } from 'continuum-proxy/privacy'
import { vllm } from 'continuum-proxy/providers'
import { createRedisStateStore, type RedisConnection } from 'continuum-proxy/redis'
import { InferenceRouter } from 'continuum-proxy/router'
import express from 'express'

/** What the parent passes (JSON in argv[2]). */
export interface InstanceConfig {
  standalone: string
  cluster: readonly string[]
  good: string
  broken: string
  keyId: string
  keyHex: string
  cacheSecretHex: string
  requestsPerMinute: number
  collection: number[][]
}

/** Public model name -> [provider id, upstream, provider model]. */
export const MODELS = {
  cached: ['main', 'good', 'model-main'],
  limited: ['limited', 'good', 'model-limited'],
  moving: ['moving', 'good', 'model-moving'],
  flaky: ['flaky', 'broken', 'model-flaky'],
} as const

const config = JSON.parse(process.argv[2] ?? '{}') as InstanceConfig

function json(status: number, value: unknown): CoreResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) }
}

async function readJson(body: Parameters<CoreHandler>[0]['body']): Promise<Record<string, unknown>> {
  if (body.kind !== 'stream') throw new ContinuumError('CONTINUUM_INVALID_JSON', 'expected a JSON body')
  const chunks: Uint8Array[] = []
  for await (const chunk of body.stream) chunks.push(chunk)
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>
}

/** `POST /privacy/charge {identity, epsilon}`: charges one budget shared by every instance. */
function privacyHandler(accountant: PrivacyAccountant): CoreHandler {
  return async (request) => {
    if (request.url !== '/privacy/charge' || request.method !== 'POST') return undefined
    try {
      const body = await readJson(request.body)
      const budget = await accountant.charge(String(body.identity), Number(body.epsilon))
      return json(200, { remaining: budget.epsilon })
    } catch (error) {
      return errorResponse(error)
    }
  }
}

async function app(connection: RedisConnection): Promise<{ port: number; close(): Promise<void> }> {
  const store = await createRedisStateStore({ connection, timeoutMs: 300, maxReconnectDelayMs: 200 })
  const provider = (model: keyof typeof MODELS) => {
    const [id, upstream] = MODELS[model]
    return vllm({ id, endpoints: [upstream === 'good' ? config.good : config.broken], models: [] })
  }
  const backup = vllm({ id: 'backup', endpoints: [config.good], models: [] })
  const router = new InferenceRouter({
    providers: [provider('cached'), provider('limited'), provider('moving'), provider('flaky'), backup],
    aliases: {
      cached: { main: MODELS.cached[2] },
      limited: { limited: MODELS.limited[2] },
      moving: { moving: MODELS.moving[2] },
      flaky: { flaky: MODELS.flaky[2], backup: 'model-backup' },
    },
    policy: {
      type: 'fallback_chain',
      chain: ['main'],
      byModel: { limited: ['limited'], moving: ['moving'], flaky: ['flaky', 'backup'] },
    },
    rateLimits: {
      limited: { requestsPerMinute: config.requestsPerMinute },
      moving: { requestsPerMinute: config.requestsPerMinute },
    },
    retry: { maxRetries: 0 },
    breaker: { failureThreshold: 2, cooldownMs: 60_000 },
    sharedBreakers: { refreshMs: 100 },
    store,
  })
  const fhe = new FheService({ parameters: 'ckks-4096', workers: 1, store })
  await fhe.registerCollection('docs', config.collection)
  const server: Server = express()
    .use(
      continuum({
        router,
        keys: { keys: [{ id: config.keyId, key: config.keyHex }] },
        store,
        stages: [new CacheStage(new ResponseCache({ secret: config.cacheSecretHex, store }))],
        handlers: [
          privacyHandler(new PrivacyAccountant({ epsilon: 1, store })),
          createFheHandler({ service: fhe }),
        ],
      }),
    )
    .listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await Promise.allSettled([router.close(), fhe.close(), store.close()])
    },
  }
}

const [standalone, cluster] = await Promise.all([
  app({ url: config.standalone }),
  app({ cluster: { rootNodes: config.cluster } }),
])
process.send?.({ standalone: standalone.port, cluster: cluster.port })
const stop = async () => {
  await Promise.allSettled([standalone.close(), cluster.close()])
  process.exit(0)
}
process.on('message', (message) => {
  if (message === 'stop') void stop()
})
process.on('disconnect', () => void stop())
