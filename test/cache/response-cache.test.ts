/**
 * The cache's own contract, below HTTP: which requests qualify and under which key, entries that
 * were altered at rest are dropped rather than served, an abandoned or destroyed body is never
 * stored, and bad options fail at construction with CONTINUUM_INVALID_OPTIONS.
 */

import {
  AdapterRegistry,
  ContinuumError,
  type Exchange,
  type ExchangeResponse,
  type StreamEvent,
} from 'continuum-proxy'
import { builtinAdapters } from 'continuum-proxy/adapters'
import { CacheStage, ResponseCache } from 'continuum-proxy/cache'
import { describe, expect, it } from 'vitest'
import { cacheEligibility } from '../../src/cache/cache-key'
import { openEntry, sealEntry } from '../../src/cache/sealed-entry'

const registry = new AdapterRegistry(builtinAdapters())

interface ExchangeShape {
  method?: string
  path?: string
  query?: string
  headers?: Record<string, string | undefined>
  keyId?: string
}

/** An accepted exchange on a built-in route, as the pipeline hands it to a stage. */
function exchange(body: Record<string, unknown>, shape: ExchangeShape = {}): Exchange {
  const method = shape.method ?? 'POST'
  const path = shape.path ?? '/v1/chat/completions'
  const lookup = registry.lookup(method, path)
  if (lookup.kind !== 'match') throw new Error(`no route for ${method} ${path}`)
  return {
    requestId: 'r',
    request: {
      method,
      url: path + (shape.query ?? ''),
      headers: shape.headers ?? { authorization: 'Bearer sk-one', 'content-type': 'application/json' },
      body: { kind: 'empty' },
      signal: new AbortController().signal,
    },
    route: lookup.match,
    query: shape.query ?? '',
    body,
    encrypted: true,
    keyId: shape.keyId ?? 'k1',
    streaming: body.stream === true,
    responseHeaders: {},
    annotations: {},
    startedAt: 0,
    onEnd() {},
  }
}

function eligibility(cache: ResponseCache, value: Exchange) {
  return cacheEligibility(cache.options, value)
}

function keyOf(cache: ResponseCache, value: Exchange): string {
  const result = eligibility(cache, value)
  if (result.kind !== 'cacheable') throw new Error(`not cacheable: ${result.kind}`)
  return result.key
}

const chat = { model: 'm', messages: [{ role: 'user', content: 'hello' }] }

describe('cache eligibility and keys', () => {
  const cache = new ResponseCache()

  it('keys on canonical content: member order does not matter, content, scope, key, path and format headers do', () => {
    const key = keyOf(cache, exchange(chat))
    expect(key).toMatch(/^[0-9a-f]{64}$/)
    expect(keyOf(cache, exchange({ messages: chat.messages, model: 'm' }))).toBe(key)
    const others = [
      exchange({ ...chat, model: 'n' }),
      exchange(chat, { headers: { authorization: 'Bearer sk-two' } }),
      exchange(chat, { headers: { authorization: 'Bearer sk-one', 'api-key': 'azure-style' } }),
      exchange(chat, { headers: {} }),
      exchange(chat, { keyId: 'k2' }),
      exchange(chat, { query: '?api-version=2' }),
      exchange(chat, { headers: { authorization: 'Bearer sk-one', 'openai-beta': 'assistants=v2' } }),
    ]
    for (const other of others) expect(keyOf(cache, other)).not.toBe(key)
    // Anthropic's credential is x-api-key: two callers with different keys never share an entry.
    const messages = { model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'hello' }] }
    const one = keyOf(cache, exchange(messages, { path: '/v1/messages', headers: { 'x-api-key': 'A' } }))
    expect(
      keyOf(cache, exchange(messages, { path: '/v1/messages', headers: { 'x-api-key': 'B' } })),
    ).not.toBe(one)
    // Another secret, another key: nobody without the secret can precompute keys.
    expect(keyOf(new ResponseCache(), exchange(chat))).not.toBe(key)
  })

  it('skips routes their adapter does not mark cacheable, bypasses opt-outs and sampling', () => {
    expect(eligibility(cache, exchange(chat, { path: '/v1/responses' })).kind).toBe('skip')
    expect(eligibility(cache, exchange({ inputs: 'p' }, { path: '/v2/models/m/generate' })).kind).toBe('skip')
    expect(
      eligibility(cache, exchange({ model: 'm', prompt: 'p' }, { path: '/api/generate' })),
    ).toMatchObject({
      kind: 'cacheable',
      route: 'ollama.generate',
    })
    const bypassed = [
      exchange(chat, { headers: { 'cache-control': 'No-Store' } }),
      exchange(chat, { headers: { pragma: 'no-cache' } }),
      exchange({ ...chat, temperature: 0.2 }),
      exchange({ model: 'm', prompt: 'p', options: { temperature: 0.7 } }, { path: '/api/generate' }),
      exchange({ inputs: 'p', parameters: { do_sample: true } }, { path: '/generate' }),
    ]
    for (const value of bypassed) expect(eligibility(cache, value).kind).toBe('bypass')
    expect(eligibility(cache, exchange({ ...chat, temperature: 0 })).kind).toBe('cacheable')
    const sampling = new ResponseCache({ cacheNonDeterministic: true })
    expect(eligibility(sampling, exchange({ ...chat, temperature: 0.2 })).kind).toBe('cacheable')
    const chatOnly = new ResponseCache({ routes: ['openai.chat-completions'] })
    expect(eligibility(chatOnly, exchange({ model: 'm', input: 'x' }, { path: '/v1/embeddings' })).kind).toBe(
      'skip',
    )
  })

  it('bypasses TGI requests that sample through top_k, top_p or typical_p without do_sample', () => {
    // TGI samples whenever a warper is set (`sampling = do_sample or has_warpers`): these answers
    // differ on every call, so caching one would replay a single draw to every later caller.
    for (const parameters of [{ top_k: 50 }, { top_p: 0.9 }, { typical_p: 0.95 }]) {
      for (const path of ['/generate', '/generate_stream']) {
        expect(eligibility(cache, exchange({ inputs: 'p', parameters }, { path })).kind).toBe('bypass')
      }
    }
    // No warper, or one that changes nothing, is still greedy decoding, and cached.
    for (const parameters of [{}, { top_k: 0, top_p: 1, typical_p: 1 }, { max_new_tokens: 20 }]) {
      expect(eligibility(cache, exchange({ inputs: 'p', parameters }, { path: '/generate' })).kind).toBe(
        'cacheable',
      )
    }
  })

  it('uses a custom scope, and bypasses when it throws', () => {
    const warnings: string[] = []
    const scoped = new ResponseCache({
      scope: (value) => {
        const tenant = value.request.headers['x-tenant']
        if (tenant === undefined) throw new Error('no tenant')
        return tenant
      },
      logger: { debug() {}, info() {}, warn: (_fields, message) => warnings.push(message), error() {} },
    })
    const a = keyOf(scoped, exchange(chat, { headers: { 'x-tenant': 'a', authorization: 'one' } }))
    expect(keyOf(scoped, exchange(chat, { headers: { 'x-tenant': 'a', authorization: 'two' } }))).toBe(a)
    expect(eligibility(scoped, exchange(chat, { headers: {} })).kind).toBe('bypass')
    expect(warnings).toHaveLength(1)
  })
})

