/**
 * SSE decoding against its specification: the WHATWG "interpret an event stream" examples, the
 * chunk-boundary cases an adversarial review found (a CR ending one chunk, an empty chunk, then
 * the LF), a differential run of 100,000 fuzzed streams with random chunking against
 * `eventsource-parser`, and the end of a stream inside an event, which is discarded and reported.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import { describe, expect, it } from 'vitest'
import { SseDecoder, type SseEvent } from '../../src/streams'

const encoder = new TextEncoder()

/** Decodes chunks with our decoder; `ended` says whether end() accepted the stream's end. */
function decode(chunks: readonly Uint8Array[]): { events: SseEvent[]; ended: unknown } {
  const decoder = new SseDecoder()
  const events: SseEvent[] = []
  for (const chunk of chunks) events.push(...decoder.push(chunk))
  let ended: unknown = true
  try {
    events.push(...decoder.end())
  } catch (error) {
    ended = (error as { code?: unknown }).code
  }
  return { events, ended }
}

function texts(...parts: string[]): Uint8Array[] {
  return parts.map((part) => encoder.encode(part))
}

/** The reference: eventsource-parser over the same text, in the same pieces. */
function reference(pieces: readonly string[]): { data: string; event?: string; id?: string }[] {
  const events: { data: string; event?: string; id?: string }[] = []
  const parser = createParser({
    onEvent(message: EventSourceMessage) {
      events.push({
        data: message.data,
        ...(message.event === undefined ? {} : { event: message.event }),
        ...(message.id === undefined ? {} : { id: message.id }),
      })
    },
  })
  for (const piece of pieces) parser.feed(piece)
  return events
}

function comparable(events: readonly SseEvent[]): { data: string; event?: string; id?: string }[] {
  return events.map(({ retry: _retry, ...rest }) => rest)
}

describe('WHATWG examples (html.spec.whatwg.org, server-sent events, "interpreting an event stream")', () => {
  it('joins data lines with LF', () => {
    const { events, ended } = decode(texts('data: YHOO\ndata: +2\ndata: 10\n\n'))
    expect(events).toEqual([{ data: 'YHOO\n+2\n10' }])
    expect(ended).toBe(true)
  })

  it('handles comments, ids, an empty id and one leading space only', () => {
    const stream =
      ': test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n'
    expect(decode(texts(stream)).events).toEqual([
      { data: 'first event', id: '1' },
      { data: 'second event', id: '' },
      { data: ' third event' },
    ])
  })

  it('dispatches empty data and a lone LF; discards the last block without its blank line', () => {
    const { events, ended } = decode(texts('data\n\ndata\ndata\n\ndata:'))
    expect(events).toEqual([{ data: '' }, { data: '\n' }])
    // The spec discards the unterminated block; a relay also reports the cut.
    expect(ended).toBe('CONTINUUM_UPSTREAM_STREAM_ABORTED')
  })

  it('treats "data:test" and "data: test" alike', () => {
    expect(decode(texts('data:test\n\ndata: test\n\n')).events).toEqual([{ data: 'test' }, { data: 'test' }])
  })

  it('accepts CR, LF and CRLF line ends and drops one leading BOM', () => {
    expect(decode(texts('\ufeffdata: a\r\rdata: b\r\n\r\ndata: c\n\n')).events).toEqual([
      { data: 'a' },
      { data: 'b' },
      { data: 'c' },
    ])
  })

  it('ignores an id holding NUL and an event field without value resets the type', () => {
    expect(decode(texts('id: a\0b\nevent:\ndata: x\n\n')).events).toEqual([{ data: 'x' }])
  })
})

