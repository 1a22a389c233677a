/**
 * Whether a recorded stream is whole. An upstream may end a stream cleanly at the TCP level yet
 * without its terminal event (`data: [DONE]`, Anthropic's `message_stop`, Ollama's `done: true`);
 * the pipeline then sends the client an error frame instead of the end marker. Such a stream must
 * not be stored, or every later requester would receive the same cut answer. The adapter's own
 * stream description (framing, terminal sentinel, final-event predicate) decides, so the cache
 * agrees with the pipeline on every protocol, built-in or custom. A JSON answer is whole when it
 * parses as the JSON object the pipeline needs.
 */
import type { CompiledStream } from '../protocol/compiled-route'
import { NdjsonDecoder } from '../streams/ndjson'
import { SseDecoder } from '../streams/sse'

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** True when the chunks hold a stream that reached its terminal or final event. */
export function streamComplete(stream: CompiledStream, chunks: readonly Uint8Array[]): boolean {
  try {
    return reachedEnd(stream, chunks)
  } catch {
    // Undecodable framing: the pipeline refused it too.
    return false
  }
}

function reachedEnd(stream: CompiledStream, chunks: readonly Uint8Array[]): boolean {
  if (stream.framing === 'sse') {
    const decoder = new SseDecoder()
    const events = chunks.flatMap((chunk) => decoder.push(chunk))
    events.push(...decoder.end())
    if (stream.terminal !== undefined) return events.some((event) => event.data === stream.terminal)
    if (stream.isFinal === undefined) return true
    return events.some((event) => {
      try {
        const parsed: unknown = JSON.parse(event.data)
        return isRecord(parsed) && stream.isFinal?.(parsed, event.event ?? '') === true
      } catch {
        return false
      }
    })
  }
  const decoder = new NdjsonDecoder()
  const values = chunks.flatMap((chunk) => decoder.push(chunk))
  values.push(...decoder.end())
  if (stream.isFinal === undefined) return true
  return values.some((value) => isRecord(value) && stream.isFinal?.(value, '') === true)
}

/** True when a buffered answer is a JSON object, the only kind the pipeline relays on encrypted routes. */
export function jsonComplete(chunks: readonly Uint8Array[]): boolean {
  try {
    return isRecord(JSON.parse(Buffer.concat(chunks).toString('utf8')))
  } catch {
    return false
  }
}
