/**
 * Bounded, linear stream parsing on the proxy and the client alike, attacked on real sockets: a
 * malicious upstream (or a man in the middle) that sends `data:` lines forever without a blank
 * line gets a coded error after the event bound instead of growing memory; an upstream that stops
 * inside an event is reported as cut, and its half event is never sealed and relayed. Speed is
 * the benchmark's business (`npx tsx bench/run.ts streams`); here a 4 MiB line in 1 KiB chunks
 * must simply come out whole.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { builtinAdapters } from '../../adapters/index'
import { endMarker, sealEvent } from '../../src/cipher'
import { createFieldKey } from '../../src/cipher/field-key'
import { openStream } from '../../src/client/stream-opener'
import { AdapterRegistry } from '../../src/protocol/registry'
import { LineDecoder, NdjsonDecoder, SseDecoder } from '../../src/streams'
import { type RunningApp, rootFrameworks } from '../conformance/frameworks'
import { KEY, KEY_ID, openaiClient, SECRET, sharedKeys } from '../conformance/support'
import { FakeUpstream, type Reply } from '../kit/server'
import { clientContext } from '../support/client-context'

const MIB = 1024 * 1024

function codeOf(failure: unknown): unknown {
  const error = failure as { code?: unknown; cause?: { code?: unknown } } | undefined
  return error?.cause?.code ?? error?.code
}

function chunk(content: string): string {
  return `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`
}

/**
 * The malicious upstream: model `flood` sends data lines without a blank line (64 MiB on offer,
 * written with backpressure until the proxy hangs up), model `half` stops inside an event.
 */
function startRawUpstream(): Promise<FakeUpstream> {
  return FakeUpstream.start((request): Reply => {
    const headers = { 'content-type': 'text/event-stream' }
    if (request.json().model === 'half') {
      const half = 'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"half of a secr'
      return { kind: 'chunks', headers, chunks: [chunk('first '), half] }
    }
    const line = `data: ${'x'.repeat(64 * 1024 - 7)}\n`
    function* flood(): Generator<string> {
      yield chunk('first ')
      for (let written = 0; written < 64 * MIB; written += line.length) yield line
      yield '\n'
    }
    return { kind: 'chunks', headers, chunks: flood() }
  })
}

async function drain(
  client: ReturnType<typeof openaiClient>,
  model: string,
): Promise<{ text: string; failure: unknown }> {
  let text = ''
  try {
    const stream = await client.chat.completions.create({
      model,
      stream: true,
      messages: [{ role: 'user', content: SECRET }],
    })
    for await (const part of stream) text += part.choices[0]?.delta.content ?? ''
    return { text, failure: undefined }
  } catch (error) {
    return { text, failure: error }
  }
}

describe.each(rootFrameworks)('stream bounds via $name', (harness) => {
  let upstream: FakeUpstream
  let app: RunningApp

  beforeAll(async () => {
    upstream = await startRawUpstream()
    app = await harness.start({ upstream: upstream.url, keys: sharedKeys() })
  })

  afterAll(async () => {
    await app.close()
    await upstream.close()
  })

  it('ends a flood of data lines without a blank line with CONTINUUM_UPSTREAM_PROTOCOL_ERROR, and hangs up', async () => {
    const { text, failure } = await drain(openaiClient(app), 'flood')
    expect(text).toBe('first ')
    expect(codeOf(failure)).toBe('CONTINUUM_UPSTREAM_PROTOCOL_ERROR')
    // The proxy stopped reading near the 8 MiB event bound, far from the 64 MiB on offer, and hung up.
    const flood = upstream.requests.at(-1)!
    expect(flood.sent).toBeLessThan(24 * MIB)
    await expect.poll(() => flood.aborted).toBe(true)
  })

  it('never seals and relays the half event of an upstream that stops inside it: the cut is the error', async () => {
    const responses: string[] = []
    const recording = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const response = await globalThis.fetch(input, init)
      const body = await response.text()
      responses.push(body)
      return new Response(body, { status: response.status, headers: response.headers })
    }) as typeof fetch
    const { text, failure } = await drain(
      openaiClient(app, { keyId: KEY_ID, key: KEY, fetch: recording }),
      'half',
    )
    expect(text).toBe('first ')
    expect(codeOf(failure)).toBe('CONTINUUM_UPSTREAM_STREAM_ABORTED')
    // One sealed event (a batch frame holding it, for this client), then the sealed failure
    // marker: nothing else crossed the wire.
    expect(responses[0]!.match(/"continuum_seal"|"continuum_batch"/g)).toHaveLength(2)
  })
})

