/**
 * A third party's schema that uses the `format` keyword: ajv-formats is loaded only for such a
 * schema (no built-in one uses it), and the format is enforced on the decrypted body, so a
 * malformed address is refused before it reaches the upstream.
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

const mailAdapter = defineAdapter({
  name: 'acme-mailer',
  routes: [
    {
      name: 'draft',
      method: 'POST',
      path: '/acme/v1/draft',
      encrypted: true,
      requestPlain: ['model'],
      requestSchema: {
        type: 'object',
        required: ['model', 'to', 'text'],
        properties: {
          model: { type: 'string' },
          to: { type: 'string', format: 'email' },
          text: { type: 'string' },
          // A property named `format` is not the keyword.
          format: { enum: ['plain', 'html'] },
        },
      },
      responsePlain: ['id'],
    },
  ],
})

const key = randomBytes(32).toString('base64')
const registry = new AdapterRegistry([mailAdapter])
let upstream: FakeUpstream
let proxyServer: Server
let proxyUrl: string
let middleware: ReturnType<typeof continuum>

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

beforeAll(async () => {
  upstream = await FakeUpstream.start(() => jsonReply({ id: 'draft-1', text: 'drafted' }))
  middleware = continuum({ upstream: upstream.url, keys: { keys: [{ id: 'k1', key }] }, adapters: registry })
  const app = express()
  app.use(middleware)
  proxyServer = createServer(app)
  proxyUrl = await listen(proxyServer)
})

afterAll(async () => {
  proxyServer.closeAllConnections()
  await new Promise((resolve) => proxyServer.close(resolve))
  await middleware.proxy.close()
  await upstream.close()
})

function draft(body: Record<string, unknown>): Promise<Response> {
  const encrypted = createEncryptedFetch({ keyId: 'k1', key, adapters: registry })
  return encrypted(`${proxyUrl}/acme/v1/draft`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
}

describe('a schema with the format keyword', () => {
  it('forwards a body whose fields match their formats', async () => {
    const response = await draft({ model: 'm', to: 'ops@example.com', text: 'hello', format: 'plain' })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ id: 'draft-1', text: 'drafted' })
    expect(upstream.requests.at(-1)!.json()).toEqual({
      model: 'm',
      to: 'ops@example.com',
      text: 'hello',
      format: 'plain',
    })
  })

  it('refuses a malformed address with CONTINUUM_SCHEMA_VIOLATION before the upstream sees it', async () => {
    const before = upstream.requests.length
    const response = await draft({ model: 'm', to: 'not an address', text: 'hello' })
    expect(response.status).toBe(400)
    const body = (await response.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe('CONTINUUM_SCHEMA_VIOLATION')
    expect(body.error.message).not.toContain('not an address')
    expect(upstream.requests.length).toBe(before)
  })
})
