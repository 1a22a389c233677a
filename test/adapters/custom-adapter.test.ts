import { randomBytes } from 'node:crypto'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ProxyOptions } from 'continuum-proxy'
import { AdapterRegistry, defineAdapter } from 'continuum-proxy'
import { createEncryptedFetch } from 'continuum-proxy/client'
import { continuum as expressContinuum } from 'continuum-proxy/express'
import { continuum as fastifyContinuum } from 'continuum-proxy/fastify'
import { continuum as koaContinuum } from 'continuum-proxy/koa'
import express from 'express'
import Fastify from 'fastify'
import Koa from 'koa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsonReply, words } from '../kit/replies'
import { FakeUpstream } from '../kit/server'
import { recordWire, wireText } from './harness'

/** A third party's protocol: a summariser with a JSON route, an NDJSON stream and a plain status. */
const acmeAdapter = defineAdapter({
  name: 'acme-summarizer',
  routes: [
    {
      name: 'summarize',
      method: 'POST',
      path: '/acme/v1/summarize',
      encrypted: true,
      requestPlain: ['model', 'stream', 'max_words'],
      requestSchema: {
        type: 'object',
        required: ['model', 'document'],
        properties: { model: { type: 'string' }, document: { type: 'string', minLength: 1 } },
      },
      responsePlain: ['id', 'model', 'words', 'seq', 'last'],
      stream: {
        framing: 'ndjson',
        plain: ['id', 'model', 'seq', 'last'],
        isFinal: (event) => event.last === true,
      },
    },
    { name: 'status', method: 'GET', path: '/acme/v1/status', encrypted: false },
  ],
})

const summaryOf = (document: string): string => `summary of ${document}`

function startAcmeUpstream(): Promise<FakeUpstream> {
  return FakeUpstream.start((request) => {
    if (request.method === 'GET') return jsonReply({ status: 'ok', queue: 0 })
    const body = request.json() as { model: string; document: string; stream?: boolean }
    const summary = summaryOf(body.document)
    if (body.stream !== true) return jsonReply({ id: 'sum-1', model: body.model, words: 4, summary })
    const pieces = words(summary)
    return {
      kind: 'chunks',
      headers: { 'content-type': 'application/x-ndjson' },
      chunks: pieces.map(
        (text, seq) =>
          `${JSON.stringify({ id: 'sum-1', model: body.model, seq, text, last: seq === pieces.length - 1 })}\n`,
      ),
    }
  })
}

interface Framework {
  name: string
  start(options: ProxyOptions): Promise<{ url: string; close(): Promise<void> }>
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => (server.listening ? resolve() : server.once('listening', resolve)))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
}

const frameworks: Framework[] = [
  {
    name: 'express',
    async start(options) {
      const app = express()
      const middleware = expressContinuum(options)
      app.use(middleware)
      const server = app.listen(0, '127.0.0.1')
      return {
        url: await listen(server),
        close: async () => {
          await closeServer(server)
          await middleware.proxy.close()
        },
      }
    },
  },
  {
    name: 'koa',
    async start(options) {
      const app = new Koa()
      const middleware = koaContinuum(options)
      app.use(middleware)
      const server = app.listen(0, '127.0.0.1')
      return {
        url: await listen(server),
        close: async () => {
          await closeServer(server)
          await middleware.proxy.close()
        },
      }
    },
  },
  {
    name: 'fastify',
    async start(options) {
      const app = Fastify()
      await app.register(fastifyContinuum, options)
      const url = await app.listen({ port: 0, host: '127.0.0.1' })
      return { url, close: () => app.close() }
    },
  },
]

const key = randomBytes(32)
const registry = new AdapterRegistry([acmeAdapter])
let upstream: FakeUpstream

beforeAll(async () => {
  upstream = await startAcmeUpstream()
})

afterAll(async () => {
  await upstream.close()
})

describe.each(frameworks)('a defineAdapter() protocol in a custom registry through $name', (framework) => {
  let proxy: { url: string; close(): Promise<void> }

  beforeAll(async () => {
    proxy = await framework.start({
      upstream: upstream.url,
      keys: { keys: [{ id: 'k1', key }] },
      adapters: registry,
      unknownRoutes: 'reject',
    })
  })

  afterAll(async () => {
    await proxy.close()
  })

  function summarize(
    body: Record<string, unknown>,
    fetcher: typeof fetch = globalThis.fetch,
  ): Promise<Response> {
    const encrypted = createEncryptedFetch({ keyId: 'k1', key, adapters: registry, fetch: fetcher })
    return encrypted(`${proxy.url}/acme/v1/summarize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
  }

  it('round-trips a JSON request with the document and summary encrypted on the wire', async () => {
    const recorder = recordWire()
    const response = await summarize(
      { model: 'acme-sum-2', max_words: 40, document: 'quarterly loss memo' },
      recorder.fetch,
    )
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({
      id: 'sum-1',
      model: 'acme-sum-2',
      words: 4,
      summary: summaryOf('quarterly loss memo'),
    })
    expect(JSON.parse(upstream.requests.at(-1)!.body)).toEqual({
      model: 'acme-sum-2',
      max_words: 40,
      document: 'quarterly loss memo',
    })
    const wire = await wireText(recorder)
    expect(recorder.requests[0]).toContain('"max_words":40')
    expect(wire).toContain('cp2.k1.')
    expect(wire).not.toContain('quarterly loss')
  })

  it('streams NDJSON events encrypted and decrypts them in order', async () => {
    const recorder = recordWire()
    const response = await summarize(
      { model: 'acme-sum-2', stream: true, document: 'merger draft v3' },
      recorder.fetch,
    )
    const events = (await response.text())
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { seq: number; text: string; last: boolean })
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index))
    expect(events.map((event) => event.text).join('')).toBe(summaryOf('merger draft v3'))
    expect(events.at(-1)?.last).toBe(true)
    expect(await wireText(recorder)).not.toContain('merger')
  })

  it('validates the decrypted request against the adapter schema', async () => {
    const response = await summarize({ model: 'acme-sum-2', document: '' })
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({
      error: { code: 'CONTINUUM_SCHEMA_VIOLATION', path: '/document' },
    })
  })

  it('passes the plain route through and serves only the registry it was given', async () => {
    const status = await fetch(`${proxy.url}/acme/v1/status`)
    expect(await status.json()).toEqual({ status: 'ok', queue: 0 })
    const builtin = await fetch(`${proxy.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'x', messages: [] }),
    })
    expect(builtin.status).toBe(501)
    expect(await builtin.json()).toMatchObject({ error: { code: 'CONTINUUM_ROUTE_NOT_SUPPORTED' } })
  })
})

describe('registering a defineAdapter() protocol', () => {
  it('refuses a route that clashes with a registered one', () => {
    const clash = defineAdapter({
      name: 'copycat',
      routes: [{ name: 'status', method: 'GET', path: '/acme/v1/status', encrypted: false }],
    })
    expect(() => new AdapterRegistry([acmeAdapter, clash])).toThrow(/already served by "acme-summarizer"/)
  })
})
