/**
 * Expiry, byte bounds and counting, through the real Express middleware: the TTL follows an
 * injected clock, the byte bound evicts least recently used entries, an answer over
 * `maxEntryBytes` is relayed but not kept, and hits and misses reach the telemetry's
 * `cache_requests_total` (scraped from /metrics) and the `onResult` callback.
 */
import { Telemetry } from 'continuum-proxy/telemetry'
import { afterEach, describe, expect, it } from 'vitest'
import { replyFor } from '../kit/openai-echo'
import { type CacheApp, chatRequests, manualClock, recordedClient, startCacheApp } from './support'

let app: CacheApp | undefined

afterEach(async () => {
  await app?.close()
  app = undefined
})

async function ask(origin: string, prompt: string, apiKey?: string): Promise<string> {
  const client = recordedClient(origin, apiKey)
  const answer = await client.openai.chat.completions.create({
    model: 'llama-3-8b',
    messages: [{ role: 'user', content: prompt }],
  })
  expect(answer.choices[0]?.message.content).toBe(replyFor(prompt))
  return client.results[0] ?? 'none'
}

describe('cache bounds and metrics', () => {
  it('expires entries after ttlMs on the injected clock', async () => {
    const clock = manualClock()
    app = await startCacheApp({ ttlMs: 60_000, clock })
    expect(await ask(app.origin, 'ttl question')).toBe('miss')
    clock.advance(59_000)
    expect(await ask(app.origin, 'ttl question')).toBe('hit')
    clock.advance(1_001)
    expect(await ask(app.origin, 'ttl question')).toBe('miss')
    expect(await ask(app.origin, 'ttl question')).toBe('hit')
    expect(chatRequests(app.upstream)).toBe(2)
  })

  it('evicts the least recently used entries to stay within maxBytes', async () => {
    app = await startCacheApp({ maxBytes: 2_000, maxEntryBytes: 1_000 })
    await ask(app.origin, 'question number 0')
    const one = app.cache.bytes
    expect(one).toBeGreaterThan(300)
    for (let index = 1; index < 6; index++) await ask(app.origin, `question number ${index}`)
    expect(app.cache.bytes).toBeLessThanOrEqual(2_000)
    expect(app.cache.size).toBe(Math.floor(2_000 / one))
    // The newest is still there, the first one was evicted.
    expect(await ask(app.origin, 'question number 5')).toBe('hit')
    expect(await ask(app.origin, 'question number 0')).toBe('miss')
  })

  it('relays an answer over maxEntryBytes without keeping it', async () => {
    app = await startCacheApp({ maxEntryBytes: 64 })
    expect(await ask(app.origin, 'a question with a long answer')).toBe('miss')
    expect(await ask(app.origin, 'a question with a long answer')).toBe('miss')
    expect(app.cache.size).toBe(0)
  })

  it('counts hits and misses in cache_requests_total and through onResult', async () => {
    const seen: string[] = []
    app = await startCacheApp(
      { onResult: (result, route) => seen.push(`${result} ${route}`) },
      { stages: [new Telemetry()] },
    )
    await ask(app.origin, 'counted question')
    await ask(app.origin, 'counted question')
    await ask(app.origin, 'counted question')
    const client = recordedClient(app.origin)
    await client.openai.chat.completions.create(
      { model: 'llama-3-8b', messages: [{ role: 'user', content: 'not counted' }] },
      { headers: { 'cache-control': 'no-store' } },
    )
    const metrics = await (await fetch(`${app.origin}/metrics`)).text()
    expect(metrics).toMatch(/^cache_requests_total\{result="hit"\} 2$/m)
    expect(metrics).toMatch(/^cache_requests_total\{result="miss"\} 1$/m)
    expect(metrics).not.toContain('counted question')
    expect(seen).toEqual([
      'miss openai.chat-completions',
      'hit openai.chat-completions',
      'hit openai.chat-completions',
      'bypass openai.chat-completions',
    ])
  })

  it('leaves routes outside the list alone (no header, not counted)', async () => {
    const seen: string[] = []
    app = await startCacheApp({ routes: ['openai.embeddings'], onResult: (result) => seen.push(result) })
    expect(await ask(app.origin, 'chat is not cached here')).toBe('none')
    expect(await ask(app.origin, 'chat is not cached here')).toBe('none')
    expect(chatRequests(app.upstream)).toBe(2)
    const models = await fetch(`${app.origin}/v1/models`)
    expect(models.headers.get('x-continuum-cache')).toBeNull()
    expect(seen).toEqual([])
  })
})
