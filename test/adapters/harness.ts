/**
 * What the adapter tests share: an Express app running the real middleware on port 0 in front of
 * a fake upstream, an encrypting client posting to it, and a recording fetch that keeps the bytes
 * crossing the wire between client and proxy (request bodies and whole response bodies, streams
 * included) for plaintext checks.
 */
import { randomBytes } from 'node:crypto'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ProxyOptions } from 'continuum-proxy'
import { builtinAdapters } from 'continuum-proxy/adapters'
import { createEncryptedFetch } from 'continuum-proxy/client'
import { continuum } from 'continuum-proxy/express'
import express from 'express'
import { afterAll, beforeAll } from 'vitest'
import type { FakeUpstream } from '../kit/server'

/** A running Express proxy. */
export interface RunningProxy {
  url: string
  close(): Promise<void>
}

/** Starts Express with the continuum middleware on 127.0.0.1, port 0. */
export async function startExpressProxy(options: ProxyOptions): Promise<RunningProxy> {
  const app = express()
  // Every protocol: the bindings serve only OpenAI and Anthropic unless told otherwise.
  const middleware = continuum({ adapters: builtinAdapters(), ...options })
  app.use(middleware)
  const server: Server = await new Promise((resolve) => {
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

/** A fake upstream behind an Express proxy that requires encryption, and a client for it. */
export interface EncryptedProxy {
  /** The fake upstream; read it inside tests, after beforeAll has run. */
  readonly upstream: FakeUpstream
  /** The proxy in front of it; read it inside tests, after beforeAll has run. */
  readonly proxy: RunningProxy
  /**
   * POSTs `body` as JSON to `path` on the proxy through an encrypting fetch (key id `k1`), over
   * `recorder` when one is given so the test can inspect the wire.
   */
  post(recorder: WireRecorder | undefined, path: string, body: unknown): Promise<Response>
}

/**
 * Registers beforeAll/afterAll hooks that start the upstream `startUpstream` makes, then an
 * Express proxy in front of it holding one random key `k1`, and close both (proxy first) at the end.
 * Call it at the top level of a test file.
 */
export function useEncryptedProxy(startUpstream: () => Promise<FakeUpstream>): EncryptedProxy {
  const key = randomBytes(32)
  let upstream: FakeUpstream | undefined
  let proxy: RunningProxy | undefined

  beforeAll(async () => {
    upstream = await startUpstream()
    proxy = await startExpressProxy({ upstream: upstream.url, keys: { keys: [{ id: 'k1', key }] } })
  })

  afterAll(async () => {
    await proxy?.close()
    await upstream?.close()
  })

  function started<T>(value: T | undefined, name: string): T {
    if (value === undefined) throw new Error(`useEncryptedProxy: the ${name} is read before beforeAll ran`)
    return value
  }

  return {
    get upstream() {
      return started(upstream, 'upstream')
    },
    get proxy() {
      return started(proxy, 'proxy')
    },
    post(recorder, path, body) {
      const fetcher = createEncryptedFetch({
        keyId: 'k1',
        key,
        // A seal per event: these tests read the adapters' plain fields on the wire.
        streamBatches: false,
        ...(recorder === undefined ? {} : { fetch: recorder.fetch }),
      })
      return fetcher(`${started(proxy, 'proxy').url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    },
  }
}

/** A fetch that records the wire. */
export interface WireRecorder {
  fetch: typeof fetch
  /** Request bodies as sent. */
  readonly requests: string[]
  /** Every byte of every response body, once the responses finished. */
  responses(): Promise<string[]>
}

/** Creates a recording fetch over globalThis.fetch. */
export function recordWire(): WireRecorder {
  const requests: string[] = []
  const responses: Promise<string>[] = []
  const recording = (async (input: RequestInfo | URL, init?: RequestInit) => {
    requests.push(typeof init?.body === 'string' ? init.body : '')
    const response = await globalThis.fetch(input, init)
    responses.push(
      response
        .clone()
        .text()
        .catch(() => ''),
    )
    return response
  }) as typeof fetch
  return {
    fetch: recording,
    requests,
    responses: async () => Promise.all(responses),
  }
}

/** Everything the client and the proxy exchanged, as one string. */
export async function wireText(recorder: WireRecorder): Promise<string> {
  return [...recorder.requests, ...(await recorder.responses())].join('\n')
}