describe('stream bounds in the client', () => {
  const match = new AdapterRegistry(builtinAdapters()).lookup('POST', '/v1/chat/completions')
  if (match.kind !== 'match') throw new Error('no route')
  const stream = match.match.route.stream!
  const context = {
    key: createFieldKey(KEY_ID, KEY),
    nonce: 'oKGio6SlpqeoqaqrrK2urw',
    direction: 'response' as const,
  }
  const encoder = new TextEncoder()
  const sealed = `data: ${JSON.stringify(sealEvent(stream.tree, { id: 'c1', choices: [{ index: 0, delta: { content: 'hi' } }] }, context, 0, ''))}\n\n`
  const end = `event: continuum.end\ndata: ${JSON.stringify(endMarker(context, 1))}\n\n`

  async function open(source: AsyncIterable<Uint8Array>): Promise<{ text: string; failure: unknown }> {
    let text = ''
    try {
      for await (const part of openStream(source, stream, await clientContext(context)))
        text += new TextDecoder().decode(part)
      return { text, failure: undefined }
    } catch (error) {
      return { text, failure: error }
    }
  }

  it('refuses a man in the middle flooding data lines after a sealed event, having pulled little', async () => {
    let pulled = 0
    async function* flood(): AsyncGenerator<Uint8Array> {
      yield encoder.encode(sealed)
      const line = encoder.encode(`data: ${'y'.repeat(16 * 1024)}\n`)
      while (pulled < 200 * MIB) {
        pulled += line.length
        yield line
      }
    }
    const { text, failure } = await open(flood())
    expect(text).toContain('"content":"hi"')
    expect(codeOf(failure)).toBe('CONTINUUM_UPSTREAM_PROTOCOL_ERROR')
    expect(pulled).toBeLessThan(9 * MIB)
  })

  it('lets only one [DONE] follow the end marker; anything after it is refused', async () => {
    async function* wire(tail: string): AsyncGenerator<Uint8Array> {
      yield encoder.encode(sealed + end + tail)
    }
    expect((await open(wire('data: [DONE]\n\n'))).failure).toBeUndefined()
    for (const tail of [
      'data: [DONE]\n\ndata: ["INJECTED"]\n\n',
      'data: [DONE]\n\ndata: [DONE]\n\n',
      'data: 42\n\n',
    ]) {
      const { text, failure } = await open(wire(tail))
      expect(codeOf(failure)).toBe('CONTINUUM_RESPONSE_INTEGRITY_FAILED')
      expect(text).not.toContain('INJECTED')
    }
    // [DONE] without the end marker is a cut, not an end.
    expect(
      codeOf(
        (
          await open(
            (async function* () {
              yield encoder.encode(`${sealed}data: [DONE]\n\n`)
            })(),
          )
        ).failure,
      ),
    ).toBe('CONTINUUM_STREAM_TRUNCATED')
  })
})

describe('long lines', () => {
  it('decodes a 4 MiB line delivered in 1 KiB chunks whole (SSE, NDJSON and plain lines)', () => {
    const payload = 'z'.repeat(4 * MIB)
    const sse = utf8(`data: ${payload}\n\n`)
    const ndjson = utf8(`${JSON.stringify({ payload })}\n`)
    const sseDecoder = new SseDecoder()
    const ndjsonDecoder = new NdjsonDecoder()
    const lines = new LineDecoder()
    const events: string[] = []
    const values: unknown[] = []
    const split: string[] = []
    for (let offset = 0; offset < sse.length; offset += 1024) {
      for (const event of sseDecoder.push(sse.subarray(offset, offset + 1024))) events.push(event.data)
      split.push(...lines.push(sse.subarray(offset, offset + 1024)))
    }
    for (let offset = 0; offset < ndjson.length; offset += 1024)
      values.push(...ndjsonDecoder.push(ndjson.subarray(offset, offset + 1024)))
    expect(events).toEqual([payload])
    expect(values).toEqual([{ payload }])
    expect(split).toEqual([`data: ${payload}`, ''])
  })

  it('refuses a line over the bound with a code, wherever the chunks split it', () => {
    const decoder = new LineDecoder({ maxLineLength: 1000 })
    expect(() => decoder.push(utf8(`${'a'.repeat(1001)}\n`))).toThrow(
      expect.objectContaining({ code: 'CONTINUUM_UPSTREAM_PROTOCOL_ERROR' }),
    )
    const chunked = new LineDecoder({ maxLineLength: 1000 })
    chunked.push(utf8('a'.repeat(600)))
    expect(() => chunked.push(utf8('a'.repeat(600)))).toThrow(
      expect.objectContaining({ code: 'CONTINUUM_UPSTREAM_PROTOCOL_ERROR' }),
    )
  })

  it('refuses bytes that are not UTF-8 instead of replacing them', () => {
    const decoder = new SseDecoder()
    expect(() => decoder.push(new Uint8Array([0x64, 0x61, 0x74, 0x61, 0x3a, 0xff, 0x0a, 0x0a]))).toThrow(
      expect.objectContaining({ code: 'CONTINUUM_UPSTREAM_PROTOCOL_ERROR' }),
    )
  })
})

function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text)
}
