/**
 * What the request seal covers (docs/PROTOCOL.md §5), attacked through every framework on real
 * sockets: a relay between the official OpenAI SDK's encrypting fetch and the server plays the
 * man in the middle. Adding `?stream=true&api_key=...`, swapping or adding credential headers, and
 * stripping `cache-control: no-store` are refused with a code before anything reaches the
 * upstream; a header the client did not seal never reaches the upstream at all.
 */
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { frameworks, type RunningApp } from '../conformance/frameworks'
import {
  encryptRequest,
  expectRefusal,
  KEY,
  KEY_ID,
  openaiClient,
  SECRET,
  secretChat,
  sharedKeys,
} from '../conformance/support'
import { startAnthropicUpstream } from '../kit/anthropic'
import { replyFor, startOpenAIUpstream } from '../kit/openai-echo'
import type { FakeUpstream } from '../kit/server'

interface Relayed {
  status: number
  code: unknown
}

/** A man in the middle that rewrites each request and records the server's real answer. */
function relay(rewrite: (url: URL, headers: Headers) => void): { fetch: typeof fetch; answers: Relayed[] } {
  const answers: Relayed[] = []
  const relayed = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input))
    const headers = new Headers(init?.headers)
    rewrite(url, headers)
    const response = await globalThis.fetch(url, { ...init, headers })
    const text = await response.text()
    let code: unknown
    try {
      code = (JSON.parse(text) as { error?: { code?: unknown } }).error?.code
    } catch {
      code = undefined
    }
    answers.push({ status: response.status, code })
    return new Response(text, { status: response.status, headers: response.headers })
  }) as typeof fetch
  return { fetch: relayed, answers }
}

