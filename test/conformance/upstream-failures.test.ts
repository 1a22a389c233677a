/**
 * Upstream failures: a stream cut mid-way or ended without `[DONE]` is
 * reported as an error (the SDK raises; raw SSE gets an `event: error` frame and no end marker),
 * never as a short answer that looks whole; refused connections and timeouts map to 502 and 504;
 * an upstream JSON error is relayed encrypted; a plain-text 500 is refused without echoing it.
 *
 * Per binding (six harnesses): a client that hangs up mid-upload, and one that hangs up while
 * waiting for the answer. Only the binding sees the socket go away; it must turn that into the
 * core's abort signal (so the upstream request is aborted) and into a client abort, not a 5xx.
 * Once, in process: everything the upstream does wrong (cut streams, missing terminal events,
 * half a JSON body, refused connections, timeouts, oversized answers, error bodies, plain-text
 * 500s) and how the core logs it. The core decodes the upstream and seals the failure markers;
 * the binding only relays the sealed bytes, as it does in every streamed scenario of openai-sdk.
 */
import { request as httpRequest } from 'node:http'
import { APIError, BadRequestError } from 'openai'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { startOpenAIUpstream } from '../kit/openai-echo'
import { closedPort, type FakeUpstream } from '../kit/server'
import { type FrameworkHarness, frameworks, type RunningApp } from './frameworks'
import { inProcess } from './in-process'
import {
  encryptRequest,
  expectRefusal,
  KEY,
  KEY_ID,
  keyEncodings,
  openaiClient,
  recordingFetch,
  recordingLogger,
  SECRET,
  secretChat,
  send,
  sharedKeys,
} from './support'

const CHAT = '/v1/chat/completions'