describe('a CR at a chunk end, then an empty chunk, then the LF (the phantom blank line)', () => {
  it('keeps the event name of "event: x\\r", "", "\\ndata: y\\r\\n\\r\\n"', () => {
    expect(decode(texts('event: x\r', '', '\ndata: y\r\n\r\n')).events).toEqual([{ event: 'x', data: 'y' }])
  })

  it('keeps "data: a\\r", "", "\\ndata: b" one event', () => {
    expect(decode(texts('data: a\r', '', '\ndata: b\n\n')).events).toEqual([{ data: 'a\nb' }])
  })

  it('also across a chunk holding only part of a UTF-8 character', () => {
    const bytes = encoder.encode('é')
    const chunks = [
      encoder.encode('data: a\r'),
      bytes.subarray(0, 0),
      encoder.encode('\ndata: '),
      bytes.subarray(0, 1),
      bytes.subarray(1),
      encoder.encode('\n\n'),
    ]
    expect(decode(chunks).events).toEqual([{ data: 'a\né' }])
  })
})

/** mulberry32: a small seeded generator, so a failure names a reproducible stream. */
function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const FIELDS = ['data', 'data', 'data', 'event', 'id', 'retry', 'dat', 'datas', '', ':', 'Data']
const VALUE_CHARS = ['a', 'b', ' ', ':', 'é', '😀', '\0', '\t', '1', 'x', '\ufeff']
const ENDS = ['\n', '\n', '\r\n', '\r']

function fuzzedStream(next: () => number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!
  let text = next() < 0.05 ? '\ufeff' : ''
  const lines = Math.floor(next() * 12)
  for (let line = 0; line < lines; line++) {
    if (next() < 0.25) {
      text += pick(ENDS)
      continue
    }
    const field = pick(FIELDS)
    let value = ''
    const length = Math.floor(next() * 6)
    for (let index = 0; index < length; index++) value += pick(VALUE_CHARS)
    const separator = next() < 0.15 ? '' : next() < 0.5 ? ':' : ': '
    text += `${field}${separator}${separator === '' ? '' : value}${pick(ENDS)}`
  }
  if (next() < 0.5) text += '\n\n'
  return text
}

/** Splits bytes at random points, with empty chunks among them. */
function chunked(bytes: Uint8Array, next: () => number): Uint8Array[] {
  const chunks: Uint8Array[] = []
  let start = 0
  while (start < bytes.length) {
    if (next() < 0.1) chunks.push(bytes.subarray(start, start))
    const size = 1 + Math.floor(next() * 8)
    chunks.push(bytes.subarray(start, start + size))
    start += size
  }
  if (next() < 0.2) chunks.push(new Uint8Array(0))
  return chunks
}

describe('differential against eventsource-parser', () => {
  it('agrees on 100,000 fuzzed streams under random chunking', () => {
    const next = random(20_240_601)
    const streaming = new TextDecoder()
    let compared = 0
    for (let run = 0; run < 100_000; run++) {
      const text = fuzzedStream(next)
      const bytes = encoder.encode(text)
      const chunks = chunked(bytes, next)
      // The reference reads text: decode the same byte chunks as a browser would.
      const pieces = chunks.map((chunk) => streaming.decode(chunk, { stream: true }))
      pieces.push(streaming.decode())
      const ours = decode(chunks).events
      const theirs = reference(pieces)
      if (JSON.stringify(comparable(ours)) !== JSON.stringify(theirs)) {
        expect({ run, text, ours: comparable(ours) }).toEqual({ run, text, ours: theirs })
      }
      compared++
    }
    expect(compared).toBe(100_000)
  })
})

describe('the end of a stream', () => {
  it('never dispatches a last event without its blank line, and reports the cut', () => {
    const { events, ended } = decode(texts('data: {"a":1}\n\ndata: {"half":'))
    expect(events).toEqual([{ data: '{"a":1}' }])
    expect(ended).toBe('CONTINUUM_UPSTREAM_STREAM_ABORTED')
  })

  it('reports fields without their blank line too, and accepts a clean end', () => {
    expect(decode(texts('data: x\n')).ended).toBe('CONTINUUM_UPSTREAM_STREAM_ABORTED')
    expect(decode(texts('data: x\n\n: comment\n')).ended).toBe(true)
  })
})
