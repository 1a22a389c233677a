/**
 * Shared pieces of the cache tests: an Express app with the real `continuum()` middleware on
 * port 0 in front of the fake OpenAI-compatible upstream, with a ResponseCache the test can
 * inspect, and official OpenAI clients behind `createEncryptedFetch` whose wire is recorded (the
 * encrypted bodies, as the network sees them, and any cache status header, which must be absent
 * on encrypted exchanges). The cache result of each request comes from the cache's `onResult`,
 * credited to the client that sent it (the tests send one request at a time).
 */
import { randomBytes } from 'node:crypto'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ProxyOptions } from 'continuum-proxy'
import { CacheStage, ResponseCache, type ResponseCacheOptions } from 'continuum-proxy/cache'
import { createEncryptedFetch } from 'continuum-proxy/client'
import { continuum } from 'continuum-proxy/express'
import express from 'express'
import OpenAI from 'openai'
import { startOpenAIUpstream } from '../kit/openai-echo'
import type { FakeUpstream } from '../kit/server'

export const KEY_ID = 'cache-k1'
export const KEY = randomBytes(32)

/** The results list of the client whose request is in flight. */
let activeResults: string[] | undefined

export interface CacheApp {
  /** Origin of the proxy, e.g. `http://127.0.0.1:1234`. */
  origin: string
  upstream: FakeUpstream
  cache: ResponseCache
  close(): Promise<void>
}

/** Starts the fake upstream and an Express app with the cache; `proxy` adds proxy options. */
export async function startCacheApp(
  cacheOptions: ResponseCacheOptions = {},
  proxy: Partial<ProxyOptions> = {},
): Promise<CacheApp> {
  const upstream = await startOpenAIUpstream()
  const cache = new ResponseCache({
    ...cacheOptions,
    onResult(result, route) {
      activeResults?.push(result)
      cacheOptions.onResult?.(result, route)
    },
  })
  const app = express()
  app.use(
    continuum({
      upstream: upstream.url,
      keys: { keys: [{ id: KEY_ID, key: KEY }] },
      ...proxy,
      stages: [...(proxy.stages ?? []), new CacheStage(cache)],
    }),
  )
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening))
  })
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    upstream,
    cache,
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await upstream.close()
    },
  }
}

/** An encrypting OpenAI client and what crossed its wire. */
export interface RecordedClient {
  openai: OpenAI
  /** The cache result of each of its requests on a cacheable route, in order. */
  results: string[]
  /** `x-continuum-cache` of each response as the network saw it (`none` when absent). */
  clearResults: string[]
  /** Raw (encrypted) response bodies, in order; streams included once read. */
  responses: string[]
  /** Resolves once every response body so far has been recorded. */
  settled(): Promise<unknown>
}

/** An encrypting OpenAI client (its own nonce per request) with the given API key. */
export function recordedClient(origin: string, apiKey = 'sk-cache-test'): RecordedClient {
  const results: string[] = []
  const clearResults: string[] = []
  const responses: string[] = []
  const pending: Promise<void>[] = []
  const wire = (async (input: RequestInfo | URL, init?: RequestInit) => {
    activeResults = results
    const response = await globalThis.fetch(input, init)
    clearResults.push(response.headers.get('x-continuum-cache') ?? 'none')
    const copy = response.clone()
    const index = responses.push('') - 1
    pending.push(
      copy.text().then(
        (text) => {
          responses[index] = text
        },
        () => undefined,
      ),
    )
    return response
  }) as typeof fetch
  const openai = new OpenAI({
    baseURL: `${origin}/v1`,
    apiKey,
    maxRetries: 0,
    fetch: createEncryptedFetch({ keyId: KEY_ID, key: KEY, fetch: wire }),
  })
  return { openai, results, clearResults, responses, settled: () => Promise.all(pending) }
}

/** A clock the test moves by hand. */
export function manualClock(start = 1_700_000_000_000): { now(): number; advance(ms: number): void } {
  let time = start
  return {
    now: () => time,
    advance(ms) {
      time += ms
    },
  }
}

/** The chat requests the fake upstream received. */
export function chatRequests(upstream: FakeUpstream): number {
  return upstream.requests.filter((request) => request.url === '/v1/chat/completions').length
}
