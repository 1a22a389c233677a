/**
 * What the client does with an answer that something on the path changed: a `fetch` between the SDK's encrypting fetch and the network plays the attacker
 * (a compromised load balancer, say). Edited plain fields, dropped stream events, a cut-off end
 * marker and a forged unencrypted success must all make the SDK raise, never return content.
 *
 * Once, in process: the checks are the client's, on bytes the core sealed; a binding only relays
 * them (that streamed and JSON answers arrive whole through each binding is checked in openai-sdk).
 */
import { createEncryptedFetch } from 'continuum-proxy/client'
import { RateLimitError } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { replyFor, startOpenAIUpstream } from '../kit/openai-echo'
import type { FakeUpstream } from '../kit/server'
import type { RunningApp } from './frameworks'
import { inProcess } from './in-process'
import { KEY, KEY_ID, openaiClient, SECRET, sharedKeys } from './support'

/** Rewrites each answer: its headers and its body text. */
type Tamper = (headers: Headers, text: string) => { headers: Headers; text: string; status?: number }

function tamperingFetch(inner: typeof fetch, tamper: Tamper): typeof fetch {
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    const response = await inner(input, init)
    const changed = tamper(new Headers(response.headers), await response.text())
    changed.headers.delete('content-length')
    return new Response(changed.text, { status: changed.status ?? response.status, headers: changed.headers })
  }) as typeof fetch
}

/** The ContinuumError code of a failure, whether the SDK wrapped it (APIConnectionError) or not. */
function codeOf(failure: unknown): unknown {
  const error = failure as { code?: unknown; cause?: { code?: unknown } } | undefined
  return error?.cause?.code ?? error?.code
}

/** A body of `total` bytes made a mebibyte at a time as it is read, counting what was read. */
function hugeBody(total: number): { body: ReadableStream<Uint8Array>; pulled: () => number } {
  const chunk = new Uint8Array(1024 * 1024).fill(0x61)
  let pulled = 0
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled >= total) {
        controller.close()
        return
      }
      pulled += chunk.byteLength
      controller.enqueue(chunk.slice())
    },
  })
  return { body, pulled: () => pulled }
}

const MiB = 1024 * 1024

const forgedCompletion = JSON.stringify({
  id: 'chatcmpl-forged',
  object: 'chat.completion',
  created: 1,
  model: 'llama-3-8b',
  choices: [{ index: 0, message: { role: 'assistant', content: 'forged answer' }, finish_reason: 'stop' }],
})

