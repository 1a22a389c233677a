/**
 * An upstream that streams an answer to a request that did not ask for a stream, and cuts the
 * connection at once, as the process's first decoded stream. The stream path is preloaded only for
 * requests that ask for a stream; here it loads when the answer arrives, and the upstream body
 * waits unread meanwhile. The cut destroyed it in those milliseconds, and the relay then waited on
 * a body that had sent its `error` and `close` already: the client's answer never ended. From a
 * fresh module graph (`vi.resetModules`, so no other file loaded the path), the encrypting fetch
 * must now get the sealed CONTINUUM_UPSTREAM_STREAM_ABORTED. (What the upstream sent before the
 * cut is lost with the destroyed body's buffer: a known gap, see docs/security.md.)
 */
import { randomBytes } from 'node:crypto'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { startOpenAIUpstream } from '../kit/openai-echo'
import type { FakeUpstream } from '../kit/server'

vi.resetModules()
const { continuum } = await import('continuum-proxy/express')
const { createEncryptedFetch } = await import('continuum-proxy/client')
const { streamPathLoaded } = await import('../../src/proxy/stream-path-loader')

const key = randomBytes(32).toString('base64')
let upstream: FakeUpstream
let server: Server
let middleware: ReturnType<typeof continuum>
let url: string

beforeAll(async () => {
  upstream = await startOpenAIUpstream()
  middleware = continuum({ upstream: upstream.url, keys: { keys: [{ id: 'k1', key }] } })
  const app = express().use(middleware)
  server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening))
  })
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
  await middleware.proxy.close()
  await upstream.close()
})

const chunk = (content: string) =>
  `data: ${JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'm',
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
  })}\n\n`

describe('a first stream the request did not ask for, cut by the upstream straight away', () => {
  it('ends the answer with the sealed failure instead of hanging', async () => {
    expect(streamPathLoaded()).toBe(false)
    upstream.queue({
      kind: 'chunks',
      headers: { 'content-type': 'text/event-stream' },
      chunks: [chunk('first ') + chunk('second')],
      ending: 'destroy',
    })
    const encryptedFetch = createEncryptedFetch({ keyId: 'k1', key })
    const response = await encryptedFetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hello' }] }),
    })
    expect(response.status).toBe(200)
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
    let failure: unknown
    try {
      for (;;) {
        const { done } = await reader.read()
        if (done) break
      }
    } catch (error) {
      failure = error
    }
    expect(failure).toMatchObject({ code: 'CONTINUUM_UPSTREAM_STREAM_ABORTED' })
    expect(streamPathLoaded()).toBe(true)
  })
})
