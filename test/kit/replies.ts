/**
 * What the protocol fakes build their replies from: the recorded transcripts in
 * test/fixtures/transcripts/<protocol>, SSE and NDJSON framing, and one way to misbehave on
 * purpose. A protocol route first says what it would answer (an {@link Answer}: a JSON body, or
 * stream frames with the content and terminal ones marked), then {@link deliver} turns it into the
 * wire reply, cut, truncated or stalled as the test's model name asks (see {@link behaviourOf}).
 */
import { readFileSync } from 'node:fs'
import type { Reply } from './server'

/** Reads a transcript file from test/fixtures/transcripts/<protocol>/. */
export function transcript(protocol: string, name: string): string {
  return readFileSync(new URL(`../fixtures/transcripts/${protocol}/${name}`, import.meta.url), 'utf8')
}

/** A JSON transcript, parsed afresh (callers may change it). */
// biome-ignore lint/suspicious/noExplicitAny: transcripts are arbitrary protocol JSON
export function transcriptJson(protocol: string, name: string): any {
  return JSON.parse(transcript(protocol, name))
}

/** Splits a transcript into its lines, keeping each terminator, so it is sent as several writes. */
export function transcriptLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? []
}

/** The transcript's lines up to (not including) the first line that contains `marker`. */
export function transcriptUntil(protocol: string, name: string, marker: string): string[] {
  const lines = transcriptLines(transcript(protocol, name))
  const stop = lines.findIndex((line) => line.includes(marker))
  return stop === -1 ? lines : lines.slice(0, stop)
}

/**
 * Splits a transcript into pieces of `size` bytes so events, lines and even multi-byte characters
 * straddle writes, as they do on a real network.
 */
export function splitEvery(text: string, size: number): Uint8Array[] {
  const bytes = Buffer.from(text, 'utf8')
  const pieces: Uint8Array[] = []
  for (let start = 0; start < bytes.length; start += size) pieces.push(bytes.subarray(start, start + size))
  return pieces
}

/** One SSE event of a transcript: its `event:` name, if any, and its `data:` text. */
export interface SseEvent {
  event?: string
  data: string
}

/** Parses an SSE transcript into its events (`data:` with or without a space, as servers differ). */
export function sseEvents(text: string): SseEvent[] {
  return text
    .split(/\n\n+/)
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const event: SseEvent = { data: '' }
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event.event = line.slice(6).trim()
        else if (line.startsWith('data:')) event.data = line.slice(5).replace(/^ /, '')
      }
      return event
    })
}

/** The JSON `data` of each event of an SSE transcript, with its event name. */
// biome-ignore lint/suspicious/noExplicitAny: transcripts are arbitrary protocol JSON
export function sseJson(protocol: string, name: string): { event?: string; data: any }[] {
  return sseEvents(transcript(protocol, name))
    .filter((event) => event.data.startsWith('{'))
    .map((event) => ({
      ...(event.event === undefined ? {} : { event: event.event }),
      data: JSON.parse(event.data),
    }))
}

/** Writes one SSE event; `space` is false for servers that write `data:{...}` (TGI). */
export function sseFrame(data: unknown, event?: string, space = true): string {
  const text = typeof data === 'string' ? data : JSON.stringify(data)
  return `${event === undefined ? '' : `event: ${event}\n`}data:${space ? ' ' : ''}${text}\n\n`
}

/** Splits a reply into the words a fake streams it as, each keeping its trailing space. */
export function words(text: string): string[] {
  return text.split(/(?<= )/)
}

/** A JSON answer. */
export function jsonReply(body: unknown, status = 200, headers: Record<string, string> = {}): Reply {
  return {
    kind: 'body',
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  }
}

/** One frame of a streamed answer. */
export interface Frame {
  text: string
  /** Carries generated content (what `cut-stream` and `hang-stream` count). */
  content?: boolean
  /** The protocol's terminal event (what a stream that ends early is missing). */
  terminal?: boolean
}