describe.each(frameworks)('client hang-ups via $name', (harness) => {
  let upstream: FakeUpstream
  let app: RunningApp
  const logs = recordingLogger()
  // Counts exchanges from the moment their route matched until they ended, however they ended.
  const exchanges = { started: 0, ended: 0 }
  let exchangesBefore = 0

  beforeAll(async () => {
    upstream = await startOpenAIUpstream()
    app = await harness.start({
      upstream: upstream.url,
      keys: sharedKeys(),
      logger: logs.logger,
      passThrough: ['/raw'],
      stages: [
        {
          name: 'observer',
          async wrapExchange(_exchange, next) {
            exchanges.started++
            try {
              return await next()
            } finally {
              exchanges.ended++
            }
          },
        },
      ],
    })
  })

  afterAll(async () => {
    await app.close()
    await upstream.close()
  })

  beforeEach(() => {
    exchangesBefore = exchanges.started
  })

  it('a client that hangs up mid-upload is not reported as an internal failure', async () => {
    const before = upstream.requests.length
    const linesBefore = logs.lines.length
    const outgoing = httpRequest(`${app.url}${CHAT}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': '5000' },
    })
    outgoing.on('error', () => undefined)
    outgoing.write(`{"model":"llama-3-8b","messages":[{"role":"user","content":"${SECRET}`)
    // Hang up once the proxy is reading the body, then wait for its exchange to finish.
    await vi.waitFor(() => expect(exchanges.started).toBe(exchangesBefore + 1))
    outgoing.destroy()
    await vi.waitFor(() => expect(exchanges.ended).toBe(exchangesBefore + 1))
    // The refusal is logged (or not) in the same turn the exchange ends; let that turn finish.
    await new Promise((resolve) => setImmediate(resolve))
    expect(logs.lines.slice(linesBefore)).toEqual([])
    expect(upstream.requests.length).toBe(before)
  })

  it('a client that hangs up mid pass-through upload aborts the upstream request, logging nothing', async () => {
    const before = upstream.requests.length
    const linesBefore = logs.lines.length
    const outgoing = httpRequest(`${app.url}/raw`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'content-length': '100000' },
    })
    outgoing.on('error', () => undefined)
    outgoing.write(Buffer.alloc(1000, 1))
    // Hang up once the upload reached the upstream, then wait for the proxy to give it up.
    await vi.waitFor(() => expect(upstream.requests.length).toBe(before + 1))
    outgoing.destroy()
    await vi.waitFor(() => expect(upstream.requests[before]!.aborted).toBe(true))
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(logs.lines.slice(linesBefore)).toEqual([])
  })

  it('a client that hangs up while waiting for the answer aborts the upstream request', async () => {
    const before = upstream.requests.length
    const built = encryptRequest(CHAT, secretChat({ model: 'slow-headers' }))
    const outgoing = httpRequest(`${app.url}${CHAT}`, { method: 'POST', headers: built.headers })
    outgoing.on('error', () => undefined)
    outgoing.end(JSON.stringify(built.body))
    await vi.waitFor(() => expect(upstream.requests[before]?.body).toContain('slow-headers'))
    outgoing.destroy()
    await vi.waitFor(() => expect(upstream.requests[before]?.aborted).toBe(true))
  })
})

describe('upstream failures in process', () => {
  const harness: FrameworkHarness = inProcess
  let upstream: FakeUpstream
  let app: RunningApp
  let refused: RunningApp
  let slow: RunningApp
  let small: RunningApp
  const logs = recordingLogger()

  beforeAll(async () => {
    upstream = await startOpenAIUpstream()
    const common = { keys: sharedKeys(), logger: logs.logger }
    app = await harness.start({ upstream: upstream.url, ...common })
    refused = await harness.start({ upstream: `http://127.0.0.1:${await closedPort()}`, ...common })
    slow = await harness.start({ upstream: { url: upstream.url, headersTimeoutMs: 300 }, ...common })
    small = await harness.start({ upstream: upstream.url, responseLimit: 200, ...common })
  })

  afterAll(async () => {
    await Promise.all([app.close(), refused.close(), slow.close(), small.close()])
    await upstream.close()
  })

  async function drain(model: string): Promise<{ text: string; error: unknown }> {
    const stream = await openaiClient(app).chat.completions.create({
      model,
      stream: true,
      messages: [{ role: 'user', content: SECRET }],
    })
    let text = ''
    try {
      for await (const part of stream) text += part.choices[0]?.delta.content ?? ''
    } catch (error) {
      return { text, error }
    }
    return { text, error: undefined }
  }

  async function rawStream(model: string): Promise<{ status: number; text: string }> {
    const built = encryptRequest(CHAT, secretChat({ model, stream: true }))
    const response = await send(app, 'POST', CHAT, { headers: built.headers, body: built.body })
    return { status: response.status, text: response.text }
  }

  it('a stream cut mid-way makes the SDK raise, after the part it did get', async () => {
    const { text, error } = await drain('cut-stream')
    expect(error).toMatchObject({ code: 'CONTINUUM_UPSTREAM_STREAM_ABORTED' })
    expect(text).toBe('echo: tell ')
  })

  it('a stream cut mid-way ends raw SSE with a sealed failure marker, never a clean end', async () => {
    const { status, text } = await rawStream('cut-stream')
    expect(status).toBe(200)
    expect(text).toMatch(
      /event: continuum\.end\ndata: \{"continuum_end":\{"events":\d+,"error":\{"code":"CONTINUUM_UPSTREAM_STREAM_ABORTED"/,
    )
    expect(text).toMatch(/"continuum_seal":"[\w-]{43}"\}\n\n$/)
    expect(text).not.toContain('[DONE]')
    expect(text).not.toContain('echo: tell')
  })

  it('a stream that ends without [DONE] makes the SDK raise', async () => {
    const { text, error } = await drain('no-done')
    expect(error).toMatchObject({ code: 'CONTINUUM_UPSTREAM_STREAM_ABORTED' })
    expect(text).toBe(`echo: ${SECRET}`)
  })

  it('a stream that ends without [DONE] ends raw SSE with a sealed failure marker, never a clean end', async () => {
    const { text } = await rawStream('no-done')
    expect(text).toContain('event: continuum.end\n')
    expect(text).toContain('"error":{"code":"CONTINUUM_UPSTREAM_STREAM_ABORTED"')
    expect(text).not.toContain('[DONE]')
    expect(text).not.toContain('launch code')
  })

  it('an upstream that hangs up halfway through a JSON answer: 502 CONTINUUM_UPSTREAM_UNAVAILABLE', async () => {
    const built = encryptRequest(CHAT, secretChat({ model: 'cut-json' }))
    const response = await send(app, 'POST', CHAT, { headers: built.headers, body: built.body })
    expectRefusal(response, 502, 'CONTINUUM_UPSTREAM_UNAVAILABLE', [SECRET, 'echo:'])
  })

  it('an unexpected failure is answered 500 CONTINUUM_INTERNAL and logged by code, without its message', async () => {
    const broken = await harness.start({
      upstream: upstream.url,
      keys: sharedKeys(),
      logger: logs.logger,
      stages: [
        {
          name: 'broken',
          wrapAccepted() {
            throw new TypeError(`cannot handle ${SECRET}`)
          },
        },
      ],
    })
    const linesBefore = logs.lines.length
    try {
      const built = encryptRequest(CHAT, secretChat())
      const response = await send(broken, 'POST', CHAT, { headers: built.headers, body: built.body })
      expectRefusal(response, 500, 'CONTINUUM_INTERNAL', [SECRET, 'cannot handle'])
    } finally {
      await broken.close()
    }
    const lines = logs.lines.slice(linesBefore).join('\n')
    expect(lines).toContain('CONTINUUM_INTERNAL')
    expect(lines).not.toContain('cannot handle')
  })

  // The Responses API has no [DONE]: the adapter's `isFinal` makes a stream whole only at response.completed.
  it('a Responses stream that ends before response.completed makes the SDK raise', async () => {
    const stream = await openaiClient(app).responses.create({
      model: 'no-done',
      input: SECRET,
      stream: true,
    })
    const types: string[] = []
    const failure = await (async () => {
      for await (const event of stream) types.push(event.type)
    })().catch((error: unknown) => error)
    expect(types).toContain('response.output_text.done')
    expect(types).not.toContain('response.completed')
    expect(failure).toMatchObject({ code: 'CONTINUUM_UPSTREAM_STREAM_ABORTED' })
  })

  it('a refused upstream connection: 502 CONTINUUM_UPSTREAM_UNAVAILABLE', async () => {
    const built = encryptRequest(CHAT, secretChat())
    const response = await send(refused, 'POST', CHAT, { headers: built.headers, body: built.body })
    expectRefusal(response, 502, 'CONTINUUM_UPSTREAM_UNAVAILABLE')
    const failure = await openaiClient(refused)
      .chat.completions.create({ model: 'llama-3-8b', messages: [{ role: 'user', content: SECRET }] })
      .catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(APIError)
    expect(failure).toMatchObject({ status: 502, code: 'CONTINUUM_UPSTREAM_UNAVAILABLE' })
  })

  it('an upstream slower than headersTimeoutMs: 504 CONTINUUM_UPSTREAM_TIMEOUT, upstream request aborted', async () => {
    const built = encryptRequest(CHAT, secretChat({ model: 'slow-headers' }))
    const response = await send(slow, 'POST', CHAT, { headers: built.headers, body: built.body })
    expectRefusal(response, 504, 'CONTINUUM_UPSTREAM_TIMEOUT')
    const recorded = upstream.requests.findLast((entry) => entry.body.includes('slow-headers'))
    await vi.waitFor(() => expect(recorded?.aborted).toBe(true))
  })

  it('a JSON answer over responseLimit: 502 CONTINUUM_UPSTREAM_RESPONSE_TOO_LARGE', async () => {
    const built = encryptRequest(CHAT, secretChat())
    const response = await send(small, 'POST', CHAT, { headers: built.headers, body: built.body })
    expectRefusal(response, 502, 'CONTINUUM_UPSTREAM_RESPONSE_TOO_LARGE', [SECRET, 'echo:'])
  })

  it('an upstream 400 JSON error is relayed encrypted and the SDK raises BadRequestError with it', async () => {
    const wire = recordingFetch(app.fetch)
    const client = openaiClient(app, { keyId: KEY_ID, key: KEY, fetch: wire.fetch })
    const failure = await client.chat.completions
      .create({ model: 'upstream-400', messages: [{ role: 'user', content: SECRET }] })
      .catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(BadRequestError)
    expect((failure as BadRequestError).message).toContain(`bad request about ${SECRET}`)
    expect((failure as BadRequestError).param).toBe('messages')
    expect(wire.responses[0]).toContain('"type":"invalid_request_error"')
    expect(wire.responses[0]).not.toContain('bad request about')
    expect(wire.responses[0]).not.toContain('launch code')
  })

  it('an upstream 400 JSON error to a streaming request is relayed encrypted and raised by the SDK', async () => {
    const failure = await openaiClient(app)
      .chat.completions.create({
        model: 'upstream-400',
        stream: true,
        messages: [{ role: 'user', content: SECRET }],
      })
      .catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(BadRequestError)
    expect((failure as BadRequestError).message).toContain(`bad request about ${SECRET}`)
  })

  it('an upstream plain-text 500 on an encrypted route: CONTINUUM_UPSTREAM_PROTOCOL_ERROR without its text', async () => {
    const built = encryptRequest(CHAT, secretChat({ model: 'text-500' }))
    const response = await send(app, 'POST', CHAT, { headers: built.headers, body: built.body })
    const error = expectRefusal(response, 502, 'CONTINUUM_UPSTREAM_PROTOCOL_ERROR', [
      SECRET,
      'Internal error while',
    ])
    expect(error.upstreamStatus).toBe(500)
  })

  it('logged the failures above without any content or key material', () => {
    expect(logs.lines.some((line) => line.includes('CONTINUUM_UPSTREAM_UNAVAILABLE'))).toBe(true)
    for (const line of logs.lines) {
      for (const secret of [SECRET, 'launch code', 'Internal error while', 'echo:', ...keyEncodings(KEY)]) {
        expect(line).not.toContain(secret)
      }
    }
  })
})
