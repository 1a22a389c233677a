/**
 * Single flight for cache misses, through the real Express middleware and official OpenAI clients
 * with encrypted fields. The attack: many identical cacheable requests sent at once all missed
 * and all went upstream, a thundering herd aimed at a slow provider. Now the first goes upstream
 * and the identical ones wait for its answer (served as hits, each sealed for its own client);
 * another tenant (another API key, another scope header) never shares the flight; the waiter cap
 * and the longest wait send the surplus upstream on their own; an aborting waiter leaves at once;
 * a leader that fails or is aborted hands nobody its error: one waiter goes upstream next and the
 * rest wait for it; `coalesce: false` restores one upstream call per request.
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { CacheStage, ResponseCache, type ResponseCacheOptions } from 'continuum-proxy/cache'
import { continuum } from 'continuum-proxy/express'
import express from 'express'
import { afterEach, describe, expect, it } from 'vitest'
import { buildOptions } from '../../cli/serve/option-map'
import { CACHE_OPTIONS } from '../../cli/serve/option-sources'
import { startOpenAIUpstream } from '../kit/openai-echo'
import { FakeUpstream } from '../kit/server'
import { KEY, KEY_ID, recordedClient } from './support'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** How the gated upstream answers one request once the gate opens. */
type Mode = 'ok' | 'fail' | 'hang'

interface GatedApp {
  origin: string
  /** Requests that reached the upstream. */
  calls(): number
  /** Lets every held request (and every later one) be answered. */
  open(): void
  /** The modes of the next requests, in order; then `ok`. */
  plan: Mode[]
  results: string[]
  cache: ResponseCache
  close(): Promise<void>
}

const running: GatedApp[] = []

afterEach(async () => {
  await Promise.all(running.splice(0).map((app) => app.close()))
})

/** The echo upstream behind a gate, and the proxy with a cache in front of it. */
async function startGatedApp(options: ResponseCacheOptions = {}): Promise<GatedApp> {
  const echo = await startOpenAIUpstream()
  let release!: () => void
  const gate = new Promise<void>((resolve) => (release = resolve))
  const plan: Mode[] = []
  let calls = 0
  const upstream = await FakeUpstream.start(async (request) => {
    calls += 1
    const mode = plan.shift() ?? 'ok'
    if (mode === 'hang') return { kind: 'hang' }
    await gate
    if (mode === 'fail') {
      return {
        kind: 'body',
        status: 503,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ error: { message: 'overloaded', type: 'server_error' } }),
      }
    }
    const answer = await fetch(`${echo.url}${request.url}`, {
      method: request.method,
      headers: { 'content-type': 'application/json' },
      body: request.body,
    })
    return {
      kind: 'body',
      status: answer.status,
      headers: { 'content-type': answer.headers.get('content-type') ?? 'application/json' },
      body: await answer.text(),
    }
  })
  const results: string[] = []
  const cache = new ResponseCache({ ...options, onResult: (result) => results.push(result) })
  const app = express().use(
    continuum({
      upstream: upstream.url,
      keys: { keys: [{ id: KEY_ID, key: KEY }] },
      stages: [new CacheStage(cache)],
    }),
  )
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening))
  })
  const running_: GatedApp = {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls: () => calls,
    open: () => release(),
    plan,
    results,
    cache,
    async close() {
      release()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await Promise.all([upstream.close(), echo.close()])
    },
  }
  running.push(running_)
  return running_
}

const question = (content = 'What is the boiling point of water at sea level?') => ({
  model: 'llama',
  temperature: 0,
  messages: [{ role: 'user' as const, content }],
})

/** Sends `count` identical questions from `client` at once; resolves their answers' texts or error names. */
function ask(
  client: ReturnType<typeof recordedClient>,
  count: number,
  body = question(),
  signal?: AbortSignal,
): Promise<string>[] {
  return Array.from({ length: count }, () =>
    client.openai.chat.completions.create(body, signal === undefined ? {} : { signal }).then(
      (completion) => completion.choices[0]!.message.content ?? '',
      (error: Error) => error.constructor.name,
    ),
  )
}

/** Waits until the first request is upstream and the others have had time to arrive. */
async function settled(app: GatedApp, upstreamCalls = 1): Promise<void> {
  await expect.poll(() => app.calls(), { interval: 10, timeout: 5_000 }).toBe(upstreamCalls)
  await sleep(200)
}

