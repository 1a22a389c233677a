/**
 * Deferred adapters (`deferAdapter`): registered by their routes alone and loaded on the first
 * request one of them serves, as the bindings register TGI, Ollama and Triton. A burst of first
 * requests loads the adapter once and every request of it is served; a load that fails refuses
 * its requests without forwarding anything and is tried again on the next one; a loaded adapter
 * whose routes differ from the declared ones is refused, since routing decided before the load
 * (which paths are the proxy's, which routes are encrypted) must not change after it.
 */
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { AdapterRegistry, type DeferredAdapter, deferAdapter, defineAdapter } from 'continuum-proxy'
import { builtinAdapters } from 'continuum-proxy/adapters'
import { createEncryptedFetch } from 'continuum-proxy/client'
import { continuum } from 'continuum-proxy/express'
import express from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { builtinProtocols } from '../../adapters/protocols'
import { jsonReply } from '../kit/replies'
import { FakeUpstream } from '../kit/server'
import { startTgiUpstream, tgiReplyFor } from '../kit/tgi'

const key = randomBytes(32).toString('base64')

/** Requests that reached the proxy's middleware, by every `serve`d app. */
let arrived = 0

/** Runs Express with the middleware on port 0; `close()` it after the test. */
async function serve(
  middleware: ReturnType<typeof continuum>,
): Promise<{ url: string; close(): Promise<void> }> {
  const app = express()
  app.use((_request, _response, next) => {
    arrived++
    next()
  })
  app.use(middleware)
  app.use((_request, response) => {
    response.status(404).json({ host: 'app' })
  })
  const server: Server = createServer(app)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await middleware.proxy.close()
    },
  }
}

describe('the deferred built-in protocols', () => {
  const deferred = builtinProtocols().filter((adapter): adapter is DeferredAdapter => 'load' in adapter)

  it('defer TGI, Triton and Ollama, and keep OpenAI and Anthropic ready', () => {
    expect(deferred.map((adapter) => adapter.name)).toEqual(['triton', 'tgi', 'ollama'])
    expect(builtinProtocols().map((adapter) => adapter.name)).toEqual(
      builtinAdapters().map((adapter) => adapter.name),
    )
  })

  it.each(['triton', 'tgi', 'ollama'])(
    'declare exactly the routes %s has, and load that adapter',
    async (name) => {
      const summary = deferred.find((adapter) => adapter.name === name)!
      const full = builtinAdapters().find((adapter) => adapter.name === name)!
      const routing = (route: {
        name: string
        method: string
        path: string
        header?: string
        encrypted: boolean
      }) => `${route.name} ${route.method} ${route.path} ${route.header ?? '-'} ${route.encrypted}`
      expect(summary.routes.map(routing)).toEqual(full.routes.map(routing))
      expect(await summary.load()).toBe(full)
    },
  )

  it('route every path as the loaded adapters do, before and after loading', async () => {
    const lazy = new AdapterRegistry(builtinProtocols())
    const eager = new AdapterRegistry(builtinAdapters())
    const probes = builtinAdapters().flatMap((adapter) =>
      adapter.routes.map((route) => ({
        method: route.method,
        path: route.path.replaceAll(/\{[a-z]+\}/g, 'x'),
        headers: route.header === undefined ? {} : { [route.header]: '1' },
      })),
    )
    const routeOf = (registry: AdapterRegistry, probe: (typeof probes)[number]) => {
      const found = registry.lookup(probe.method, probe.path, probe.headers)
      return found.kind === 'match'
        ? `${found.match.route.adapter}.${found.match.route.name} ${found.match.route.encrypted}`
        : found.kind
    }
    for (const probe of probes) expect(routeOf(lazy, probe)).toBe(routeOf(eager, probe))
    const found = lazy.lookup('POST', '/generate')
    if (found.kind !== 'match') throw new Error('no match')
    expect(found.match.route.load).toBeTypeOf('function')
    // Nothing reads an empty field map in place of the adapter's own before it is loaded.
    expect(() => found.match.route.requestTree).toThrow(/not loaded yet/)
    const resolved = await lazy.resolve(found.match)
    expect(resolved.route.load).toBeUndefined()
    expect(resolved.route.stream).toBeUndefined()
    expect(resolved.route.requestTree).toBeDefined()
    // From then on the registry answers the loaded routes, synchronously.
    const again = lazy.lookup('POST', '/generate_stream')
    expect(again.kind === 'match' && again.match.route.load).toBe(undefined)
    for (const probe of probes) expect(routeOf(lazy, probe)).toBe(routeOf(eager, probe))
  })
})

