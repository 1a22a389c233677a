import type { ContinuumError } from 'continuum-proxy'
import { ProviderHttp, resolveCommonOptions } from 'continuum-proxy/provider-kit'
import { Agent } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsonReply } from '../kit/replies'
import { FakeUpstream } from '../kit/server'

describe('ProviderHttp', () => {
  let fake: FakeUpstream
  beforeAll(async () => {
    fake = await FakeUpstream.start(() => jsonReply({ ok: true }))
  })
  afterAll(async () => {
    await fake.close()
  })

  const get = () => ({ method: 'GET' as const, url: `${fake.url}/x`, headers: {} })

  it('refuses a JSON body over maxResponseBytes', async () => {
    const http = new ProviderHttp({ providerId: 'p', timeoutMs: 2000, maxResponseBytes: 64 })
    fake.queue(jsonReply({ padding: 'x'.repeat(200) }))
    const error = (await http.json(get()).catch((caught: unknown) => caught)) as ContinuumError
    expect(error.code).toBe('CONTINUUM_UPSTREAM_RESPONSE_TOO_LARGE')
    await http.close()
  })

  it('reads a JSON body that arrives in many chunks', async () => {
    const http = new ProviderHttp({ providerId: 'p', timeoutMs: 2000, maxResponseBytes: 4096 })
    const text = JSON.stringify({ padding: 'é'.repeat(300), ok: true })
    const bytes = Buffer.from(text)
    // Cut inside a two-byte character too: chunks are joined as bytes before decoding.
    const cuts = [0, 7, 301, 302, bytes.length]
    const chunks = cuts.slice(1).map((end, index) => bytes.subarray(cuts[index], end))
    fake.queue({ kind: 'chunks', headers: { 'content-type': 'application/json' }, chunks })
    expect((await http.json(get())).body).toEqual(JSON.parse(text))
    await http.close()
  })

  it('refuses a chunked JSON body once it grows past maxResponseBytes, and stops reading it', async () => {
    const http = new ProviderHttp({ providerId: 'p', timeoutMs: 2000, maxResponseBytes: 64 })
    fake.queue({ kind: 'chunks', chunks: ['{"padding":"', 'x'.repeat(100)], ending: 'hold' })
    const error = (await http.json(get()).catch((caught: unknown) => caught)) as ContinuumError
    expect(error.code).toBe('CONTINUUM_UPSTREAM_RESPONSE_TOO_LARGE')
    await http.close()
  })

  it('times out a JSON body that goes silent halfway', async () => {
    const http = new ProviderHttp({ providerId: 'p', timeoutMs: 150, maxResponseBytes: 1024 })
    fake.queue({ kind: 'chunks', chunks: ['{"ok":'], ending: 'hold' })
    const error = (await http.json(get()).catch((caught: unknown) => caught)) as ContinuumError
    expect(error.code).toBe('CONTINUUM_PROVIDER_TIMEOUT')
    await http.close()
  })

  it('maps a JSON body cut off by the server to a retryable ContinuumError', async () => {
    const http = new ProviderHttp({ providerId: 'p', timeoutMs: 2000, maxResponseBytes: 1024 })
    fake.queue({ kind: 'chunks', chunks: ['{"ok":'], ending: 'destroy' })
    const error = (await http.json(get()).catch((caught: unknown) => caught)) as ContinuumError
    expect(error.code).toBe('CONTINUUM_PROVIDER_UNAVAILABLE')
    expect(error.isRetryable).toBe(true)
    await http.close()
  })

  it('maps a 200 that is not JSON to CONTINUUM_UPSTREAM_PROTOCOL_ERROR without echoing it', async () => {
    const http = new ProviderHttp({ providerId: 'p', timeoutMs: 2000, maxResponseBytes: 1024 })
    fake.queue({ kind: 'body', body: '<html>secret page</html>' })
    const error = (await http.json(get()).catch((caught: unknown) => caught)) as ContinuumError
    expect(error.code).toBe('CONTINUUM_UPSTREAM_PROTOCOL_ERROR')
    expect(error.message).not.toContain('secret page')
    await http.close()
  })

  it('uses an injected dispatcher and leaves it open on close()', async () => {
    const dispatcher = new Agent()
    const http = new ProviderHttp({ providerId: 'p', timeoutMs: 2000, maxResponseBytes: 1024, dispatcher })
    expect((await http.json(get())).body).toEqual({ ok: true })
    await http.close()
    expect(dispatcher.closed).toBe(false)
    expect(
      (
        await new ProviderHttp({ providerId: 'q', timeoutMs: 2000, maxResponseBytes: 1024, dispatcher }).json(
          get(),
        )
      ).head.status,
    ).toBe(200)
    await dispatcher.close()
  })

  it('normalises header names and rejects non-string header values', () => {
    expect(resolveCommonOptions('f()', { headers: { 'X-Team': 'a' } }, 'f').headers).toEqual({
      'x-team': 'a',
    })
    expect(() => resolveCommonOptions('f()', { headers: { 'x-n': 1 as unknown as string } }, 'f')).toThrow(
      /headers/,
    )
  })
})