describe('single flight for identical misses', () => {
  it('sends N identical concurrent requests upstream once, and serves the others its answer', async () => {
    const app = await startGatedApp()
    const client = recordedClient(app.origin)
    const answers = ask(client, 10)
    await settled(app)
    app.open()
    const texts = await Promise.all(answers)
    expect(app.calls()).toBe(1)
    expect(new Set(texts)).toEqual(new Set([`echo: ${question().messages[0]!.content}`]))
    expect(app.results.filter((result) => result === 'miss')).toHaveLength(1)
    expect(app.results.filter((result) => result === 'hit')).toHaveLength(9)
    // Each client got its own sealed copy: no two encrypted answers on the wire are equal.
    await client.settled()
    expect(new Set(client.responses).size).toBe(10)
  })

  it('coalesces identical streams too, each client receiving the whole stream', async () => {
    const app = await startGatedApp()
    const client = recordedClient(app.origin)
    const streams = Array.from({ length: 5 }, async () => {
      const stream = await client.openai.chat.completions.create({ ...question(), stream: true })
      let text = ''
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? ''
      return text
    })
    await settled(app)
    app.open()
    const texts = await Promise.all(streams)
    expect(app.calls()).toBe(1)
    expect(new Set(texts).size).toBe(1)
    expect(texts[0]).toContain('echo:')
  })

  it('never lets another tenant share a flight: other API keys and other scope headers go upstream', async () => {
    const app = await startGatedApp({ scopeHeaders: ['x-tenant-id'] })
    const tenantA = recordedClient(app.origin, 'sk-tenant-a')
    const tenantB = recordedClient(app.origin, 'sk-tenant-b')
    const answers = [...ask(tenantA, 4), ...ask(tenantB, 4)]
    await settled(app, 2)
    app.open()
    await Promise.all(answers)
    expect(app.calls()).toBe(2)
    // The same key, but another tenant named by the scope header.
    const before = app.calls()
    const { default: OpenAI } = await import('openai')
    const { createEncryptedFetch } = await import('continuum-proxy/client')
    const withTenant = (tenant: string) =>
      new OpenAI({
        baseURL: `${app.origin}/v1`,
        apiKey: 'sk-shared',
        maxRetries: 0,
        defaultHeaders: { 'x-tenant-id': tenant },
        fetch: createEncryptedFetch({ keyId: KEY_ID, key: KEY }),
      })
    const other = question('A question both tenants ask')
    await Promise.all(['north', 'south'].map((tenant) => withTenant(tenant).chat.completions.create(other)))
    expect(app.calls() - before).toBe(2)
  })

  it('caps the waiters of one flight: the surplus goes upstream on its own', async () => {
    const app = await startGatedApp({ coalesce: { maxWaiters: 3 } })
    const client = recordedClient(app.origin)
    const answers = ask(client, 8)
    // One leader, three waiters, four on their own.
    await settled(app, 5)
    app.open()
    const texts = await Promise.all(answers)
    expect(app.calls()).toBe(5)
    expect(new Set(texts).size).toBe(1)
  })

  it('lets a waiter go upstream on its own after maxWaitMs', async () => {
    const app = await startGatedApp({ coalesce: { maxWaitMs: 100 } })
    const client = recordedClient(app.origin)
    const answers = ask(client, 4)
    await expect.poll(() => app.calls(), { interval: 10 }).toBe(4)
    app.open()
    await Promise.all(answers)
  })

  it('honours a waiter abort at once, and frees its place', async () => {
    const app = await startGatedApp({ coalesce: { maxWaiters: 2 } })
    const client = recordedClient(app.origin)
    const leader = ask(client, 1)
    await settled(app)
    const controller = new AbortController()
    const leaving = ask(client, 1, question(), controller.signal)
    const staying = ask(client, 1)
    await sleep(100)
    const started = performance.now()
    controller.abort()
    expect(await leaving[0]).toBe('APIUserAbortError')
    expect(performance.now() - started).toBeLessThan(200)
    // The aborted waiter's place is free again: one more joins instead of going upstream.
    await sleep(50)
    const joining = ask(client, 1)
    await sleep(100)
    expect(app.calls()).toBe(1)
    app.open()
    const texts = await Promise.all([...leader, ...staying, ...joining])
    expect(new Set(texts).size).toBe(1)
    expect(app.calls()).toBe(1)
  })

  it('hands nobody a failed leader’s error: one waiter goes upstream next, the rest wait for it', async () => {
    const app = await startGatedApp()
    app.plan.push('fail')
    const client = recordedClient(app.origin)
    const answers = ask(client, 6)
    await settled(app)
    app.open()
    const outcomes = await Promise.all(answers)
    // The leader's client sees its own 503; every waiter was answered by the second leader.
    expect(outcomes.filter((outcome) => outcome === 'InternalServerError')).toHaveLength(1)
    expect(outcomes.filter((outcome) => outcome.startsWith('echo:'))).toHaveLength(5)
    expect(app.calls()).toBe(2)
  })

  it('does not set the herd loose when the leader is aborted on purpose', async () => {
    const app = await startGatedApp()
    app.plan.push('hang')
    const client = recordedClient(app.origin)
    const controller = new AbortController()
    const leader = ask(client, 1, question(), controller.signal)
    await settled(app)
    const waiters = ask(client, 8)
    await sleep(150)
    controller.abort()
    expect(await leader[0]).toBe('APIUserAbortError')
    // One waiter took over as leader; the other seven wait for it.
    await settled(app, 2)
    app.open()
    const texts = await Promise.all(waiters)
    expect(new Set(texts).size).toBe(1)
    expect(texts[0]).toContain('echo:')
    expect(app.calls()).toBe(2)
  })

  // The attack: a JSON answer too large to keep was still handed to every waiter (a copy each), so
  // one large answer was multiplied by the waiters in memory and served as a hit though the cache
  // refused to keep it. Like an oversized stream, it now sends each waiter upstream on its own.
  it('shares no answer too large to keep: each waiter goes upstream on its own, JSON or stream', async () => {
    for (const stream of [false, true]) {
      const app = await startGatedApp({ maxEntryBytes: 64 })
      const client = recordedClient(app.origin)
      const answers = Array.from({ length: 4 }, async () => {
        if (!stream)
          return (await client.openai.chat.completions.create(question())).choices[0]!.message.content
        let text = ''
        const events = await client.openai.chat.completions.create({ ...question(), stream: true })
        for await (const chunk of events) text += chunk.choices[0]?.delta?.content ?? ''
        return text
      })
      await settled(app)
      app.open()
      const texts = await Promise.all(answers)
      expect(new Set(texts).size).toBe(1)
      expect(texts[0]).toContain('echo:')
      expect(app.calls()).toBe(4)
      expect(app.results).not.toContain('hit')
      expect(app.cache.size).toBe(0)
    }
  })

  it('sends every request upstream with coalesce: false', async () => {
    const app = await startGatedApp({ coalesce: false })
    const client = recordedClient(app.origin)
    const answers = ask(client, 4)
    await settled(app, 4)
    app.open()
    await Promise.all(answers)
    expect(app.calls()).toBe(4)
  })

  it('validates the option at construction', () => {
    for (const coalesce of [{ maxWaiters: 0 }, { maxWaitMs: -1 }, { maxWaiters: 1.5 }, 'yes']) {
      expect(() => new ResponseCache({ coalesce: coalesce as never })).toThrow(
        expect.objectContaining({ code: 'CONTINUUM_INVALID_OPTIONS' }),
      )
    }
  })
})

describe('the serve configuration', () => {
  const build = (cache: Record<string, unknown>) =>
    buildOptions(CACHE_OPTIONS, { cache }, { logger: undefined as never, store: undefined }).coalesce

  it('reads cache.coalesce, cache.coalesce_max_waiters and cache.coalesce_max_wait_ms', () => {
    expect(build({})).toBeUndefined()
    expect(build({ coalesce: true })).toBeUndefined()
    expect(build({ coalesce: false, coalesce_max_waiters: 5 })).toBe(false)
    expect(build({ coalesce_max_waiters: 5 })).toEqual({ maxWaiters: 5 })
    expect(build({ coalesce_max_waiters: 5, coalesce_max_wait_ms: 2_000 })).toEqual({
      maxWaiters: 5,
      maxWaitMs: 2_000,
    })
  })
})