describe("TGI named in the Express binding's adapters", () => {
  let upstream: FakeUpstream
  let proxy: { url: string; close(): Promise<void> }

  beforeAll(async () => {
    upstream = await startTgiUpstream()
    proxy = await serve(
      continuum({ upstream: upstream.url, keys: { keys: [{ id: 'k1', key }] }, adapters: ['openai', 'tgi'] }),
    )
  })

  afterAll(async () => {
    await proxy.close()
    await upstream.close()
  })

  it('serves a burst of first requests, streamed and not, encrypted and plain', async () => {
    const encrypted = createEncryptedFetch({ keyId: 'k1', key })
    const generate = (path: string, prompt: string) =>
      encrypted(`${proxy.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: prompt, parameters: { max_new_tokens: 8 } }),
      })
    const burst = await Promise.all([
      ...Array.from({ length: 8 }, (_, index) => generate('/generate', `prompt ${index}`)),
      ...Array.from({ length: 8 }, (_, index) => generate('/generate_stream', `streamed ${index}`)),
      fetch(`${proxy.url}/health`),
    ])
    expect(burst.map((response) => response.status)).toEqual(burst.map(() => 200))
    for (const [index, response] of burst.slice(0, 8).entries()) {
      expect(((await response.json()) as { generated_text: string }).generated_text).toBe(
        tgiReplyFor(`prompt ${index}`),
      )
    }
    for (const [index, response] of burst.slice(8, 16).entries()) {
      const events = (await response.text())
        .split('\n\n')
        .filter((frame) => frame.startsWith('data: '))
        .map((frame) => JSON.parse(frame.slice(6)) as { generated_text: string | null })
      expect(events.at(-1)?.generated_text).toBe(tgiReplyFor(`streamed ${index}`))
    }
    // Ollama was not named: its paths stay the host app's.
    const other = await fetch(`${proxy.url}/api/tags`)
    expect(other.status).toBe(404)
    expect(await other.json()).toEqual({ host: 'app' })
  })
})

describe('a deferred adapter of your own', () => {
  /** Loads made, and whether the next one fails or answers routes other than the declared ones. */
  const loader = { calls: 0, fail: false, wrongRoutes: false, release: [] as (() => void)[] }
  const notes = (encrypted: boolean) =>
    defineAdapter({
      name: 'acme-notes',
      routes: [
        {
          name: 'note',
          method: 'POST',
          path: '/acme/note',
          encrypted,
          requestPlain: ['model'],
          responsePlain: ['id'],
        },
        { name: 'health', method: 'GET', path: '/acme/health', encrypted: false },
      ],
    })
  const acme = deferAdapter({
    name: 'acme-notes',
    routes: [
      { name: 'note', method: 'POST', path: '/acme/note', encrypted: true },
      { name: 'health', method: 'GET', path: '/acme/health', encrypted: false },
    ],
    load: () => {
      loader.calls++
      const { fail, wrongRoutes } = loader
      loader.fail = false
      loader.wrongRoutes = false
      return new Promise((resolve, reject) => {
        loader.release.push(() =>
          fail ? reject(new Error('adapter store unreachable')) : resolve(notes(!wrongRoutes)),
        )
      })
    },
  })
  let upstream: FakeUpstream
  let proxy: { url: string; close(): Promise<void> }

  beforeAll(async () => {
    upstream = await FakeUpstream.start(() => jsonReply({ id: 'note-1' }))
    proxy = await serve(
      continuum({ upstream: upstream.url, keys: { keys: [{ id: 'k1', key }] }, adapters: [acme] }),
    )
  })

  afterAll(async () => {
    await proxy.close()
    await upstream.close()
  })

  const clientRegistry = new AdapterRegistry([notes(true)])
  const note = (text: string) =>
    createEncryptedFetch({ keyId: 'k1', key, adapters: clientRegistry })(`${proxy.url}/acme/note`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', text }),
    })

  /** A request the proxy refuses before reading it when the adapter cannot load (answered in clear). */
  const unsealed = () =>
    fetch(`${proxy.url}/acme/note`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    })

  /**
   * Releases the pending load once `requests` more requests reached the proxy, so every request of
   * the burst is waiting on it: a second load would show.
   */
  async function releaseWhen(requests: number, since: number): Promise<void> {
    while (arrived - since < requests || loader.release.length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
    for (const release of loader.release.splice(0)) release()
  }

  const codeOf = async (response: Response) =>
    ((await response.json()) as { error: { code: string } }).error.code

  it('routes by the declared routes before loading: other paths stay the host app’s, and nothing loads', async () => {
    const other = await fetch(`${proxy.url}/acme/other`)
    expect(other.status).toBe(404)
    expect(await other.json()).toEqual({ host: 'app' })
    const wrongMethod = await fetch(`${proxy.url}/acme/note`)
    expect(wrongMethod.status).toBe(405)
    expect(loader.calls).toBe(0)
  })

  it('refuses the requests of a failed load without forwarding them, and loads again next time', async () => {
    loader.fail = true
    const since = arrived
    const pending = Promise.all([unsealed(), unsealed(), note('sealed')])
    await releaseWhen(3, since)
    const responses = await pending
    expect(responses.map((response) => response.status)).toEqual([500, 500, 500])
    expect(await codeOf(responses[0]!)).toBe('CONTINUUM_INTERNAL')
    // No key vouched for the request yet, so the refusal is in clear, and the client says so.
    expect(await codeOf(responses[2]!)).toBe('CONTINUUM_UNAUTHENTICATED_RESPONSE')
    expect(upstream.requests).toHaveLength(0)
    expect(loader.calls).toBe(1)
  })

  it('refuses a loaded adapter whose routes differ from the declared ones, and loads again next time', async () => {
    loader.wrongRoutes = true
    const since = arrived
    const pending = unsealed()
    await releaseWhen(1, since)
    const response = await pending
    expect(response.status).toBe(500)
    expect(await codeOf(response)).toBe('CONTINUUM_INVALID_OPTIONS')
    expect(upstream.requests).toHaveLength(0)
    expect(loader.calls).toBe(2)
  })

  it('loads once for a burst of first requests and serves every one of them', async () => {
    const before = loader.calls
    const since = arrived
    const burst = Promise.all([
      ...Array.from({ length: 20 }, (_, index) => note(`note ${index}`)),
      fetch(`${proxy.url}/acme/health`),
    ])
    await releaseWhen(21, since)
    const responses = await burst
    expect(loader.calls).toBe(before + 1)
    expect(responses.map((response) => response.status)).toEqual(responses.map(() => 200))
    expect(await responses[0]!.json()).toEqual({ id: 'note-1' })
    const texts = upstream.requests
      .filter((request) => request.method === 'POST')
      .map((request) => (request.json() as { text: string }).text)
    expect(texts.sort()).toEqual(Array.from({ length: 20 }, (_, index) => `note ${index}`).sort())
    // Loaded: later requests do not load again.
    expect((await note('later')).status).toBe(200)
    expect(loader.calls).toBe(before + 1)
  })

  it('refuses a definition without a loader, and summaries that cannot route', () => {
    expect(() => deferAdapter({ name: 'x', routes: [], load: undefined as never })).toThrow(
      /load must be a function/,
    )
    const bad = (routes: DeferredAdapter['routes']) =>
      new AdapterRegistry([deferAdapter({ name: 'x', routes, load: async () => notes(true) })])
    expect(() => bad([{ name: 'a', method: 'GET', path: 'relative', encrypted: false }])).toThrow(
      /must start with/,
    )
    expect(() =>
      bad([
        { name: 'a', method: 'GET', path: '/a', encrypted: false },
        { name: 'a', method: 'GET', path: '/b', encrypted: false },
      ]),
    ).toThrow(/declared twice/)
    expect(() => bad([{ name: 'a', method: 'GET', path: '/a', encrypted: 'yes' as never }])).toThrow(
      /true or false/,
    )
  })
})