describe.each(frameworks)('seal coverage via $name', (harness) => {
  let upstream: FakeUpstream
  let app: RunningApp

  beforeAll(async () => {
    upstream = await startOpenAIUpstream()
    app = await harness.start({ upstream: upstream.url, keys: sharedKeys() })
  })

  afterAll(async () => {
    await app.close()
    await upstream.close()
  })

  async function ask(
    rewrite: (url: URL, headers: Headers) => void,
    headers: Record<string, string> = {},
    query: Record<string, string> = {},
  ): Promise<{ result: unknown; answers: Relayed[]; forwarded: number }> {
    const wire = relay(rewrite)
    const before = upstream.requests.length
    const result = await openaiClient(app, { keyId: KEY_ID, key: KEY, fetch: wire.fetch })
      .chat.completions.create(
        { model: 'llama-3-8b', messages: [{ role: 'user', content: SECRET }] },
        { headers, query },
      )
      .then((answer) => answer.choices[0]?.message.content)
      .catch((error: unknown) => ({
        status: (error as { status?: unknown }).status,
        code: (error as { code?: unknown }).code,
      }))
    return { result, answers: wire.answers, forwarded: upstream.requests.length - before }
  }

  it('forwards the sealed query in its canonical form and the sealed headers (the baseline)', async () => {
    const { result, forwarded } = await ask(
      () => {},
      { 'cache-control': 'no-store', 'x-tenant': 'a' },
      {
        'api-version': '2024 06',
      },
    )
    expect(result).toBe(replyFor(SECRET))
    expect(forwarded).toBe(1)
    const seen = upstream.requests.at(-1)!
    expect(seen.url).toBe('/v1/chat/completions?api-version=2024%2006')
    expect(seen.headers['cache-control']).toBe('no-store')
    expect(seen.headers['x-tenant']).toBe('a')
  })

  it('refuses an added ?stream=true&api_key=...: 400 CONTINUUM_INTEGRITY_FAILED, nothing forwarded', async () => {
    const { result, answers, forwarded } = await ask((url) => {
      url.searchParams.set('stream', 'true')
      url.searchParams.set('api_key', 'attacker')
    })
    expect(answers).toEqual([{ status: 400, code: 'CONTINUUM_INTEGRITY_FAILED' }])
    expect(result).toEqual({ status: 400, code: 'CONTINUUM_UNAUTHENTICATED_RESPONSE' })
    expect(forwarded).toBe(0)
  })

  it('refuses a changed query value and a dropped query', async () => {
    const changed = await ask(
      (url) => url.searchParams.set('api-version', 'old'),
      {},
      { 'api-version': 'new' },
    )
    expect(changed.answers).toEqual([{ status: 400, code: 'CONTINUUM_INTEGRITY_FAILED' }])
    const dropped = await ask(
      (url) => {
        url.search = ''
      },
      {},
      { 'api-version': 'new' },
    )
    expect(dropped.answers).toEqual([{ status: 400, code: 'CONTINUUM_INTEGRITY_FAILED' }])
    expect(changed.forwarded + dropped.forwarded).toBe(0)
  })

  it('refuses a swapped authorization header', async () => {
    const { answers, forwarded } = await ask((_url, headers) =>
      headers.set('authorization', 'Bearer attacker'),
    )
    expect(answers).toEqual([{ status: 400, code: 'CONTINUUM_INTEGRITY_FAILED' }])
    expect(forwarded).toBe(0)
  })

  it('refuses a stripped cache-control: no-store', async () => {
    const { answers, forwarded } = await ask((_url, headers) => headers.delete('cache-control'), {
      'cache-control': 'no-store',
    })
    expect(answers).toEqual([{ status: 400, code: 'CONTINUUM_INTEGRITY_FAILED' }])
    expect(forwarded).toBe(0)
  })

  it('refuses an added, unsealed authorization, api-key or cache-control header', async () => {
    for (const [name, value] of [
      ['authorization', 'Bearer attacker'],
      ['api-key', 'attacker'],
      ['cache-control', 'max-age=600'],
      ['pragma', 'no-cache'],
    ] as const) {
      const built = encryptRequest('/v1/chat/completions', secretChat())
      const before = upstream.requests.length
      const response = await request(app.url)
        .post('/v1/chat/completions')
        .set(built.headers)
        .set(name, value)
        .send(built.body)
      expect(expectRefusal(response, 400, 'CONTINUUM_INTEGRITY_FAILED')).toMatchObject({ header: name })
      expect(upstream.requests.length).toBe(before)
    }
  })

  it('drops a header the client did not seal: the upstream never sees it', async () => {
    const { result, forwarded } = await ask((_url, headers) => {
      headers.set('openai-organization', 'org-attacker')
      headers.set('x-forwarded-for', '203.0.113.9')
    })
    expect(result).toBe(replyFor(SECRET))
    expect(forwarded).toBe(1)
    const seen = upstream.requests.at(-1)!
    expect(seen.headers['openai-organization']).toBeUndefined()
    expect(seen.headers['x-forwarded-for']).toBeUndefined()
  })

  it('refuses a malformed sealed-headers list', async () => {
    for (const list of [
      'content-type,authorization',
      'content-type,content-type',
      'content-length',
      undefined,
    ]) {
      const built = encryptRequest('/v1/chat/completions', secretChat())
      const headers: Record<string, string> = { ...built.headers }
      if (list === undefined) delete headers['x-continuum-sealed-headers']
      else headers['x-continuum-sealed-headers'] = list
      const response = await request(app.url).post('/v1/chat/completions').set(headers).send(built.body)
      expectRefusal(response, 400, 'CONTINUUM_INTEGRITY_FAILED')
    }
  })
})

describe('seal coverage of the Anthropic credential header', () => {
  let upstream: Awaited<ReturnType<typeof startAnthropicUpstream>>
  let app: RunningApp

  beforeAll(async () => {
    upstream = await startAnthropicUpstream()
    app = await frameworks[0]!.start({ upstream: upstream.url, keys: sharedKeys() })
  })

  afterAll(async () => {
    await app.close()
    await upstream.close()
  })

  it('refuses an x-api-key or anthropic-version added to a request that did not seal it', async () => {
    const body = { model: 'claude-3-5-sonnet', max_tokens: 64, messages: [{ role: 'user', content: SECRET }] }
    for (const [name, value] of [
      ['x-api-key', 'sk-ant-attacker'],
      ['anthropic-version', '2023-01-01'],
    ] as const) {
      const built = encryptRequest('/v1/messages', body)
      const response = await request(app.url)
        .post('/v1/messages')
        .set(built.headers)
        .set(name, value)
        .send(built.body)
      expect(expectRefusal(response, 400, 'CONTINUUM_INTEGRITY_FAILED')).toMatchObject({ header: name })
    }
    expect(upstream.requests).toHaveLength(0)
  })
})
