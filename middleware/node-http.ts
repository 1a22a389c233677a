/**
 * Translation between node:http objects and the core's request/response shapes, shared by the
 * Express and Koa bindings (both sit on node's IncomingMessage and ServerResponse). Responses are
 * written with backpressure; a client that goes away, or a host that answered first, aborts the
 * core's signal and so the upstream.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Writable } from 'node:stream'
import type { CoreRequest, CoreRequestBody, CoreResponse } from '../src/index'

/** Lower-cased headers with repeated values joined, as the core expects. */
export function flattenHeaders(headers: IncomingMessage['headers']): Record<string, string | undefined> {
  const result: Record<string, string | undefined> = {}
  for (const name in headers) {
    const value = headers[name]
    result[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return result
}

/**
 * The body as the framework left it: parsed by a body parser, or the unread stream. A parser that
 * did not read the stream (a type it does not take) may still leave a placeholder: koa-bodyparser
 * and Express 4's body-parser set `{}`, which forwarded would replace a pass-through upload by
 * `{}`. So a parsed value counts only once the stream was read; an unread stream is the body.
 */
export function bodyOf(message: IncomingMessage, parsed: unknown): CoreRequestBody {
  if (parsed !== undefined && message.readableDidRead) {
    if (Buffer.isBuffer(parsed)) return { kind: 'bytes', bytes: parsed }
    if (typeof parsed === 'string') return { kind: 'bytes', bytes: Buffer.from(parsed) }
    return { kind: 'parsed', value: parsed }
  }
  if (message.readableEnded || message.method === 'GET' || message.method === 'HEAD') return { kind: 'empty' }
  return { kind: 'stream', stream: message }
}

/** The controller of each request handed to the core whose answer is not written yet. */
const unanswered = new WeakMap<ServerResponse, AbortController>()

/**
 * Builds a CoreRequest and the controller that aborts it when nobody waits for its answer any
 * more: the client went away, or the response ended without the core's answer (the host answered
 * first, as a timeout middleware does), when the upstream would go on generating for nobody.
 */
export function toCoreRequest(
  message: IncomingMessage,
  response: ServerResponse,
  url: string,
  parsed: unknown,
): CoreRequest {
  const controller = new AbortController()
  unanswered.set(response, controller)
  response.once('close', () => {
    if (!response.writableFinished || unanswered.get(response) === controller) controller.abort()
  })
  return {
    method: message.method ?? 'GET',
    url,
    headers: flattenHeaders(message.headers),
    body: bodyOf(message, parsed),
    signal: controller.signal,
    ...(message.socket.remoteAddress === undefined ? {} : { remoteAddress: message.socket.remoteAddress }),
  }
}

/**
 * Resolves on the next `drain` or `close`, removing both listeners either way. (Racing two
 * `events.once()` calls would leave the loser's listeners behind: one more per wait, thousands
 * on a long stream.)
 */
function drainOrClose(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const settle = (): void => {
      response.off('drain', settle)
      response.off('close', settle)
      resolve()
    }
    response.on('drain', settle)
    response.on('close', settle)
  })
}

/**
 * The key under which the core's streamed bodies offer to write themselves into a node writable
 * (src/proxy/wire-body.ts): each upstream read is then sealed and written from the upstream
 * body's own events, with no promise per chunk. `Symbol.for`, so it holds across package copies.
 */
export const PIPE_TO = Symbol.for('continuum-proxy.pipe-to')

/** A body that writes itself into a Node writable (a ServerResponse, a PassThrough). */
export type Pipeable = { [PIPE_TO](sink: Writable): Promise<void> }

/** Whether a core body offers the pipe method (see src/proxy/wire-body.ts). */
export function isPipeable(body: object): body is Pipeable {
  return typeof (body as Partial<Pipeable>)[PIPE_TO] === 'function'
}

/** Event streams get their head at once (the first token may take a while); other bodies with their first bytes. */
function streamsEvents(response: ServerResponse): boolean {
  const type = response.getHeader('content-type')
  return (
    typeof type === 'string' &&
    (type.startsWith('text/event-stream') || type.startsWith('application/x-ndjson'))
  )
}

/**
 * After an early answer (a body over the limit, stalled, or refused before it was read), the
 * connection is closed once the response is out, so a client that never stops sending cannot hold
 * it (a kept-alive connection would go on swallowing its body). What is still unread is discarded
 * meanwhile, so a client still sending sees the answer rather than a reset.
 */
export function discardUnreadBody(message: IncomingMessage, response: ServerResponse): void {
  if (message.complete) return
  if (!response.headersSent) response.setHeader('connection', 'close')
  if (!message.destroyed) message.resume()
}

/**
 * The `vary` to send when the host already set one (its CORS handler's `Vary: Origin`) and the
 * core answers with another (an upstream's `Vary: Accept-Encoding`): both lists, each name once.
 * Replaced instead, a shared cache would key the host's per-origin CORS answer by the core's
 * names only and serve it to every origin.
 */
export function mergedVary(
  hosts: number | string | readonly string[] | undefined,
  cores: string | readonly string[],
): string {
  const names = new Map<string, string>()
  for (const list of [hosts ?? '', cores].flat()) {
    for (const name of String(list).split(',')) {
      const trimmed = name.trim()
      if (trimmed !== '' && !names.has(trimmed.toLowerCase())) names.set(trimmed.toLowerCase(), trimmed)
    }
  }
  return names.has('*') ? '*' : [...names.values()].join(', ')
}

/**
 * Reads a core answer that will not be written to its end, its upstream aborted, so the body's
 * own bookkeeping (the exchange's outcome, the access line) still runs.
 */
export async function dropCoreBody(body: CoreResponse['body']): Promise<void> {
  if (body === null || typeof body === 'string' || body instanceof Uint8Array) return
  try {
    for await (const _chunk of body) {
      // discarded
    }
  } catch {
    // The abort the caller made.
  }
}

/**
 * Writes a CoreResponse, streaming bodies with backpressure; a failing stream destroys the socket.
 * A response the host already answered (a timeout middleware's 503) keeps its answer: the core's
 * is dropped and its upstream stopped, where setting headers would throw ERR_HTTP_HEADERS_SENT.
 */
export async function writeCoreResponse(response: ServerResponse, core: CoreResponse): Promise<void> {
  const controller = unanswered.get(response)
  unanswered.delete(response)
  if (response.headersSent) {
    controller?.abort()
    return dropCoreBody(core.body)
  }
  if (core.status >= 400 && response.req !== undefined) discardUnreadBody(response.req, response)
  response.statusCode = core.status
  for (const name in core.headers) {
    const value = core.headers[name]!
    response.setHeader(name, name === 'vary' ? mergedVary(response.getHeader('vary'), value) : value)
  }
  const body = core.body
  if (body === null || typeof body === 'string' || body instanceof Uint8Array) {
    response.end(body ?? undefined)
    return
  }
  if (streamsEvents(response)) response.flushHeaders()
  if (isPipeable(body)) return body[PIPE_TO](response)
  try {
    for await (const chunk of body) {
      if (response.destroyed) break
      if (!response.write(chunk)) await drainOrClose(response)
    }
    response.end()
  } catch (error) {
    response.destroy(error as Error)
  }
}
