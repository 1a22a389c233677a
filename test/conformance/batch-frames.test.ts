/**
 * Batch frames (docs/PROTOCOL.md §6.1) under attack, through every framework at the root: the
 * SDK's encrypting fetch asks for them, an upstream streams its chunks in separate reads so each
 * becomes its own frame, and a `fetch` between the client and the network plays the relay that
 * reorders, repeats, drops, edits or transplants frames. Each must make the SDK raise
 * CONTINUUM_RESPONSE_INTEGRITY_FAILED, never hand over a short or altered answer; a relay that
 * strips the request's batch header only gets per-event seals, and a client that did not ask
 * refuses frames.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createEncryptedFetch } from 'continuum-proxy/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { builtinAdapters } from '../../adapters/index'
import { endMarker, sealBatch } from '../../src/cipher'
import { createFieldKey } from '../../src/cipher/field-key'
import { HEADERS } from '../../src/cipher/format'
import { openStream } from '../../src/client/stream-opener'
import { AdapterRegistry } from '../../src/protocol/registry'
import { clientContext } from '../support/client-context'
import { type RunningApp, rootFrameworks } from './frameworks'
import { KEY, KEY_ID, openaiClient, SECRET, sharedKeys } from './support'

const WORDS = ['The ', 'answer ', 'stays ', 'between ', 'us.']
const REPLY = WORDS.join('')

function chunk(delta: Record<string, unknown>, finish: string | null): string {
  const body = {
    id: 'chatcmpl-b',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'm',
    choices: [] as unknown[],
  }
  body.choices.push({ index: 0, delta, finish_reason: finish })
  return `data: ${JSON.stringify(body)}\n\n`
}

/** Who waits for the client to receive its next SSE frame (the slow upstream, below). */
const frameWaiters: (() => void)[] = []

/** Resolves once the client has received another SSE frame, or after a second without one. */
function nextFrameOrSecond(): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 1000)
    frameWaiters.push(() => {
      clearTimeout(timer)
      resolve()
    })
  })
}

/**
 * An OpenAI-style upstream writing each chunk only once the client has received the frame of the
 * one before, so the proxy reads them one at a time however loaded the machine is (a fixed pause
 * let a stalled proxy read several at once and write fewer frames). A request that yields no frame
 * (refused before the stream) moves on after a second a chunk.
 */