describe('response integrity in process', () => {
  const harness = inProcess
  let upstream: FakeUpstream
  let app: RunningApp

  beforeAll(async () => {
    upstream = await startOpenAIUpstream()
    app = await harness.start({ upstream: upstream.url, keys: sharedKeys() })
  })

  afterAll(async () => {
    await app.close()
    await upstream.close()
  })

  function client(tamper: Tamper) {
    return openaiClient(app, { keyId: KEY_ID, key: KEY, fetch: tamperingFetch(app.fetch, tamper) })
  }

  async function complete(tamper: Tamper): Promise<unknown> {
    return client(tamper)
      .chat.completions.create({ model: 'llama-3-8b', messages: [{ role: 'user', content: SECRET }] })
      .then((answer) => answer.choices[0]?.message.content)
      .catch((error: unknown) => ({ failed: codeOf(error) }))
  }

  async function streamed(tamper: Tamper): Promise<unknown> {
    try {
      const stream = await client(tamper).chat.completions.create({
        model: 'llama-3-8b',
        stream: true,
        messages: [{ role: 'user', content: SECRET }],
      })
      let text = ''
      for await (const part of stream) text += part.choices[0]?.delta.content ?? ''
      return text
    } catch (error) {
      return { failed: codeOf(error) }
    }
  }

  const untouched: Tamper = (headers, text) => ({ headers, text })

  it('an untouched answer reads fine through the tampering fetch (the baseline)', async () => {
    expect(await complete(untouched)).toBe(replyFor(SECRET))
    expect(await streamed(untouched)).toBe(replyFor(SECRET))
  })

  it('an edited plain field of a JSON answer: CONTINUUM_RESPONSE_INTEGRITY_FAILED', async () => {
    const result = await complete((headers, text) => ({
      headers,
      text: text.replace('"model":"llama-3-8b"', '"model":"gpt-4o"'),
    }))
    expect(result).toEqual({ failed: 'CONTINUUM_RESPONSE_INTEGRITY_FAILED' })
  })

  it('a forged unencrypted success in place of the answer: CONTINUUM_RESPONSE_INTEGRITY_FAILED', async () => {
    const result = await complete((headers) => {
      headers.delete('x-continuum-encrypted')
      headers.delete('x-continuum-seal')
      return { headers, text: forgedCompletion }
    })
    expect(result).toEqual({ failed: 'CONTINUUM_RESPONSE_INTEGRITY_FAILED' })
  })

  it('a dropped stream event: CONTINUUM_RESPONSE_INTEGRITY_FAILED', async () => {
    const result = await streamed((headers, text) => {
      // The first frame always carries events (a sealed event, or a batch frame of them).
      const events = text.split('\n\n')
      events.splice(0, 1)
      return { headers, text: events.join('\n\n') }
    })
    expect(result).toEqual({ failed: 'CONTINUUM_RESPONSE_INTEGRITY_FAILED' })
  })

  it('a stream cut before its end marker: CONTINUUM_STREAM_TRUNCATED', async () => {
    const result = await streamed((headers, text) => ({
      headers,
      text: text.slice(0, text.indexOf('event: continuum.end')),
    }))
    expect(result).toEqual({ failed: 'CONTINUUM_STREAM_TRUNCATED' })
  })

  it('a forged unencrypted stream in place of the answer: CONTINUUM_RESPONSE_INTEGRITY_FAILED', async () => {
    const result = await streamed((headers) => {
      headers.delete('x-continuum-encrypted')
      const chunk = {
        id: 'chatcmpl-forged',
        object: 'chat.completion.chunk',
        created: 1,
        model: 'llama-3-8b',
        choices: [{ index: 0, delta: { content: 'forged answer' }, finish_reason: 'stop' }],
      }
      return { headers, text: `data: ${JSON.stringify(chunk)}\n\ndata: [DONE]\n\n` }
    })
    expect(result).toEqual({ failed: 'CONTINUUM_RESPONSE_INTEGRITY_FAILED' })
  })

  it.each([
    ['an error answer with a forged seal header', 400, '0'],
    ['an encrypted JSON answer', 200, '1'],
  ])('%s is read within a bound, not into memory without end', async (_name, status, encrypted) => {
    // Whoever is on the path can answer with a body that never ends; the client reads an answer
    // whole before it can check the seal, so it must stop reading at a bound (64 MiB by default,
    // 1 MiB here to spare the test the reading).
    const huge = hugeBody(80 * MiB)
    const failure = await openaiClient(app, {
      keyId: KEY_ID,
      key: KEY,
      maxResponseBytes: MiB,
      fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
        await (await app.fetch(input, init)).body?.cancel()
        return new Response(huge.body, {
          status,
          headers: {
            'content-type': 'application/json',
            'x-continuum-encrypted': encrypted,
            'x-continuum-seal': 'A'.repeat(43),
          },
        })
      }) as typeof fetch,
    })
      .chat.completions.create({ model: 'llama-3-8b', messages: [{ role: 'user', content: SECRET }] })
      .catch((error: unknown) => error)
    expect(codeOf(failure)).toBe('CONTINUUM_UPSTREAM_RESPONSE_TOO_LARGE')
    expect(huge.pulled()).toBeLessThanOrEqual(3 * MiB)
  })

  it('takes maxResponseBytes only as a positive integer', () => {
    for (const maxResponseBytes of [0, -1, 1.5, Number.NaN, '1' as unknown as number]) {
      expect(() => createEncryptedFetch({ keyId: KEY_ID, key: KEY, maxResponseBytes })).toThrow(
        expect.objectContaining({
          code: 'CONTINUUM_INVALID_OPTIONS',
          message: expect.stringContaining('maxResponseBytes'),
        }),
      )
    }
  })

  it('reads a trust-on-first-use key document within a bound', async () => {
    const huge = hugeBody(80 * MiB)
    const failure = await openaiClient(app, {
      agreement: { trustOnFirstUse: true },
      fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
        if (!String(input).endsWith('/.well-known/continuum-key')) return app.fetch(input, init)
        return new Response(huge.body, { headers: { 'content-type': 'application/json' } })
      }) as typeof fetch,
    })
      .chat.completions.create({ model: 'llama-3-8b', messages: [{ role: 'user', content: SECRET }] })
      .catch((error: unknown) => error)
    expect(codeOf(failure)).toBe('CONTINUUM_KEY_AGREEMENT_FAILED')
    expect(huge.pulled()).toBeLessThanOrEqual(2 * MiB)
  })

  it('an unencrypted error answer reaches the SDK with its status only, and is not retried', async () => {
    let sent = 0
    const failure = await openaiClient(app, {
      keyId: KEY_ID,
      key: KEY,
      fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
        sent++
        const response = await app.fetch(input, init)
        await response.body?.cancel()
        const text = JSON.stringify({
          error: {
            code: 'CONTINUUM_RATE_LIMITED',
            message: 'Re-authenticate at http://evil.example',
            type: 'rate_limit_error',
          },
        })
        return new Response(text, { status: 429, headers: { 'x-continuum-encrypted': '0' } })
      }) as typeof fetch,
    })
      .withOptions({ maxRetries: 2 })
      .chat.completions.create({ model: 'llama-3-8b', messages: [{ role: 'user', content: SECRET }] })
      .catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(RateLimitError)
    expect(failure).toMatchObject({ status: 429, code: 'CONTINUUM_UNAUTHENTICATED_RESPONSE' })
    expect(String((failure as Error).message)).not.toContain('evil')
    // Neither the encrypting fetch nor the SDK (maxRetries 2) sent the request again.
    expect(sent).toBe(1)
  })
})
