/**
 * The encrypted response cache shared on real Redis: two Express instances with one cache
 * secret, each on its own connection. A miss answered upstream by one instance is a hit on the
 * other (the SDK reads the same answer, decrypted for its own request); what Redis holds is an
 * HMAC key and AES-GCM ciphertext with the TTL, never the prompt or the answer. An answer over
 * `maxEntryBytes` is not stored; an entry altered in Redis is dropped, not served; an old
 * ciphertext put back with a fresh TTL is refused by its sealed timestamp; the optional
 * in-process layer answers without a round trip. With Redis gone the cache fails open (a miss)
 * or, if configured, closed with a coded 503.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { CacheStage, ResponseCache, type ResponseCacheOptions } from 'continuum-proxy/cache'
import { createRedisStateStore, type RedisStateStore } from 'continuum-proxy/redis'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { frameworks, type RunningApp } from '../conformance/frameworks'
import { openaiClient, SECRET, sharedKeys } from '../conformance/support'
import { startOpenAIUpstream } from '../kit/openai-echo'
import type { FakeUpstream } from '../kit/server'
import { startRedis } from '../support/redis-servers'
import { type SharedBackends, startBackends, storeFailures, type Topology } from './support/shared-stores'

const express = frameworks.find((harness) => harness.name === 'express')!
const secret = randomBytes(32)

let backends: SharedBackends
let upstream: FakeUpstream

beforeAll(async () => {
  ;[backends, upstream] = await Promise.all([startBackends(), startOpenAIUpstream()])
}, 60_000)

afterAll(async () => {
  await Promise.all([backends?.stop(), upstream?.close()])
})

function start(store: RedisStateStore, cache: Partial<ResponseCacheOptions> = {}): Promise<RunningApp> {
  return express.start({
    upstream: upstream.url,
    keys: sharedKeys(),
    store,
    stages: [new CacheStage(new ResponseCache({ secret, store, ...cache }))],
  })
}

async function ask(app: RunningApp, prompt: string): Promise<string> {
  const answer = await openaiClient(app.url).chat.completions.create({
    model: 'llama-3-8b',
    temperature: 0,
    messages: [{ role: 'user', content: prompt }],
  })
  return answer.choices[0]?.message.content ?? ''
}

/** Every cache entry Redis holds, on every node, with its TTL. */
async function entries(urls: readonly string[]): Promise<{ key: string; value: Buffer; ttl: number }[]> {
  const found: { key: string; value: Buffer; ttl: number }[] = []
  for (const url of urls) {
    const admin = createClient({ url })
    admin.on('error', () => undefined)
    await admin.connect()
    for (const key of await admin.keys('continuum:cache:*')) {
      const value = await admin.withTypeMapping({ 36: Buffer }).get(key)
      found.push({ key, value: value as unknown as Buffer, ttl: Number(await admin.pTTL(key)) })
    }
    await admin.close()
  }
  return found
}

describe.each(['standalone', 'cluster'] as Topology[])('response cache shared on %s Redis', (topology) => {
  it('answers on one instance from an entry another instance stored, sealed at rest', async () => {
    const [one, two] = await Promise.all((await backends.open(topology, 2)).map((store) => start(store)))
    const prompt = `${SECRET} ${randomUUID()}`
    const before = upstream.requests.length
    const first = await ask(one!, prompt)
    expect(await ask(two!, prompt)).toBe(first)
    expect(upstream.requests.length - before).toBe(1)
    const urls = topology === 'standalone' ? [backends.server.url] : backends.cluster!.rootNodes
    const stored = await entries(urls)
    expect(stored.length).toBeGreaterThan(0)
    for (const entry of stored) {
      expect(entry.key).toMatch(/^continuum:cache:[0-9a-f]{64}$/)
      expect(entry.value.includes(SECRET)).toBe(false)
      expect(entry.value.includes(first)).toBe(false)
      expect(entry.ttl).toBeGreaterThan(0)
      expect(entry.ttl).toBeLessThanOrEqual(300_000)
    }
    await Promise.all([one!.close(), two!.close()])
  })
})

