/**
 * The connection to the inference server: an undici dispatcher with a keep-alive pool, over TCP or
 * a Unix socket. Transport failures become ContinuumErrors (502 unavailable, 504 timeout) whose
 * messages name no request content; a client disconnect aborts the upstream request.
 */
import { Agent, type Dispatcher } from 'undici'
import { ContinuumError } from '../errors'

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

/** What the pipeline sends upstream. */
export interface UpstreamRequest {
  method: string
  /** Path and query relative to the mount point. */
  url: string
  headers: Record<string, string>
  body: string | Uint8Array | AsyncIterable<Uint8Array> | null
  signal: AbortSignal
}

/** What comes back. */
export interface UpstreamResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: AsyncIterable<Uint8Array> & { destroy?(error?: Error): unknown }
  /**
   * A failure the upstream reported inside a stream that otherwise ended cleanly (the router
   * gateway's in-stream error event); read once the body ended, for stages, audit and telemetry.
   */
  failure?(): ContinuumError | undefined
}

/** A resolved upstream. */
export interface Upstream {
  send(request: UpstreamRequest): Promise<UpstreamResponse>
  close(): Promise<void>
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOENT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
])
const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
])

/** Maps a transport failure to a ContinuumError; a client abort becomes CONTINUUM_CLIENT_ABORTED. */
export function upstreamError(error: unknown, signal?: AbortSignal): ContinuumError {
  if (ContinuumError.isInstance(error)) return error
  if (signal?.aborted === true) {
    return new ContinuumError('CONTINUUM_CLIENT_ABORTED', 'Client closed the connection', { cause: error })
  }
  const code =
    (error as { code?: string } | undefined)?.code ?? (error as { cause?: { code?: string } })?.cause?.code
  if (code !== undefined && TIMEOUT_CODES.has(code)) {
    return new ContinuumError('CONTINUUM_UPSTREAM_TIMEOUT', `Upstream timed out (${code})`, { cause: error })
  }
  const reason = code !== undefined && UNAVAILABLE_CODES.has(code) ? code : 'connection failed'
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

/** Normalises upstream options once and builds the dispatcher. */
export function createUpstream(options: string | UpstreamOptions): Upstream {
  const resolved: UpstreamOptions = typeof options === 'string' ? { url: options } : options
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
  const connectTimeout = positive(resolved.connectTimeoutMs, 10_000, 'connectTimeoutMs')
  const headersTimeout = positive(resolved.headersTimeoutMs, 300_000, 'headersTimeoutMs')
  const bodyTimeout = positive(resolved.bodyTimeoutMs, 300_000, 'bodyTimeoutMs')
  const ownsDispatcher = resolved.dispatcher === undefined
  const dispatcher =
    resolved.dispatcher ??
    new Agent({
      connections: positive(resolved.connections, 128, 'connections'),
      keepAliveTimeout: 30_000,
      connect: {
        timeout: connectTimeout,
        ...(resolved.socketPath === undefined ? {} : { socketPath: resolved.socketPath }),
      },
    })
  const origin = base.origin
  const prefix = base.pathname.replace(/\/$/, '')
  const extraHeaders = resolved.headers ?? {}

  return {
    async send(request) {
      try {
        const response = await dispatcher.request({
          origin,
          path: `${prefix}${request.url}`,
          method: request.method as Dispatcher.HttpMethod,
          headers: { ...request.headers, ...extraHeaders },
          body: request.body as Dispatcher.DispatchOptions['body'],
          signal: request.signal,
          headersTimeout,
          bodyTimeout,
        })
        return { status: response.statusCode, headers: response.headers, body: response.body }
      } catch (error) {
        throw upstreamError(error, request.signal)
      }
    },
    async close() {
      if (ownsDispatcher) await dispatcher.close()
    },
  }
}