describe('entries at rest', () => {
  const entry = {
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: { type: 'json' as const, value: { answer: 'secret' } },
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
      logger: { debug() {}, info() {}, warn: (_fields, message) => warnings.push(message), error() {} },
    })
    const key = keyOf(cache, exchange(chat))
    expect(cache.set(key, entry)).toBe(true)
    expect(cache.get(key)?.body).toEqual({ type: 'json', value: { answer: 'secret' } })
    const [, sealed] = [...cache.sealedEntries()][0]!
    sealed[sealed.length - 1]! ^= 1
    expect(cache.get(key)).toBeUndefined()
    expect(cache.size).toBe(0)
    expect(warnings).toEqual(['cache entry failed to decrypt; dropped'])
  })
})

describe('cache stage', () => {
  const events: StreamEvent[] = [
    { data: { choices: [{ delta: { content: 'a' } }] } },
    { data: { choices: [{ delta: { content: 'b' } }] } },
  ]
  function streaming(counter: { sent: number }, fail = false): () => Promise<ExchangeResponse> {
    return async () => {
      counter.sent++
      async function* body(): AsyncGenerator<StreamEvent> {
        yield* events
        if (fail) throw new ContinuumError('CONTINUUM_UPSTREAM_STREAM_ABORTED', 'cut')
      }
      return {
        status: 200,
        headers: { 'content-type': 'text/event-stream' },
        body: { type: 'events', events: body() },
      }
    }
  }
  async function drain(response: ExchangeResponse): Promise<StreamEvent[]> {
    if (response.body.type !== 'events') throw new Error('not a stream')
    const seen: StreamEvent[] = []
    for await (const event of response.body.events) seen.push(event)
    return seen
  }
  const streamExchange = () => exchange({ ...chat, stream: true })

  it('stores a stream read to its end and replays its events', async () => {
    const stage = new CacheStage()
    const counter = { sent: 0 }
    const first = streamExchange()
    expect(await drain(await stage.wrapUpstream(first, streaming(counter)))).toEqual(events)
    expect(first.annotations['continuum.cache']).toBe('miss')
    const second = streamExchange()
    expect(await drain(await stage.wrapUpstream(second, streaming(counter)))).toEqual(events)
    expect(second.annotations['continuum.cache']).toBe('hit')
    // Encrypted exchanges never show the result in clear.
    expect(second.responseHeaders).toEqual({})
    expect(counter.sent).toBe(1)
  })

  it('does not store a stream the consumer abandoned, or one that failed', async () => {
    const stage = new CacheStage()
    const counter = { sent: 0 }
    const abandoned = await stage.wrapUpstream(streamExchange(), streaming(counter))
    if (abandoned.body.type !== 'events') throw new Error('not a stream')
    for await (const _ of abandoned.body.events) break
    await expect(drain(await stage.wrapUpstream(streamExchange(), streaming(counter, true)))).rejects.toThrow(
      'cut',
    )
    expect(stage.cache.size).toBe(0)
  })
})

describe('options', () => {
  it('refuses bad options at construction, naming the option and never the secret', () => {
    const cases: [object, string][] = [
      [{ secret: 'c2hvcnQ' }, 'cache.secret'],
      [{ ttlMs: 0 }, 'cache.ttlMs'],
      [{ maxBytes: 1.5 }, 'cache.maxBytes'],
      [{ maxBytes: 10, maxEntryBytes: 20 }, 'cache.maxEntryBytes'],
      [{ routes: ['/v1/chat'] }, 'cache.routes'],
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
    expect(() => new CacheStage({ ttlMs: -1 })).toThrow(/cache\.ttlMs/)
  })
})
