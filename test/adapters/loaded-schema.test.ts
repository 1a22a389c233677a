/**
 * A request schema given as a loader (as the built-in adapters give theirs, so a proxy never loads
 * the schema of a route it is not sent): the first requests of a route wait for it and are
 * checked by it, a burst of them loads it once, and a loader that fails refuses its requests
 * without letting an unchecked body through, then is tried again on the next one.
 */
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { AdapterRegistry, defineAdapter } from 'continuum-proxy'
import { createEncryptedFetch } from 'continuum-proxy/client'
import { continuum } from 'continuum-proxy/express'
import express from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsonReply } from '../kit/replies'
import { FakeUpstream } from '../kit/server'

const schema = {
  type: 'object',
  required: ['model', 'text'],
  properties: { model: { type: 'string' }, text: { type: 'string', maxLength: 16 } },
}

/** Loads made, and whether the next one fails; each load settles when the test releases it. */
const loader = { calls: 0, failNext: false, release: [] as (() => void)[] }

const noteAdapter = defineAdapter({
  name: 'acme-notes',
  routes: [
    {
      name: 'note',
      method: 'POST',
      path: '/acme/v1/note',
      encrypted: true,
      requestPlain: ['model'],
      requestSchema: () => {
        loader.calls++
        const fail = loader.failNext
        loader.failNext = false
        return new Promise((resolve, reject) => {
          loader.release.push(() => (fail ? reject(new Error('schema store unreachable')) : resolve(schema)))
        })
      },
      responsePlain: ['id'],
    },
  ],
})

const key = randomBytes(32).toString('base64')
const registry = new AdapterRegistry([noteAdapter])
let upstream: FakeUpstream
let proxyServer: Server
let proxyUrl: string
let middleware: ReturnType<typeof continuum>

beforeAll(async () => {
  upstream = await FakeUpstream.start(() => jsonReply({ id: 'note-1' }))
  middleware = continuum({ upstream: upstream.url, keys: { keys: [{ id: 'k1', key }] }, adapters: registry })
  const app = express()
  app.use(middleware)
  proxyServer = createServer(app)
  await new Promise<void>((resolve) => proxyServer.listen(0, '127.0.0.1', resolve))
  proxyUrl = `http://127.0.0.1:${(proxyServer.address() as AddressInfo).port}`
})

afterAll(async () => {
  proxyServer.closeAllConnections()
  await new Promise((resolve) => proxyServer.close(resolve))
  await middleware.proxy.close()
  await upstream.close()
})

function note(text: string): Promise<Response> {
  const encrypted = createEncryptedFetch({ keyId: 'k1', key, adapters: registry })
  return encrypted(`${proxyUrl}/acme/v1/note`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', text }),
  })
}

/** Releases the pending loads once `count` of them were asked for. */
async function releaseWhenAsked(count: number): Promise<void> {
  while (loader.release.length < count) await new Promise((resolve) => setTimeout(resolve, 5))
  for (const release of loader.release.splice(0)) release()
}

/** The error code of a refused answer. */
async function codeOf(response: Response): Promise<string> {
  return ((await response.json()) as { error: { code: string } }).error.code
}

describe('a request schema loaded on first use', () => {
  it('refuses with a coded error and forwards nothing when the loader fails, and loads again next time', async () => {
    loader.failNext = true
    const pending = note('a body that is far too long for the schema')
    await releaseWhenAsked(1)
    const response = await pending
    expect(response.status).toBe(500)
    expect(await codeOf(response)).toBe('CONTINUUM_INTERNAL')
    expect(upstream.requests).toHaveLength(0)
    expect(loader.calls).toBe(1)
  })

  it('loads once for a burst of first requests and checks every one of them', async () => {
    const before = loader.calls
    const burst = [
      note('short'),
      note('a body that is far too long'),
      note('fine'),
      note('also far too long!'),
    ]
    await releaseWhenAsked(1)
    const responses = await Promise.all(burst)
    expect(loader.calls).toBe(before + 1)
    expect(responses.map((response) => response.status)).toEqual([200, 400, 200, 400])
    expect(await codeOf(responses[1]!)).toBe('CONTINUUM_SCHEMA_VIOLATION')
    expect(upstream.requests.map((request) => (request.json() as { text: string }).text).sort()).toEqual([
      'fine',
      'short',
    ])
  })

  it('validates later requests with the loaded schema, without loading again', async () => {
    const before = loader.calls
    expect((await note('ok')).status).toBe(200)
    expect(await codeOf(await note('too long for sixteen'))).toBe('CONTINUUM_SCHEMA_VIOLATION')
    expect(loader.calls).toBe(before)
  })
})
