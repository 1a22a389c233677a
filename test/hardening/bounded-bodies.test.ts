/**
 * Bounded request bodies (hardening item 6), on real sockets in Express, Koa and Fastify, and in
 * Express behind `express.json()` (a body the framework already parsed). Each test performs the
 * attack the review found: deep nesting that ended in a RangeError and a 500, JSON routes that
 * took text/plain, form and missing content types, invalid UTF-8 replaced and forwarded by an
 * `optional` server, bodies that stall or trickle and held their connection open for ever, and
 * kept-alive connections that went on swallowing a body after its early refusal.
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ProxyOptions } from 'continuum-proxy'
import { continuum } from 'continuum-proxy/express'
import express from 'express'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type FrameworkHarness, type RunningApp, rootFrameworks } from '../conformance/frameworks'
import { expectRefusal, SECRET, secretChat, sharedKeys } from '../conformance/support'
import { startOpenAIUpstream } from '../kit/openai-echo'
import type { FakeUpstream } from '../kit/server'
import { keepSending, openRaw, postHead } from './raw-http'

const CHAT = '/v1/chat/completions'

/** Express with a JSON body parser in front of the proxy: the core gets parsed values. */
const expressWithParser: FrameworkHarness = {
  name: 'express + express.json()',
  prefix: '',
  async start(options: ProxyOptions): Promise<RunningApp> {
    const app = express()
    app.use(express.json({ limit: '50mb' }))
    const middleware = continuum(options)
    app.use(middleware)
    const server: Server = await new Promise((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening))
    })
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    return {
      url: origin,
      origin,
      fetch: globalThis.fetch,
      async close() {
        server.closeAllConnections()
        await new Promise((resolve) => server.close(resolve))
        await middleware.proxy.close()
      },
    }
  },
}

const harnesses = [...rootFrameworks, expressWithParser]

async function post(url: string, body: string | Buffer, contentType?: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: contentType === undefined ? {} : { 'content-type': contentType },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  })
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers),
    text: await response.text(),
  }
}

/** A chat body whose `messages` member nests `levels` arrays. */
function nested(levels: number): string {
  return `{"model":"llama-3-8b","messages":${'['.repeat(levels)}${']'.repeat(levels)}}`
}