async function startSlowUpstream(): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    request.resume()
    request.on('end', async () => {
      response.writeHead(200, { 'content-type': 'text/event-stream' })
      for (const word of WORDS) {
        const received = nextFrameOrSecond()
        response.write(chunk({ content: word }, null))
        await received
      }
      response.end(`${chunk({}, 'stop')}data: [DONE]\n\n`)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

/** The SSE frames of a wire text, each without its blank line. */
function framesOf(text: string): string[] {
  return text.split('\n\n').filter((frame) => frame !== '')
}

/** A response's whole text, waking the upstream's waiters each time another SSE frame completes. */
async function readCountingFrames(response: Response): Promise<string> {
  const decoder = new TextDecoder()
  let text = ''
  let frames = 0
  for await (const piece of response.body ?? []) {
    text += decoder.decode(piece, { stream: true })
    const complete = text.split('\n\n').length - 1
    if (complete > frames) {
      frames = complete
      for (const wake of frameWaiters.splice(0)) wake()
    }
  }
  return text + decoder.decode()
}

function joinFrames(frames: string[]): string {
  return frames.map((frame) => `${frame}\n\n`).join('')
}

const isBatch = (frame: string): boolean => frame.startsWith('event: continuum.batch\n')

/** Indices of the batch frames among a stream's frames. */
function batchIndices(frames: string[]): number[] {
  return frames.flatMap((frame, index) => (isBatch(frame) ? [index] : []))
}

type Tamper = (frames: string[]) => string[]

function codeOf(failure: unknown): unknown {
  const error = failure as { code?: unknown; cause?: { code?: unknown } } | undefined
  return error?.cause?.code ?? error?.code
}

describe.each(rootFrameworks)('batch frames via $name', (harness) => {
  let upstream: Awaited<ReturnType<typeof startSlowUpstream>>
  let app: RunningApp
  /** The wire text of every answer, as received before any tampering. */
  const wire: string[] = []

  beforeAll(async () => {
    upstream = await startSlowUpstream()
    app = await harness.start({ upstream: upstream.url, keys: sharedKeys() })
  })

  afterAll(async () => {
    await app.close()
    await upstream.close()
  })

  async function streamed(
    tamper: Tamper,
    request: (headers: Headers) => void = () => {},
    streamBatches = true,
  ): Promise<string | { failed: unknown }> {
    const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const headers = new Headers(init?.headers)
      request(headers)
      const response = await globalThis.fetch(input, { ...init, headers })
      const text = await readCountingFrames(response)
      wire.push(text)
      const changed = new Headers(response.headers)
      changed.delete('content-length')
      return new Response(joinFrames(tamper(framesOf(text))), { status: response.status, headers: changed })
    }) as typeof fetch
    try {
      const stream = await openaiClient(app.url, {
        keyId: KEY_ID,
        key: KEY,
        fetch: fetcher,
        streamBatches,
      }).chat.completions.create({
        model: 'm',
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

  const failed = { failed: 'CONTINUUM_RESPONSE_INTEGRITY_FAILED' }

  it('an untouched stream arrives whole as several batch frames, with nothing readable on the wire', async () => {
    expect(await streamed((frames) => frames)).toBe(REPLY)
    const frames = framesOf(wire.at(-1)!)
    expect(batchIndices(frames).length).toBeGreaterThanOrEqual(3)
    expect(frames.some((frame) => frame.includes('continuum_seal') && !frame.includes('continuum_end'))).toBe(
      false,
    )
    // Each word as the upstream sent it, with its space or full stop: base64url has neither, so a
    // ciphertext cannot hold one by chance (a bare "The" turned up in one about once in 200 runs).
    for (const word of WORDS) expect(wire.at(-1)).not.toContain(word)
  })

  it('two frames swapped', async () => {
    const result = await streamed((frames) => {
      const [a, b] = batchIndices(frames)
      ;[frames[a!], frames[b!]] = [frames[b!]!, frames[a!]!]
      return frames
    })
    expect(result).toEqual(failed)
  })

  it('a frame repeated (replayed in place)', async () => {
    const result = await streamed((frames) => {
      const [a] = batchIndices(frames)
      frames.splice(a! + 1, 0, frames[a!]!)
      return frames
    })
    expect(result).toEqual(failed)
  })

  it('a middle frame dropped', async () => {
    const result = await streamed((frames) => {
      frames.splice(batchIndices(frames)[1]!, 1)
      return frames
    })
    expect(result).toEqual(failed)
  })

  it('a header that claims a different event count, or another first sequence number', async () => {
    const recount = await streamed((frames) => {
      const last = batchIndices(frames).at(-1)!
      frames[last] = frames[last]!.replace(/"events":(\d+)/, (_, count) => `"events":${Number(count) + 1}`)
      return frames
    })
    expect(recount).toEqual(failed)
    const renumber = await streamed((frames) => {
      // Both header numbers moved together keep the count consistent; the ciphertext still binds them.
      const second = batchIndices(frames)[1]!
      frames[second] = frames[second]!.replace(/"first":(\d+)/, (_, first) => `"first":${Number(first) + 1}`)
      return frames
    })
    expect(renumber).toEqual(failed)
  })

  it('a frame of another stream in the same place', async () => {
    expect(await streamed((frames) => frames)).toBe(REPLY)
    const other = framesOf(wire.at(-1)!)
    const result = await streamed((frames) => {
      const second = batchIndices(frames)[1]!
      frames[second] = other[batchIndices(other)[1]!]!
      return frames
    })
    expect(result).toEqual(failed)
  })

  it('a flipped ciphertext character, an extra member, or a frame after the end marker', async () => {
    const flipped = await streamed((frames) => {
      const first = batchIndices(frames)[0]!
      frames[first] = frames[first]!.replace(
        /(cp2\.[^.]+\.)(.)/,
        (_, prefix, char) => prefix + (char === 'A' ? 'B' : 'A'),
      )
      return frames
    })
    expect(flipped).toEqual(failed)
    const extra = await streamed((frames) => {
      const first = batchIndices(frames)[0]!
      frames[first] = frames[first]!.replace('{"continuum_batch"', '{"note":"x","continuum_batch"')
      return frames
    })
    expect(extra).toEqual(failed)
    const late = await streamed((frames) => {
      const end = frames.findIndex((frame) => frame.startsWith('event: continuum.end\n'))
      frames.splice(end + 1, 0, frames[batchIndices(frames)[0]!]!)
      return frames
    })
    expect(late).toEqual(failed)
  })

  it('a client created with streamBatches: false gets a seal per event', async () => {
    expect(await streamed((frames) => frames, undefined, false)).toBe(REPLY)
    const frames = framesOf(wire.at(-1)!)
    expect(batchIndices(frames)).toEqual([])
    expect(frames.filter((frame) => frame.includes('continuum_seal')).length).toBeGreaterThanOrEqual(
      WORDS.length,
    )
  })

  it('a relay that strips the batch header gets per-event seals, and the answer is whole', async () => {
    const result = await streamed(
      (frames) => frames,
      (headers) => headers.delete(HEADERS.batch),
    )
    expect(result).toBe(REPLY)
    const frames = framesOf(wire.at(-1)!)
    expect(batchIndices(frames)).toEqual([])
    expect(frames.filter((frame) => frame.includes('continuum_seal')).length).toBeGreaterThanOrEqual(
      WORDS.length,
    )
  })
})

describe('batch frames in the client', () => {
  const match = new AdapterRegistry(builtinAdapters()).lookup('POST', '/v1/chat/completions')
  if (match.kind !== 'match') throw new Error('no route')
  const stream = match.match.route.stream!
  const context = {
    key: createFieldKey(KEY_ID, KEY),
    nonce: 'oKGio6SlpqeoqaqrrK2urw',
    direction: 'response' as const,
  }
  const plain = chunk({ content: 'Hi' }, null) + chunk({ content: ' there' }, null)
  const wireText =
    `event: continuum.batch\ndata: ${sealBatch(context, 0, 2, plain)}\n\n` +
    `event: continuum.end\ndata: ${JSON.stringify(endMarker(context, 2))}\n\n` +
    'data: [DONE]\n\n'

  async function open(batches: boolean): Promise<{ text: string; failure: unknown }> {
    const source = (async function* () {
      yield new TextEncoder().encode(wireText)
    })()
    let text = ''
    try {
      for await (const part of openStream(source, stream, await clientContext(context), { batches }))
        text += new TextDecoder().decode(part)
      return { text, failure: undefined }
    } catch (error) {
      return { text, failure: error }
    }
  }

  it('refuses a streamBatches option that is not a boolean when the fetch is created', () => {
    expect(() =>
      createEncryptedFetch({ keyId: KEY_ID, key: KEY, streamBatches: 'no' as unknown as boolean }),
    ).toThrow(expect.objectContaining({ code: 'CONTINUUM_INVALID_OPTIONS' }))
  })

  it('expands a frame for a client that asked, and refuses it for one that did not', async () => {
    expect(await open(true)).toEqual({ text: `${plain}data: [DONE]\n\n`, failure: undefined })
    const refused = await open(false)
    expect(refused.text).toBe('')
    expect(codeOf(refused.failure)).toBe('CONTINUUM_RESPONSE_INTEGRITY_FAILED')
  })
})
