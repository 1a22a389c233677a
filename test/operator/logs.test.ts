/**
 * Logs (issue 13, item 4): the injected logger in pino's shape gets one start-up line (mode,
 * protocols, upstream, key ids, never key material) and, with `accessLog`, one line per request
 * after its last byte: method, route name, status, error code (also of a stream that failed after
 * its head), duration, bytes. No line holds the decrypted prompt, the answer, a key in any
 * encoding, a credential header or the raw path and query. The key id and request id are the
 * client's headers, logged for refused requests too and only in their shape, up to 64 and 128
 * characters (docs/security-operations.md). Pino itself works when passed in: Fastify's
 * `fastify.log` is a pino logger, handed to the plugin as it is.
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { generateAgreementKeyPair, type LogFields, type Logger } from 'continuum-proxy'
import { createEncryptedFetch } from 'continuum-proxy/client'
import { type ContinuumOptions, continuum } from 'continuum-proxy/express'
import { continuum as fastifyContinuum } from 'continuum-proxy/fastify'
import { vllm } from 'continuum-proxy/providers'
import { InferenceRouter } from 'continuum-proxy/router'
import express from 'express'
import Fastify from 'fastify'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KEY, KEY_ID, keyEncodings, SECRET } from '../conformance/support'
import { replyFor, startOpenAIUpstream } from '../kit/openai-echo'
import type { FakeUpstream } from '../kit/server'

const TOKEN = 'sk-live-do-not-log-me'
const agreement = generateAgreementKeyPair()
const PEM = agreement.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
const SCALAR = Buffer.from(agreement.privateKey.export({ format: 'jwk' }).d ?? '', 'base64url')

/** Everything that must never appear in a log line. */
const FORBIDDEN = [
  SECRET,
  replyFor(SECRET),
  'launch code',
  TOKEN,
  ...keyEncodings(KEY),
  PEM.split('\n')[1]!,
  ...keyEncodings(SCALAR),
  'query-secret',
]

/** A logger in pino's shape that keeps each line as { level, message, ...fields }. */
function recorder(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = []
  const at =
    (level: string) =>
    (fields: LogFields, message: string): void => {
      lines.push({ level, message, ...fields })
    }
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines }
}

function expectNoSecrets(text: string): void {
  for (const secret of FORBIDDEN) expect(text).not.toContain(secret)
}

/** The Express middleware with the binding's own defaults, on 127.0.0.1. */
async function startExpressProxy(
  options: ContinuumOptions,
): Promise<{ url: string; close(): Promise<void> }> {
  const app = express()
  const middleware = continuum(options)
  app.use(middleware)
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening))
  })
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await middleware.proxy.close()
    },
  }
}

let upstream: FakeUpstream
beforeAll(async () => {
  upstream = await startOpenAIUpstream()
})
afterAll(async () => {
  await upstream.close()
})

describe('the start-up line and the access log', () => {
  const log = recorder()
  let url: string
  let close: () => Promise<void>
  let client: OpenAI

  beforeAll(async () => {
    const proxy = await startExpressProxy({
      upstream: upstream.url,
      keys: { keys: [{ id: KEY_ID, key: KEY }], agreementKeys: [{ id: 'a1', privateKey: PEM }] },
      logger: log.logger,
      accessLog: true,
    })
    url = proxy.url
    close = proxy.close
    client = new OpenAI({
      baseURL: `${url}/v1`,
      apiKey: TOKEN,
      maxRetries: 0,
      fetch: createEncryptedFetch({ keyId: KEY_ID, key: KEY }),
    })
  })
  afterAll(async () => {
    await close()
  })

  it('logs one start-up line with mode, protocols, upstream and key ids', () => {
    const startup = log.lines.filter((line) => line.message === 'continuum-proxy ready')
    expect(startup).toEqual([
      {
        level: 'info',
        message: 'continuum-proxy ready',
        mode: 'proxy',
        protocols: 'openai,anthropic',
        upstream: upstream.url,
        encryption: 'required',
        keyIds: KEY_ID,
        agreementKeyIds: 'a1',
        stages: undefined,
        passThrough: undefined,
        unknownRoutes: 'next',
        accessLog: true,
      },
    ])
  })

  it('logs each request after its last byte, content-free', async () => {
    const from = log.lines.length
    const answer = await client.chat.completions.create(
      { model: 'llama-3-8b', messages: [{ role: 'user', content: SECRET }] },
      { query: { note: 'query-secret' } },
    )
    expect(answer.choices[0]?.message.content).toBe(replyFor(SECRET))
    let streamed = ''
    const stream = await client.chat.completions.create({
      model: 'llama-3-8b',
      stream: true,
      messages: [{ role: 'user', content: SECRET }],
    })
    for await (const part of stream) streamed += part.choices[0]?.delta.content ?? ''
    expect(streamed).toBe(replyFor(SECRET))
    const cut = await client.chat.completions
      .create({ model: 'cut-stream', stream: true, messages: [{ role: 'user', content: SECRET }] })
      .then(async (events) => {
        for await (const _part of events);
      })
      .catch((error: unknown) => error)
    expect(cut).toBeInstanceOf(Error)
    const refused = await fetch(`${url}/v1/chat/completions?note=query-secret`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ model: 'x', messages: [{ role: 'user', content: SECRET }] }),
    })
    expect(refused.status).toBe(400)
    await (await fetch(`${url}/v1/models`)).text()
    await (await fetch(`${url}/not-ours`)).text()

    const requests = log.lines.slice(from).filter((line) => line.message === 'request')
    expect(requests.map(({ route, status, code, method }) => ({ route, status, code, method }))).toEqual([
      { method: 'POST', route: 'openai.chat-completions', status: 200, code: undefined },
      { method: 'POST', route: 'openai.chat-completions', status: 200, code: undefined },
      {
        method: 'POST',
        route: 'openai.chat-completions',
        status: 200,
        code: 'CONTINUUM_UPSTREAM_STREAM_ABORTED',
      },
      {
        method: 'POST',
        route: 'openai.chat-completions',
        status: 400,
        code: 'CONTINUUM_ENCRYPTION_REQUIRED',
      },
      { method: 'GET', route: 'openai.models', status: 200, code: undefined },
    ])
    for (const line of requests) {
      expect(line.level).toBe('info')
      expect(typeof line.durationMs).toBe('number')
      expect(line.bytes as number).toBeGreaterThan(0)
      expect(Object.keys(line).sort()).toEqual(
        expect.arrayContaining(['bytes', 'durationMs', 'method', 'route', 'status']),
      )
    }
    expect(requests[0]).toMatchObject({ keyId: KEY_ID })
    expect(requests[0]!.requestId).toMatch(/^[0-9a-f-]{36}$/)
    expectNoSecrets(JSON.stringify(log.lines))
    // The raw path never appears: only route names.
    expect(JSON.stringify(requests)).not.toContain('/v1/chat')
  })
})