describe('response cache entries in Redis', () => {
  const urls = () => [backends.server.url]

  it('stores nothing over maxEntryBytes, and drops an entry altered in Redis', async () => {
    const [store] = await backends.open('standalone', 1)
    const small = await start(store!, { maxEntryBytes: 200 })
    const prompt = `large ${randomUUID()}`
    const before = upstream.requests.length
    await ask(small, prompt)
    await ask(small, prompt)
    expect(upstream.requests.length - before).toBe(2)
    await small.close()

    const app = await start(store!)
    const altered = `altered ${randomUUID()}`
    const known = new Set((await entries(urls())).map((entry) => entry.key))
    await ask(app, altered)
    let entry: { key: string; value: Buffer } | undefined
    await expect
      .poll(async () => {
        entry = (await entries(urls())).find((candidate) => !known.has(candidate.key))
        return entry !== undefined
      })
      .toBe(true)
    const admin = createClient({ url: backends.server.url })
    await admin.connect()
    const flipped = Buffer.from(entry!.value)
    flipped[flipped.length - 1]! ^= 1
    await admin.set(entry!.key, flipped, { expiration: { type: 'PX', value: 60_000 } })
    const forwarded = upstream.requests.length
    await ask(app, altered)
    expect(upstream.requests.length - forwarded).toBe(1)
    await admin.close()
    await app.close()
  })

  it('refuses an expired ciphertext put back with a fresh TTL, and serves from the in-process layer', async () => {
    const [store] = await backends.open('standalone', 1)
    const shortLived = await start(store!, { ttlMs: 400 })
    const prompt = `stale ${randomUUID()}`
    const known = new Set((await entries(urls())).map((entry) => entry.key))
    await ask(shortLived, prompt)
    let entry: { key: string; value: Buffer } | undefined
    await expect
      .poll(async () => {
        entry = (await entries(urls())).find((candidate) => !known.has(candidate.key))
        return entry !== undefined
      })
      .toBe(true)
    await new Promise((resolve) => setTimeout(resolve, 500))
    const admin = createClient({ url: backends.server.url })
    await admin.connect()
    await admin.set(entry!.key, entry!.value, { expiration: { type: 'PX', value: 60_000 } })
    const forwarded = upstream.requests.length
    await ask(shortLived, prompt)
    expect(upstream.requests.length - forwarded).toBe(1)
    await shortLived.close()

    const layered = await start(store!, { localTtlMs: 10_000 })
    const plain = await start(store!)
    const local = `local ${randomUUID()}`
    await admin.sendCommand(['FLUSHDB'])
    await ask(layered, local)
    await expect.poll(async () => (await entries(urls())).length).toBe(1)
    // Gone from Redis: the layered instance still answers from process memory, the other cannot.
    await admin.sendCommand(['FLUSHDB'])
    const counted = upstream.requests.length
    await ask(layered, local)
    expect(upstream.requests.length).toBe(counted)
    await ask(plain, local)
    expect(upstream.requests.length).toBe(counted + 1)
    await admin.close()
    await Promise.all([layered.close(), plain.close()])
  })
})

describe('response cache when Redis is gone', () => {
  it('forwards as a miss (fail open) or refuses with a coded 503 (fail closed)', async () => {
    const server = await startRedis()
    const store = await createRedisStateStore({ connection: { url: server.url }, timeoutMs: 200 })
    // Plain traffic: the replay guard (which fails closed) is not in the way.
    const plainApp = (failure: 'open' | 'closed') =>
      express.start({
        upstream: upstream.url,
        stages: [new CacheStage(new ResponseCache({ secret, store, storeFailure: failure }))],
      })
    const [open, closed] = await Promise.all([plainApp('open'), plainApp('closed')])
    const body = JSON.stringify({
      model: 'm',
      temperature: 0,
      messages: [{ role: 'user', content: 'plain' }],
    })
    const post = (app: RunningApp) =>
      fetch(`${app.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      })
    expect((await post(open)).status).toBe(200)
    await server.kill()
    const { events } = await storeFailures(async () => {
      const started = performance.now()
      const answer = await post(open)
      expect(answer.status).toBe(200)
      expect(answer.headers.get('x-continuum-cache')).toBe('miss')
      const refused = await post(closed)
      expect(refused.status).toBe(503)
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe(
        'CONTINUUM_STORE_UNAVAILABLE',
      )
      expect(performance.now() - started).toBeLessThan(2_000)
    })
    expect(events).toContainEqual(expect.objectContaining({ consumer: 'cache', decision: 'open' }))
    expect(events).toContainEqual(expect.objectContaining({ consumer: 'cache', decision: 'closed' }))
    await Promise.all([open.close(), closed.close()])
    await store.close()
    await server.stop()
  })
})
