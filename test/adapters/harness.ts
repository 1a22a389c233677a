/**
 * What the adapter tests share: an Express app running the real middleware on port 0 in front of
 * a fake upstream, and a recording fetch that keeps the bytes crossing the wire between client
 * and proxy (request bodies and whole response bodies, streams included) for plaintext checks.
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import { continuum } from '../../middleware/express'
import type { ProxyOptions } from '../../src/proxy/proxy-options'

/** A running Express proxy. */
export interface RunningProxy {
  url: string
  close(): Promise<void>
}

/** Starts Express with the continuum middleware on 127.0.0.1, port 0. */
export async function startExpressProxy(options: ProxyOptions): Promise<RunningProxy> {
  const app = express()
  const middleware = continuum(options)
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
