/**
 * The upstream of a single inference server over HTTP: a keep-alive pool over TCP or a Unix
 * socket, on the shared transport. Transport failures become ContinuumErrors (502 unavailable,
 * 504 timeout) named by the network-error table, never by a message that could quote content; a
 * client disconnect aborts the upstream request. Bodies come back as bytes: the pipeline decodes
 * them by the route's framing only when something needs objects.
 */
import type { Dispatcher } from 'undici'
import { ContinuumError } from '../errors'
import { HttpTransport } from '../transport/http-transport'
import { classifyNetworkError } from '../transport/network-errors'
import type { Upstream, UpstreamRequest } from './upstream'

/** Where and how to reach the inference server. */
export interface UpstreamOptions {
  /**
   * Base URL of the server, e.g. `http://127.0.0.1:8000`. With `socketPath`, only its path prefix matters.
   * @default 'http://localhost' when socketPath is given
   */
  url?: string
  /** Unix socket of the server, e.g. `/run/vllm.sock`. */
  socketPath?: string
  /**
   * A ready undici dispatcher (a Pool, an Agent, a MockAgent in tests); overrides the pool options.
   * @default a keep-alive Agent built from the options below
   */
  dispatcher?: Dispatcher
  /**
   * Most connections per origin in the keep-alive pool.
   * @default 128
   */
  connections?: number
  /**
   * Time to establish a connection, in milliseconds.
   * @default 10000
   */
  connectTimeoutMs?: number
  /**
   * Time until the response headers arrive, in milliseconds (generation may start slowly).
   * @default 300000
   */
  headersTimeoutMs?: number
  /**
   * Longest silence between two body chunks, in milliseconds.
   * @default 300000
   */
  bodyTimeoutMs?: number
  /**
   * Extra headers sent upstream, e.g. the inference server's own API key.
   * @default {}
   */
  headers?: Record<string, string>
}

/** Maps a transport failure to a ContinuumError; a client abort becomes CONTINUUM_CLIENT_ABORTED. */
export function upstreamError(error: unknown, signal?: AbortSignal): ContinuumError {
  if (ContinuumError.isInstance(error)) return error
  if (signal?.aborted === true) {
    return new ContinuumError('CONTINUUM_CLIENT_ABORTED', 'Client closed the connection', { cause: error })
  }
  const failure = classifyNetworkError(error)
  if (failure.kind === 'timeout') {
    return new ContinuumError(
      'CONTINUUM_UPSTREAM_TIMEOUT',
      `Upstream timed out (${failure.code ?? 'timeout'})`,
      {
        cause: error,
      },
    )
  }
  const reason = failure.kind === 'unavailable' ? failure.code : 'connection failed'
  return new ContinuumError('CONTINUUM_UPSTREAM_UNAVAILABLE', `Upstream unavailable (${reason})`, {
    cause: error,
  })
}

function positive(value: number | undefined, fallback: number, name: string): number {
  const resolved = value ?? fallback
  if (!Number.isFinite(resolved) || resolved <= 0) {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', `upstream.${name} must be a positive number`)
  }
  return resolved
}

function bodyOf(body: UpstreamRequest['body']): string | Uint8Array | AsyncIterable<Uint8Array> | null {
  switch (body.type) {
    case 'json':
      return JSON.stringify(body.value)
    case 'bytes':
      return body.bytes
    case 'stream':
      return body.stream
    case 'empty':
      return null
  }
}

/** Normalises upstream options once and builds the pool. */
export function createHttpUpstream(options: string | UpstreamOptions): Upstream {
  const resolved: UpstreamOptions = typeof options === 'string' ? { url: options } : options
  if (typeof resolved !== 'object' || resolved === null) {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'upstream: give a URL, options or an Upstream')
  }
  if (resolved.url === undefined && resolved.socketPath === undefined) {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'upstream: give a url or a socketPath')
  }
  let base: URL
  try {
    base = new URL(resolved.url ?? 'http://localhost')
  } catch (error) {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'upstream.url is not a valid URL', { cause: error })
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'upstream.url must be http: or https:')
  }
  const headersTimeoutMs = positive(resolved.headersTimeoutMs, 300_000, 'headersTimeoutMs')
  const bodyTimeoutMs = positive(resolved.bodyTimeoutMs, 300_000, 'bodyTimeoutMs')
  const transport = new HttpTransport({
    ...(resolved.dispatcher === undefined ? {} : { dispatcher: resolved.dispatcher }),
    ...(resolved.socketPath === undefined ? {} : { socketPath: resolved.socketPath }),
    connections: positive(resolved.connections, 128, 'connections'),
    connectTimeoutMs: positive(resolved.connectTimeoutMs, 10_000, 'connectTimeoutMs'),
  })
  const prefix = `${base.origin}${base.pathname.replace(/\/$/, '')}`
  const extraHeaders = resolved.headers ?? {}

  return {
    async send(request) {
      try {
        const response = await transport.request({
          method: request.method,
          url: `${prefix}${request.url}`,
          headers: { ...request.headers, ...extraHeaders },
          body: bodyOf(request.body),
          signal: request.signal,
          headersTimeoutMs,
          bodyTimeoutMs,
        })
        return {
          status: response.status,
          headers: response.headers,
          body: { type: 'bytes', stream: response.body },
        }
      } catch (error) {
        throw upstreamError(error, request.signal)
      }
    },
    close: () => transport.close(),
  }
}
