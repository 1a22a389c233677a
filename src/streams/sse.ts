/**
 * Server-Sent Events framing (the WHATWG `text/event-stream` format): a parser that turns bytes
 * into events and a serializer that turns events back into bytes. OpenAI, Anthropic, TGI, Triton's
 * generate_stream and Vertex all stream this way.
 */
import { type LineSplitterOptions, splitLines } from './line-splitter'

/** One server-sent event. `event` is absent for the default `message` type. */
export interface SseEvent {
  event?: string
  data: string
  id?: string
  retry?: number
}

/**
 * Parses a `text/event-stream` byte stream into events; comments are skipped. Unlike a browser's
 * EventSource, `id` is reported only on the event that carried it, which is what a relay needs.
 */
export async function* parseSse(
  source: AsyncIterable<Uint8Array>,
  options: LineSplitterOptions = {},
): AsyncGenerator<SseEvent> {
  let data: string[] = []
  let event: string | undefined
  let id: string | undefined
  let retry: number | undefined

  for await (const line of splitLines(source, options)) {
    if (line === '') {
      if (data.length > 0) {
        const parsed: SseEvent = { data: data.join('\n') }
        if (event !== undefined) parsed.event = event
        if (id !== undefined) parsed.id = id
        if (retry !== undefined) parsed.retry = retry
        yield parsed
      }
      data = []
      event = undefined
      id = undefined
      retry = undefined
      continue
    }
    if (line.charCodeAt(0) === 58 /* ':' comment */) continue
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.charCodeAt(0) === 32) value = value.slice(1)
    switch (field) {
      case 'data':
        data.push(value)
        break
      case 'event':
        event = value
        break
      case 'id':
        if (!value.includes('\0')) id = value
        break
      case 'retry':
        if (/^\d+$/.test(value)) retry = Number(value)
        break
      default:
        break
    }
  }
  // A stream that ends without the blank line still delivers its last complete event.
  if (data.length > 0) {
    const parsed: SseEvent = { data: data.join('\n') }
    if (event !== undefined) parsed.event = event
    if (id !== undefined) parsed.id = id
    yield parsed
  }
}

/** Serializes one event, splitting multi-line data over several `data:` lines. */
export function formatSse(event: SseEvent): string {
  let text = ''
  if (event.event !== undefined) text += `event: ${event.event}\n`
  if (event.id !== undefined) text += `id: ${event.id}\n`
  if (event.retry !== undefined) text += `retry: ${event.retry}\n`
  if (event.data.includes('\n') || event.data.includes('\r')) {
    for (const line of event.data.split(/\r\n|\r|\n/)) text += `data: ${line}\n`
  } else {
    text += `data: ${event.data}\n`
  }
  return `${text}\n`
}
