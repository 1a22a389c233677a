/**
 * The cache's own contract, below HTTP: which requests qualify and under which key, entries that
 * were altered at rest are dropped rather than served, an abandoned or destroyed body is never
 * stored, and bad options fail at construction with CONTINUUM_INVALID_OPTIONS.
 */
import { describe, expect, it } from 'vitest'
import { continuum } from '../../middleware/express'
import { createCachingUpstream, ResponseCache } from '../../src/cache'
import { openEntry, sealEntry } from '../../src/cache/sealed-entry'
import { ContinuumError } from '../../src/errors'
import type { Upstream, UpstreamRequest } from '../../src/proxy/upstream'

function request(body: unknown, overrides: Partial<UpstreamRequest> = {}): UpstreamRequest {
  return {
    method: 'POST',
    url: '/v1/chat/completions',
    headers: { authorization: 'Bearer sk-one', 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: new AbortController().signal,
    ...overrides,
  }
}

function keyOf(cache: ResponseCache, value: UpstreamRequest): string {
  const eligibility = cache.eligibility(value)
  if (eligibility.kind !== 'cacheable') throw new Error(`not cacheable: ${eligibility.kind}`)
  return eligibility.key
}

const chat = { model: 'm', messages: [{ role: 'user', content: 'hello' }] }

describe('cache eligibility and keys', () => {
  const cache = new ResponseCache()

  it('keys on canonical content: member order does not matter, content, scope, path and format headers do', () => {
    const key = keyOf(cache, request(chat))
    expect(key).toMatch(/^[0-9a-f]{64}$/)
    expect(keyOf(cache, request({ messages: chat.messages, model: 'm' }))).toBe(key)
    const others = [
      request({ ...chat, model: 'n' }),
      request(chat, { headers: { authorization: 'Bearer sk-two' } }),
      request(chat, { headers: {} }),
      request(chat, { url: '/v1/chat/completions?api-version=2' }),
      request(chat, { headers: { authorization: 'Bearer sk-one', 'anthropic-version': '2023-06-01' } }),
    ]
    for (const other of others) expect(keyOf(cache, other)).not.toBe(key)
    // Another secret, another key: nobody without the secret can precompute keys.
    expect(keyOf(new ResponseCache(), request(chat))).not.toBe(key)
  })

  it('skips other methods and routes, bypasses opt-outs, unparseable bodies and sampling', () => {
    expect(cache.eligibility(request(chat, { method: 'GET' })).kind).toBe('skip')
    expect(cache.eligibility(request(chat, { url: '/v1/responses' })).kind).toBe('skip')
    expect(cache.eligibility(request(chat, { url: '/prefix/api/generate' }))).toMatchObject({
      kind: 'cacheable',
      route: '/api/generate',
    })
    const bypassed = [
      request(chat, { headers: { 'cache-control': 'No-Store' } }),
      request(chat, { headers: { pragma: 'no-cache' } }),
      request(chat, { body: 'not json' }),
      request(chat, { body: null }),
      request({ ...chat, temperature: 0.2 }),
      request({ model: 'm', prompt: 'p', options: { temperature: 0.7 } }, { url: '/api/generate' }),
      request({ inputs: 'p', parameters: { do_sample: true } }, { url: '/generate' }),
    ]
    for (const value of bypassed) expect(cache.eligibility(value).kind).toBe('bypass')
    expect(cache.eligibility(request({ ...chat, temperature: 0 })).kind).toBe('cacheable')
    const sampling = new ResponseCache({ cacheNonDeterministic: true })
    expect(sampling.eligibility(request({ ...chat, temperature: 0.2 })).kind).toBe('cacheable')
  })

  it('uses a custom scope, and bypasses when it throws', () => {
    const warnings: string[] = []
    const scoped = new ResponseCache({
      scope: (headers) => {
        if (headers['x-tenant'] === undefined) throw new Error('no tenant')
        return headers['x-tenant']
      },
      logger: { debug() {}, info() {}, warn: (message) => warnings.push(message), error() {} },
    })
    const a = keyOf(scoped, request(chat, { headers: { 'x-tenant': 'a', authorization: 'one' } }))
    expect(keyOf(scoped, request(chat, { headers: { 'x-tenant': 'a', authorization: 'two' } }))).toBe(a)
    expect(scoped.eligibility(request(chat, { headers: {} })).kind).toBe('bypass')
    expect(warnings).toHaveLength(1)
  })
})

describe('entries at rest', () => {
  const entry = {
    status: 200,
    headers: { 'content-type': 'application/json' },
    chunks: [Buffer.from('{"answer":'), Buffer.from('"secret"}')],
    storedAt: 5,
  }

  it('round-trips, and refuses an entry opened under another key', () => {
    const secret = Buffer.alloc(32, 7)
    const key = 'ab'.repeat(32)
    const sealed = sealEntry(secret, key, entry)
    expect(sealed.includes('secret')).toBe(false)
    expect(openEntry(secret, key, sealed)).toEqual(entry)
    expect(() => openEntry(secret, 'cd'.repeat(32), sealed)).toThrow()
  })

  it('drops an entry altered in memory instead of serving it', () => {
    const warnings: string[] = []
    const cache = new ResponseCache({
      logger: { debug() {}, info() {}, warn: (message) => warnings.push(message), error() {} },
    })
    const key = keyOf(cache, request(chat))
    expect(cache.set(key, entry)).toBe(true)
    expect(cache.get(key)?.chunks.map(String).join('')).toBe('{"answer":"secret"}')
    const [, sealed] = [...cache.sealedEntries()][0]!
    sealed[sealed.length - 1]! ^= 1
    expect(cache.get(key)).toBeUndefined()
    expect(cache.size).toBe(0)
    expect(warnings).toEqual(['cache entry failed to decrypt; dropped'])
  })
})

describe('caching upstream', () => {
  function streamingUpstream(): Upstream & { sent: number } {
    const upstream = {
      sent: 0,
      async send() {
        upstream.sent++
        async function* body() {
          yield Buffer.from('data: {"choices":[{"delta":{"content":"a"}}]}\n\n')
          yield Buffer.from('data: {"choices":[{"delta":{"content":"b"}}]}\n\n')
          yield Buffer.from('data: [DONE]\n\n')
        }
        return { status: 200, headers: { 'content-type': 'text/event-stream' }, body: body() }
      },
      async close() {},
    }
    return upstream
  }
  const streamRequest = () => request({ ...chat, stream: true })

  it('stores a stream read to its end and replays its bytes in one chunk', async () => {
    const cache = new ResponseCache()
    const inner = streamingUpstream()
    const upstream = createCachingUpstream(inner, cache)
    const first = await upstream.send(streamRequest())
    const firstChunks: string[] = []
    for await (const chunk of first.body) firstChunks.push(Buffer.from(chunk).toString())
    const second = await upstream.send(streamRequest())
    expect(second.headers['x-continuum-cache']).toBe('hit')
    const secondChunks: string[] = []
    for await (const chunk of second.body) secondChunks.push(Buffer.from(chunk).toString())
    expect(firstChunks.length).toBeGreaterThan(1)
    expect(secondChunks).toEqual([firstChunks.join('')])
    expect(inner.sent).toBe(1)
  })

  it('does not store a body the consumer abandoned or destroyed', async () => {
    const cache = new ResponseCache()
    const upstream = createCachingUpstream(streamingUpstream(), cache)
    const abandoned = await upstream.send(streamRequest())
    for await (const _ of abandoned.body) break
    const destroyed = await upstream.send(streamRequest())
    const iterator = destroyed.body[Symbol.asyncIterator]()
    await iterator.next()
    destroyed.body.destroy?.(new Error('client went away'))
    await iterator.next().catch(() => undefined)
    expect(cache.size).toBe(0)
  })
})

describe('options', () => {
  it('refuses bad options at construction, naming the option and never the secret', () => {
    const cases: [object, string][] = [
      [{ secret: 'c2hvcnQ' }, 'cache.secret'],
      [{ ttlMs: 0 }, 'cache.ttlMs'],
      [{ maxBytes: 1.5 }, 'cache.maxBytes'],
      [{ maxBytes: 10, maxEntryBytes: 20 }, 'cache.maxEntryBytes'],
      [{ routes: ['v1/chat'] }, 'cache.routes'],
      [{ scope: 'tenant' }, 'cache.scope'],
    ]
    for (const [options, name] of cases) {
      try {
        new ResponseCache(options)
        expect.unreachable(name)
      } catch (error) {
        expect(ContinuumError.isInstance(error) && error.code).toBe('CONTINUUM_INVALID_OPTIONS')
        expect((error as Error).message).toContain(name)
        expect((error as Error).message).not.toContain('c2hvcnQ')
      }
    }
    expect(() => continuum({ upstream: 'http://127.0.0.1:1', cache: { ttlMs: -1 } })).toThrow(/cache\.ttlMs/)
  })
})
