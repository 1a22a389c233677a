/**
 * Writing one Server-Sent Event (the WHATWG `text/event-stream` format). Apart from the decoder in
 * sse.ts, so the code that only writes frames (the proxy's plain error frame) does not load it.
 */

/** One server-sent event. `event` is absent for the default `message` type. */
export interface SseEvent {
  event?: string
  data: string
  id?: string
  retry?: number
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
