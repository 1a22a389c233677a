/**
 * Cache isolation (hardening item 1), on real sockets in Express, Koa and Fastify with the real
 * CacheStage in front of each protocol's fake upstream. Another tenant must never get an answer
 * made for someone else: for every credential header each adapter declares, for two pre-shared
 * field keys without any credential, for two key-agreement clients (who share the server's key
 * id and, here, even their API key), and for a configured `scopeHeaders` header. Each case ends
 * with the first caller asking again and hitting, so the cache is shown to be on. On encrypted
 * exchanges the cache status never travels in clear (`x-continuum-cache` and `age` told an
 * on-path observer that two encrypted prompts were equal); plain exchanges keep it. A request's
 * `cache-control: no-store` and an answer's `no-store` are honoured.
 */
import { randomBytes } from 'node:crypto'
import { AdapterRegistry, fingerprint, generateAgreementKeyPair, type ProxyOptions } from 'continuum-proxy'
import { builtinAdapters } from 'continuum-proxy/adapters'
import { CacheStage, type ResponseCacheOptions } from 'continuum-proxy/cache'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FrameworkHarness, type RunningApp, rootFrameworks } from '../conformance/frameworks'
import { encryptRequest, openaiClient, SECRET, secretChat, sharedKeys } from '../conformance/support'
import { startAnthropicUpstream } from '../kit/anthropic'
import { startOllamaUpstream } from '../kit/ollama'
import { startOpenAIUpstream } from '../kit/openai-echo'
import { jsonReply } from '../kit/replies'
import { FakeUpstream as ProtocolFake } from '../kit/server'
import { startTgiUpstream } from '../kit/tgi'

interface Fake {
  url: string
  requests: { url: string }[]
  close(): Promise<void>
}

/** The cacheable route of each built-in adapter, a body for it, and its fake upstream. */
const PROTOCOLS: { adapter: string; path: string; body: object; start: () => Promise<Fake> }[] = [
  { adapter: 'openai', path: '/v1/chat/completions', body: secretChat(), start: startOpenAIUpstream },
  {
    adapter: 'anthropic',
    path: '/v1/messages',
    body: { model: 'claude-sonnet-4', max_tokens: 64, messages: [{ role: 'user', content: SECRET }] },
    start: startAnthropicUpstream,
  },
  {
    adapter: 'ollama',
    path: '/api/chat',
    body: { model: 'llama3', stream: false, messages: [{ role: 'user', content: SECRET }] },
    start: startOllamaUpstream,
  },
  { adapter: 'tgi', path: '/generate', body: { inputs: SECRET }, start: startTgiUpstream },
]

const registry = new AdapterRegistry(builtinAdapters())

/**
 * Headers that carry credentials whatever the protocol, as the upstream receives them
 * (`proxy-authorization` is hop-by-hop: it never reaches the upstream or a stage).
 */
const CREDENTIALS = ['authorization', 'cookie', 'x-api-key', 'api-key', 'x-goog-api-key']

function credentialHeadersOf(path: string): readonly string[] {
  const lookup = registry.lookup('POST', path)
  if (lookup.kind !== 'match') throw new Error(`no route ${path}`)
  return lookup.match.route.credentialHeaders
}

interface CachedApp {
  app: RunningApp
  /** The cache result of each request, in order. */
  results: string[]
}

async function startCached(
  harness: FrameworkHarness,
  upstream: string,
  proxy: Partial<ProxyOptions> = {},
  cache: ResponseCacheOptions = {},
): Promise<CachedApp> {
  const results: string[] = []
  const stage = new CacheStage({ ...cache, onResult: (result) => results.push(result) })
  const app = await harness.start({ upstream, keys: sharedKeys(), ...proxy, stages: [stage] })
  return { app, results }
}

async function post(url: string, headers: Record<string, string>, body: unknown) {
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) })
  await response.arrayBuffer()
  return response
}

/** Posts `plain` encrypted under the given key, with extra (credential) headers. */
function postEncrypted(
  app: RunningApp,
  path: string,
  plain: object,
  extra: Record<string, string>,
  key: { keyId?: string; key?: Uint8Array } = {},
) {
  // cp2: credential headers must be sealed, as the client does for the headers it sends.
  const built = encryptRequest(path, plain, { ...key, headers: extra })
  return post(app.url + path, { ...extra, ...built.headers }, built.body)
}