describe.each(harnesses)('bounded bodies via $name', (harness) => {
  let upstream: FakeUpstream
  let encrypted: RunningApp
  let optional: RunningApp
  let before = 0

  beforeAll(async () => {
    upstream = await startOpenAIUpstream()
    encrypted = await harness.start({ upstream: upstream.url, keys: sharedKeys() })
    optional = await harness.start({ upstream: upstream.url })
  })
  afterAll(async () => {
    await encrypted.close()
    await optional.close()
    await upstream.close()
  })
  beforeEach(() => {
    before = upstream.requests.length
  })

  it.each([10_000, 100_000, 1_000_000])(
    'refuses %i levels of nesting with 400, not a 500',
    async (levels) => {
      for (const app of [encrypted, optional]) {
        expectRefusal(
          await post(app.url + CHAT, nested(levels), 'application/json'),
          400,
          'CONTINUUM_JSON_TOO_DEEP',
        )
      }
      expect(upstream.requests.length).toBe(before)
    },
  )

  it('bounds depth at maxJsonDepth (64): 64 levels pass on, 65 are refused, brackets in strings do not count', async () => {
    const atBound = `{"model":"llama-3-8b","x":${'['.repeat(63)}${']'.repeat(63)}}`
    expectRefusal(
      await post(encrypted.url + CHAT, atBound, 'application/json'),
      400,
      'CONTINUUM_ENCRYPTION_REQUIRED',
    )
    const over = `{"model":"llama-3-8b","x":${'['.repeat(64)}${']'.repeat(64)}}`
    expectRefusal(await post(encrypted.url + CHAT, over, 'application/json'), 400, 'CONTINUUM_JSON_TOO_DEEP')
    const quoted = JSON.stringify(secretChat({ user: `\\"${'['.repeat(500)}` }))
    const answer = await post(optional.url + CHAT, quoted, 'application/json')
    expect(answer.status).toBe(200)
  })

  it.each([
    ['text/plain', 'text/plain'],
    ['no content type', undefined],
    ['a form', 'application/x-www-form-urlencoded'],
    ['multipart', 'multipart/form-data; boundary=x'],
    ['JSON in another charset', 'application/json; charset=iso-8859-1'],
  ])('refuses %s on a JSON route with 415 and forwards nothing', async (_name, contentType) => {
    const answer = await post(optional.url + CHAT, JSON.stringify(secretChat()), contentType)
    if (harness === expressWithParser && contentType?.includes('charset')) {
      // body-parser refuses a charset it cannot decode itself, with its own 415 body.
      expect(answer.status).toBe(415)
    } else {
      expectRefusal(answer, 415, 'CONTINUUM_UNSUPPORTED_MEDIA_TYPE')
    }
    expect(upstream.requests.length).toBe(before)
  })

  it.each(['application/json', 'application/json; charset=UTF-8', 'application/json;charset="utf-8"'])(
    'accepts %s',
    async (contentType) => {
      expect((await post(optional.url + CHAT, JSON.stringify(secretChat()), contentType)).status).toBe(200)
    },
  )

  it.each([
    ['a stray 0xff byte', [0xff, 0xfe]],
    ['an overlong encoding', [0xc0, 0xaf]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
    ['a truncated sequence', [0xe2, 0x82]],
  ])('refuses %s on an optional server instead of replacing it and forwarding', async (_name, bytes) => {
    const body = Buffer.concat([
      Buffer.from(`{"model":"llama-3-8b","messages":[{"role":"user","content":"${SECRET} `),
      Buffer.from(bytes),
      Buffer.from('"}]}'),
    ])
    const answer = await post(optional.url + CHAT, body, 'application/json')
    if (harness === expressWithParser) {
      // body-parser decodes before the proxy sees the body; what it lets through is its choice.
      expect(answer.status).toBeLessThan(500)
      return
    }
    expectRefusal(answer, 400, 'CONTINUUM_INVALID_UTF8')
    expect(upstream.requests.length).toBe(before)
  })
})

describe.each(rootFrameworks)('slow and endless bodies via $name', (harness) => {
  let upstream: FakeUpstream
  let app: RunningApp

  beforeAll(async () => {
    upstream = await startOpenAIUpstream()
    app = await harness.start({
      upstream: upstream.url,
      bodyLimit: 4096,
      bodyIdleTimeoutMs: 300,
      bodyTimeoutMs: 1_000,
      passThrough: ['/raw'],
    })
  })
  afterAll(async () => {
    await app.close()
    await upstream.close()
  })

  it('answers a body that stalls with 408 and closes the connection', async () => {
    const head = postHead(CHAT, { 'content-type': 'application/json', 'content-length': '200' })
    const exchange = await openRaw(app.url, head, '{"model":"llama')
    await exchange.closed
    expect(exchange.status()).toBe(408)
    expect(exchange.json().error?.code).toBe('CONTINUUM_BODY_TIMEOUT')
  })

  it('answers a body that trickles past the total timeout with 408 and closes the connection', async () => {
    const head = postHead(CHAT, { 'content-type': 'application/json', 'content-length': '4000' })
    const exchange = await openRaw(app.url, head, '{"model":"')
    keepSending(exchange.socket, 'a', 50)
    await exchange.closed
    expect(exchange.status()).toBe(408)
    expect(exchange.json()).toMatchObject({ error: { code: 'CONTINUUM_BODY_TIMEOUT', timeout: 'total' } })
  })

  it('frees 200 stalled bodies at once', async () => {
    const head = postHead(CHAT, { 'content-type': 'application/json', 'content-length': '200' })
    const exchanges = await Promise.all(Array.from({ length: 200 }, () => openRaw(app.url, head, '{')))
    await Promise.all(exchanges.map((exchange) => exchange.closed))
    expect(new Set(exchanges.map((exchange) => exchange.status()))).toEqual(new Set([408]))
  })

  it('answers a stalled pass-through upload with 408 and closes the connection', async () => {
    const head = postHead('/raw', { 'content-type': 'application/octet-stream', 'content-length': '1000' })
    const exchange = await openRaw(app.url, head, 'partial')
    await exchange.closed
    expect(exchange.status()).toBe(408)
    expect(exchange.json().error?.code).toBe('CONTINUUM_BODY_TIMEOUT')
  })

  it.each([
    [
      'a chunked body over the limit',
      { 'transfer-encoding': 'chunked' },
      `400\r\n${' '.repeat(1024)}\r\n`,
      413,
    ],
    ['a declared length over the limit', { 'content-length': '100000000' }, ' '.repeat(1024), 413],
    ['a form body', { 'content-type': 'text/plain', 'content-length': '100000000' }, ' '.repeat(1024), 415],
  ])(
    'closes the connection after refusing %s while the client keeps sending',
    async (_name, headers, chunk, status) => {
      const head = postHead(CHAT, { 'content-type': 'application/json', ...headers })
      const exchange = await openRaw(app.url, head, chunk)
      keepSending(exchange.socket, chunk, 5)
      await exchange.closed
      expect(exchange.status()).toBe(status)
      expect(exchange.text().toLowerCase()).toContain('connection: close')
    },
  )
})