/** What a protocol route would answer, before any misbehaviour. */
export type Answer =
  | { kind: 'json'; status?: number; headers?: Record<string, string>; value: unknown }
  | { kind: 'stream'; status?: number; headers: Record<string, string>; frames: Frame[] }

/**
 * How a fake misbehaves on purpose:
 * - `cut-stream`: the stream's frames up to its second content frame, then the connection drops;
 * - `no-terminal`: every frame but the terminal ones, then a clean end;
 * - `hang-stream`: the frames up to the first content frame, then silence until the client leaves;
 * - `slow-headers`: no answer at all until the client leaves;
 * - `cut-json`: half of a JSON body announced whole by its content-length, then the connection drops.
 */
export type Behaviour = 'cut-stream' | 'no-terminal' | 'hang-stream' | 'slow-headers' | 'cut-json'

const BEHAVIOURS: Record<string, Behaviour> = {
  'cut-stream': 'cut-stream',
  'no-done': 'no-terminal',
  'no-stop': 'no-terminal',
  'hang-stream': 'hang-stream',
  'slow-headers': 'slow-headers',
  'cut-json': 'cut-json',
}

/** The behaviour a model name asks for (`cut-stream`, `no-done`/`no-stop`, `hang-stream`, `slow-headers`, `cut-json`). */
export function behaviourOf(model: unknown): Behaviour | undefined {
  return typeof model === 'string' ? BEHAVIOURS[model] : undefined
}

function upTo(frames: Frame[], contentFrames: number): Frame[] {
  let seen = 0
  const end = frames.findIndex((frame) => frame.content === true && ++seen === contentFrames)
  return end === -1 ? frames : frames.slice(0, end + 1)
}

/** Turns an answer into the reply on the wire, misbehaving as `behaviour` says. */
export function deliver(answer: Answer, behaviour?: Behaviour): Reply {
  if (behaviour === 'slow-headers') return { kind: 'hang' }
  if (answer.kind === 'json') {
    const body = JSON.stringify(answer.value)
    const headers = { 'content-type': 'application/json', ...answer.headers }
    if (behaviour !== 'cut-json') return { kind: 'body', status: answer.status ?? 200, headers, body }
    return {
      kind: 'chunks',
      status: answer.status ?? 200,
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      chunks: [body.slice(0, body.length >> 1)],
      ending: 'destroy',
    }
  }
  const { frames } = answer
  const base = { kind: 'chunks' as const, status: answer.status ?? 200, headers: answer.headers }
  switch (behaviour) {
    case 'cut-stream':
      return { ...base, chunks: upTo(frames, 2).map((frame) => frame.text), ending: 'destroy' }
    case 'hang-stream':
      return { ...base, chunks: upTo(frames, 1).map((frame) => frame.text), ending: 'hold' }
    case 'no-terminal':
      return { ...base, chunks: frames.filter((frame) => frame.terminal !== true).map((frame) => frame.text) }
    default:
      return { ...base, chunks: frames.map((frame) => frame.text) }
  }
}

/** The size of each chunk of {@link downloadReply}. */
const DOWNLOAD_CHUNK = Buffer.alloc(64 * 1024, 'continuum-')

/** `total` generated bytes as an octet stream, written with backpressure (for pass-through tests). */
export function downloadReply(total: number, cut = false): Reply {
  function* pieces(): Generator<Uint8Array> {
    for (let sent = 0; sent < total; sent += DOWNLOAD_CHUNK.length) {
      const size = Math.min(DOWNLOAD_CHUNK.length, total - sent)
      yield size === DOWNLOAD_CHUNK.length ? DOWNLOAD_CHUNK : DOWNLOAD_CHUNK.subarray(0, size)
    }
  }
  return {
    kind: 'chunks',
    headers: { 'content-type': 'application/octet-stream' },
    chunks: pieces(),
    ...(cut ? { ending: 'destroy' as const } : {}),
  }
}