describe.each(rootFrameworks)('cache isolation via $name', (harness) => {
  const fakes: Fake[] = []
  const apps: RunningApp[] = []

  async function fake(start: () => Promise<Fake>): Promise<Fake> {
    const started = await start()
    fakes.push(started)
    return started
  }
  async function cached(...args: Parameters<typeof startCached>): Promise<CachedApp> {
    const started = await startCached(...args)
    apps.push(started.app)
    return started
  }

  afterAll(async () => {
    for (const app of apps) await app.close()
    for (const started of fakes) await started.close()
  })

  describe.each(PROTOCOLS)('$adapter', ({ path, body, start }) => {
    let upstream: Fake
    let target: CachedApp

    beforeAll(async () => {
      upstream = await fake(start)
      target = await cached(harness, upstream.url)
    })

    // Every credential header, not just the protocol's own: an upstream behind an OpenAI route
    // may well authenticate by `x-api-key` or a cookie, and a scope blind to them let a caller
    // with another (or a revoked) key be served the first caller's answer.
    it.each([...new Set([...credentialHeadersOf(path), ...CREDENTIALS])].map((name) => [name]))(
      'a caller with another %s never gets the first caller’s answer',
      async (name) => {
        const value = (tenant: string) => (name === 'authorization' ? `Bearer sk-${tenant}` : `sk-${tenant}`)
        const asked = () => upstream.requests.filter((request) => request.url === path).length
        const before = asked()
        const tenant = randomBytes(4).toString('hex')
        target.results.length = 0
        for (const caller of [`a-${tenant}`, `b-${tenant}`, `a-${tenant}`]) {
          const response = await postEncrypted(target.app, path, body, { [name]: value(caller) })
          expect(response.status).toBe(200)
          expect(response.headers.get('x-continuum-cache')).toBeNull()
          expect(response.headers.get('age')).toBeNull()
        }
        expect(target.results).toEqual(['miss', 'miss', 'hit'])
        expect(asked() - before).toBe(2)
      },
    )
  })

  it('keeps two field keys apart when no credential tells the callers apart', async () => {
    const upstream = await fake(startOpenAIUpstream)
    const otherKey = randomBytes(32)
    const { app, results } = await cached(harness, upstream.url, {
      keys: { keys: [...sharedKeys().keys, { id: 'tenant-two', key: otherKey }] },
    })
    const chat = secretChat({ temperature: 0 })
    for (const key of [{}, { keyId: 'tenant-two', key: otherKey }, {}]) {
      expect((await postEncrypted(app, '/v1/chat/completions', chat, {}, key)).status).toBe(200)
    }
    expect(results).toEqual(['miss', 'miss', 'hit'])
    expect(upstream.requests).toHaveLength(2)
  })

  it('keeps two key-agreement clients apart although they share the key id and the API key', async () => {
    const upstream = await fake(startOpenAIUpstream)
    const pair = generateAgreementKeyPair()
    const { app, results } = await cached(harness, upstream.url, {
      keys: { agreementKeys: [{ id: 'agree-1', privateKey: pair.privateKey }] },
    })
    const agreement = { agreement: { fingerprint: fingerprint(pair.publicKeyBytes) } }
    const first = openaiClient(app, agreement)
    const second = openaiClient(app, agreement)
    const ask = async (client: typeof first) => {
      const answer = await client.chat.completions.create({
        model: 'llama-3-8b',
        messages: [{ role: 'user', content: SECRET }],
      })
      return answer.choices[0]?.message.content
    }
    const answers = [await ask(first), await ask(second), await ask(first), await ask(second)]
    expect(new Set(answers).size).toBe(1)
    expect(results).toEqual(['miss', 'miss', 'hit', 'hit'])
    expect(upstream.requests.filter((request) => request.url === '/v1/chat/completions')).toHaveLength(2)
  })

  it('scopes by configured scopeHeaders', async () => {
    const upstream = await fake(startOpenAIUpstream)
    const { app, results } = await cached(harness, upstream.url, {}, { scopeHeaders: ['x-tenant-id'] })
    for (const tenant of ['one', 'two', 'one']) {
      const response = await postEncrypted(app, '/v1/chat/completions', secretChat(), {
        authorization: 'Bearer sk-shared-gateway',
        'x-tenant-id': tenant,
      })
      expect(response.status).toBe(200)
    }
    expect(results).toEqual(['miss', 'miss', 'hit'])
  })

  // The attack: a scope function that does not return a string (an async one, looking the tenant
  // up, returns a Promise; another returns an object) became '[object Promise]' for every caller,
  // so every tenant shared one scope. Only a string scopes; anything else bypasses the cache.
  it.each([
    ['a Promise', async (tenant: string) => tenant],
    ['an object', (tenant: string) => ({ tenant })],
    ['undefined', (_tenant: string) => undefined],
  ])('never shares entries between tenants when the scope function returns %s', async (_, of) => {
    const upstream = await fake(startOpenAIUpstream)
    const scope = (exchange: { request: { headers: Record<string, string | undefined> } }) =>
      of(exchange.request.headers['x-tenant-id'] ?? '')
    const { app, results } = await cached(harness, upstream.url, {}, { scope: scope as never })
    for (const tenant of ['one', 'two']) {
      const response = await postEncrypted(app, '/v1/chat/completions', secretChat(), {
        authorization: 'Bearer sk-shared-gateway',
        'x-tenant-id': tenant,
      })
      expect(response.status).toBe(200)
    }
    expect(results).toEqual(['bypass', 'bypass'])
    expect(upstream.requests.filter((request) => request.url === '/v1/chat/completions')).toHaveLength(2)
  })

  it('shows the cache status on plain exchanges only', async () => {
    const upstream = await fake(startOpenAIUpstream)
    const { app } = await cached(harness, upstream.url, { keys: undefined, encryption: 'optional' })
    const headers = { 'content-type': 'application/json', authorization: 'Bearer sk-plain' }
    const miss = await post(`${app.url}/v1/chat/completions`, headers, secretChat())
    const hit = await post(`${app.url}/v1/chat/completions`, headers, secretChat())
    expect([miss.headers.get('x-continuum-cache'), hit.headers.get('x-continuum-cache')]).toEqual([
      'miss',
      'hit',
    ])
    expect(hit.headers.get('age')).toMatch(/^\d+$/)
  })

  it('gives an on-path observer the same response headers for a hit and a miss', async () => {
    const upstream = await fake(startOpenAIUpstream)
    const { app, results } = await cached(harness, upstream.url)
    const names = async () => {
      const response = await postEncrypted(app, '/v1/chat/completions', secretChat(), {
        authorization: 'Bearer sk-observed',
      })
      return [...response.headers.keys()].filter((name) => name !== 'date' && name !== 'keep-alive').sort()
    }
    const missHeaders = await names()
    const hitHeaders = await names()
    expect(results).toEqual(['miss', 'hit'])
    expect(hitHeaders).toEqual(missHeaders)
  })

  it('honours cache-control: no-store on the request and on the answer', async () => {
    const upstream = await fake(startOpenAIUpstream)
    const { app, results } = await cached(harness, upstream.url)
    const credential = { authorization: 'Bearer sk-private' }
    await postEncrypted(app, '/v1/chat/completions', secretChat(), {
      ...credential,
      'cache-control': 'No-Store',
    })
    await postEncrypted(app, '/v1/chat/completions', secretChat(), credential)
    expect(results).toEqual(['bypass', 'miss'])

    const private_: ProtocolFake = await ProtocolFake.start(() =>
      jsonReply(
        {
          id: 'chatcmpl-1',
          object: 'chat.completion',
          created: 1,
          model: 'llama-3-8b',
          choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
        },
        200,
        { 'cache-control': 'private, max-age=60' },
      ),
    )
    fakes.push(private_)
    const marked = await cached(harness, private_.url)
    for (let round = 0; round < 2; round++) {
      expect((await postEncrypted(marked.app, '/v1/chat/completions', secretChat(), credential)).status).toBe(
        200,
      )
    }
    expect(marked.results).toEqual(['miss', 'miss'])
    expect(private_.requests).toHaveLength(2)
  })

  // The attack: an upstream that answers per user says so with `Vary` (a RAG service answering
  // from the documents of `x-user-id`); the cache ignored it, so the next user with the same
  // question and credential got the first user's answer. An answer that varies by a header the
  // key does not cover is not stored; a header the key covers (a scope header) or one that only
  // changes the encoding of the bytes the proxy decodes anyway (`accept-encoding`) keeps it.
  it('stores no answer that varies by a request header the key does not cover', async () => {
    const perUser: ProtocolFake = await ProtocolFake.start((request) =>
      jsonReply(
        {
          id: 'chatcmpl-1',
          object: 'chat.completion',
          created: 1,
          model: 'llama-3-8b',
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: `for ${request.headers['x-user-id']}` },
              finish_reason: 'stop',
            },
          ],
        },
        200,
        { vary: request.url.includes('covered') ? 'Accept-Encoding, X-User-Id' : 'Origin, X-User-Id' },
      ),
    )
    fakes.push(perUser)
    const credential = { authorization: 'Bearer sk-shared' }
    const ask = async (app: RunningApp, user: string, query = '') => {
      const plain = { 'content-type': 'application/json', ...credential, 'x-user-id': user }
      const response = await fetch(`${app.url}/v1/chat/completions${query}`, {
        method: 'POST',
        headers: plain,
        body: JSON.stringify(secretChat()),
      })
      return ((await response.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message
        .content
    }
    const open = await cached(harness, perUser.url, { keys: undefined, encryption: 'optional' })
    expect([await ask(open.app, 'alice'), await ask(open.app, 'bob')]).toEqual(['for alice', 'for bob'])
    expect(open.results).toEqual(['miss', 'miss'])
    const scoped = await cached(
      harness,
      perUser.url,
      { keys: undefined, encryption: 'optional' },
      { scopeHeaders: ['x-user-id'] },
    )
    const answers = [
      await ask(scoped.app, 'alice', '?covered'),
      await ask(scoped.app, 'bob', '?covered'),
      await ask(scoped.app, 'alice', '?covered'),
    ]
    expect(answers).toEqual(['for alice', 'for bob', 'for alice'])
    expect(scoped.results).toEqual(['miss', 'miss', 'hit'])
  })
})
