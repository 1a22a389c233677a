/**
 * The proxy from a fresh module graph, for the tests of what a process's first stream does before
 * the stream path is loaded: `vi.resetModules()`, then the Express binding, the client and the
 * stream-path loader imported anew (so no other file loaded the path), serving the OpenAI echo
 * fake on 127.0.0.1 port 0 with one shared key. Such files run isolated (vitest.config.ts).
 */
import { randomBytes } from 'node:crypto'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import { vi } from 'vitest'
import { startOpenAIUpstream } from '../kit/openai-echo'
import type { FakeUpstream } from '../kit/server'

/** A running proxy on a fresh module graph, and the fresh modules' functions the tests use. */
export interface FreshProxy {
  readonly url: string
  readonly key: string
  readonly upstream: FakeUpstream
  readonly createEncryptedFetch: typeof import('continuum-proxy/client').createEncryptedFetch
  readonly streamPathLoaded: () => boolean
  close(): Promise<void>
}

export async function startFreshProxy(): Promise<FreshProxy> {
  vi.resetModules()
  const { continuum } = await import('continuum-proxy/express')
  const { createEncryptedFetch } = await import('continuum-proxy/client')
  const { streamPathLoaded } = await import('../../src/proxy/stream-path-loader')
  const key = randomBytes(32).toString('base64')
  const upstream = await startOpenAIUpstream()
  const middleware = continuum({ upstream: upstream.url, keys: { keys: [{ id: 'k1', key }] } })
  const app = express().use(middleware)
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening))
  })
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    key,
    upstream,
    createEncryptedFetch,
    streamPathLoaded,
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await middleware.proxy.close()
      await upstream.close()
    },
  }
}