describe('the key id and request id of an access line are what the client sent', () => {
  const log = recorder()
  let url: string
  let close: () => Promise<void>

  beforeAll(async () => {
    const proxy = await startExpressProxy({
      upstream: upstream.url,
      keys: { keys: [{ id: KEY_ID, key: KEY }] },
      logger: log.logger,
      accessLog: true,
    })
    url = proxy.url
    close = proxy.close
  })
  afterAll(async () => {
    await close()
  })

  /** The access line of one plain request with these headers (refused: encryption is required). */
  async function lineOf(headers: Record<string, string>): Promise<Record<string, unknown>> {
    const from = log.lines.length
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model: 'x', messages: [{ role: 'user', content: SECRET }] }),
    })
    await response.text()
    const lines = log.lines.slice(from).filter((line) => line.message === 'request')
    expect(lines).toHaveLength(1)
    return lines[0]!
  }

  it('logs the key id a refused request named and the request id it chose', async () => {
    const line = await lineOf({ 'x-continuum-key-id': 'another-tenant', 'x-request-id': 'chosen.id:1' })
    expect(line).toMatchObject({
      status: 400,
      code: 'CONTINUUM_ENCRYPTION_REQUIRED',
      keyId: 'another-tenant',
      requestId: 'chosen.id:1',
    })
  })

  it.each([
    ['a key id of 64 characters', { 'x-continuum-key-id': 'k'.repeat(64) }, 'keyId', 'k'.repeat(64)],
    ['a key id of 65 characters', { 'x-continuum-key-id': 'k'.repeat(65) }, 'keyId', undefined],
    ['a key id with a dot', { 'x-continuum-key-id': 'k.1' }, 'keyId', undefined],
    ['a request id of 128 characters', { 'x-request-id': 'r'.repeat(128) }, 'requestId', 'r'.repeat(128)],
    ['a request id of 129 characters', { 'x-request-id': 'r'.repeat(129) }, 'requestId', undefined],
    ['a request id with a quote', { 'x-request-id': 'a","level":"error' }, 'requestId', undefined],
    ['a request id with a space', { 'x-request-id': 'a b' }, 'requestId', undefined],
  ])('logs %s only in its shape, never truncated', async (_name, headers, field, logged) => {
    const line = await lineOf(headers)
    expect(line[field]).toBe(logged)
    expect(line.status).toBe(400)
  })
})

describe('a pino logger passed as it is', () => {
  it("takes Fastify's fastify.log and writes JSON lines without content", async () => {
    const written: string[] = []
    const stream = new Writable({
      write(chunk, _encoding, done) {
        written.push(String(chunk))
        done()
      },
    })
    const app = Fastify({ logger: { level: 'info', stream } })
    await app.register(fastifyContinuum, {
      upstream: upstream.url,
      keys: { keys: [{ id: KEY_ID, key: KEY }] },
      logger: app.log,
      accessLog: true,
    })
    const origin = await app.listen({ port: 0, host: '127.0.0.1' })
    try {
      const client = new OpenAI({
        baseURL: `${origin}/v1`,
        apiKey: TOKEN,
        maxRetries: 0,
        fetch: createEncryptedFetch({ keyId: KEY_ID, key: KEY }),
      })
      await client.chat.completions.create({
        model: 'llama-3-8b',
        messages: [{ role: 'user', content: SECRET }],
      })
    } finally {
      await app.close()
    }
    const lines = written
      .join('')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 30, msg: 'continuum-proxy ready', mode: 'proxy', keyIds: KEY_ID }),
    )
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 30, msg: 'request', route: 'openai.chat-completions', status: 200 }),
    )
    expectNoSecrets(written.join(''))
  })
})

describe('the start-up line of the gateway', () => {
  it('names the mode and the router, and no provider secret', async () => {
    const log = recorder()
    const router = new InferenceRouter({
      providers: [vllm({ id: 'gpu-0', endpoints: [upstream.url], apiKey: TOKEN })],
    })
    const proxy = await startExpressProxy({
      router,
      keys: { keys: [{ id: KEY_ID, key: KEY }] },
      logger: log.logger,
    })
    await proxy.close()
    await router.close()
    expect(log.lines[0]).toMatchObject({
      message: 'continuum-proxy ready',
      mode: 'gateway',
      upstream: 'router',
      protocols: 'openai,anthropic',
      keyIds: KEY_ID,
    })
    expectNoSecrets(JSON.stringify(log.lines))
  })
})
