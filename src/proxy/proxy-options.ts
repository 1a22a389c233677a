/**
 * Options of the proxy core, normalised once: the upstream, the keyring, the adapter registry,
 * limits, replay window and stages are all resolved at construction so the per-request path only
 * reads precomputed values. The core takes features as stages and upstreams; it builds none of
 * them itself (`continuum-proxy/scanner`, `/audit`, `/telemetry` and `/cache` make the stages,
 * `continuum-proxy/router` the router).
 */

import { type Keyring, Keyring as KeyringClass, type KeyringOptions } from '../cipher/keyring'
import { ReplayGuard } from '../cipher/replay-guard'
import { type Clock, systemClock } from '../core/clock'
import { type CoreHandler, chainHandlers } from '../core/http'
import { type Logger, silentLogger } from '../core/logger'
import { ContinuumError } from '../errors'
import { hasBrand } from '../internal/brand'
import type { ProtocolAdapter } from '../protocol/adapter'
import { AdapterRegistry } from '../protocol/registry'
import type { StateStore } from '../stores'
import type { BodyReadOptions } from './body-reader'
import { type GatewayOptions, type GatewaySource, isGatewaySource } from './gateway-source'
import { createHttpUpstream, type UpstreamOptions } from './http-upstream'
import type { ProxyStage } from './stage'
import { isUpstream, type Upstream } from './upstream'

/** Options of {@link createProxy} and of the Express, Koa and Fastify middleware. */
export interface ProxyOptions {
  /**
   * The inference server: a URL string, options with a Unix socket, timeouts and pool size, or a
   * ready `Upstream` object (anything with `send` and `close`). Give exactly one of `upstream` and `router`.
   */
  upstream?: string | UpstreamOptions | Upstream
  /**
   * Serve OpenAI- and Anthropic-format clients from an InferenceRouter (`continuum-proxy/router`)
   * instead of one inference server. Mutually exclusive with `upstream`.
   * @default undefined
   */
  router?: GatewaySource
  /**
   * How the router gateway turns requests into router calls (caller id and classification headers).
   * Only with `router`.
   * @default {}
   */
  gateway?: GatewayOptions
  /**
   * Field keys: a Keyring, or options to build one. Without keys the proxy forwards plain traffic
   * only (useful behind another encryption layer, or for the scanner and audit alone).
   */
  keys?: Keyring | KeyringOptions
  /**
   * `required` refuses requests without field encryption on encrypted routes; `optional` forwards them as they are.
   * @default 'required' when keys are given, otherwise 'optional'
   */
  encryption?: 'required' | 'optional'
  /**
   * The protocols served: a registry, or a list of adapters to build one from.
   * @default the built-in adapters (the middleware and the root `createProxy` supply them)
   */
  adapters?: AdapterRegistry | readonly ProtocolAdapter[]
  /**
   * What to do with a path no adapter serves: `reject` answers 501, `next` hands it to the next
   * handler of the framework.
   * @default 'reject'
   */
  unknownRoutes?: 'reject' | 'next'
  /**
   * Path prefixes forwarded untouched (no encryption, no schema) even though no adapter serves them, e.g. `['/metrics']`.
   * Like every path, a pass-through path must be in its one canonical form (no dot or empty
   * segments, no encoded dots, slashes or unreserved characters): anything else is refused with
   * 400 CONTINUUM_INVALID_PATH before routing, so no variant can reach an encrypted route upstream
   * in plaintext (see docs/security-operations.md).
   * @default []
   */
  passThrough?: string[]
  /**
   * Largest request body accepted, in bytes.
   * @default 10485760 (10 MiB)
   */
  bodyLimit?: number
  /**
   * Deepest nesting of arrays and objects accepted in a JSON request body (`{}` is 1); a deeper
   * body is refused with 400 CONTINUUM_JSON_TOO_DEEP before it is parsed.
   * @default 64
   */
  maxJsonDepth?: number
  /**
   * Longest silence between two chunks of a request body, in milliseconds; a stalled body is
   * answered 408 CONTINUUM_BODY_TIMEOUT and its connection closed. Also bounds pass-through uploads.
   * @default 15000
   */
  bodyIdleTimeoutMs?: number
  /**
   * Longest time to receive a whole JSON request body, in milliseconds (408 CONTINUUM_BODY_TIMEOUT).
   * Pass-through bodies are bounded by `bodyIdleTimeoutMs` only.
   * @default 60000
   */
  bodyTimeoutMs?: number
  /**
   * Largest JSON response the proxy buffers to re-encrypt, in bytes. Streams and plain routes are never buffered.
   * @default 67108864 (64 MiB)
   */
  responseLimit?: number
  /**
   * Accepted clock skew and nonce memory for replay protection, in milliseconds.
   * @default 300000
   */
  replayWindowMs?: number
  /**
   * Where replay nonces live; share a Redis-backed store across instances.
   * @default an in-process nonce window (about 22 to 43 bytes a nonce, measured in the proxy
   *   benchmark; each kept between twice and 8/3 times the replay window)
   */
  store?: StateStore
  /**
   * Most nonces the in-process replay memory holds. A nonce is never forgotten inside its window:
   * when this many are held, new encrypted requests get 503 CONTINUUM_REPLAY_CAPACITY_EXCEEDED
   * (retryable, with Retry-After) until the oldest expire. Size it above the peak rate of encrypted
   * requests times 8/3 of `replayWindowMs`. Unused with a `store`.
   * @default 1000000 (at most about 43 MB)
   */
  replayCapacity?: number
  /**
   * Cross-cutting stages around each exchange, outermost first: e.g. `telemetry`, `auditStage(...)`,
   * `scannerStage(...)`, `cacheStage(...)` from their entries, or your own {@link ProxyStage}.
   * Their `handler` endpoints are answered before the adapter routes.
   * @default []
   */
  stages?: readonly ProxyStage[]
  /**
   * More framework-neutral handlers answered before the adapter routes, in order: e.g. the CKKS
   * endpoints of `createFheHandler()` from `continuum-proxy/fhe`, or the router's `createHealthHandler()`.
   * @default []
   */
  handlers?: readonly CoreHandler[]
  /**
   * Time source.
   * @default systemClock
   */
  clock?: Clock
  /**
   * Receives content-free operational messages.
   * @default silentLogger
   */
  logger?: Logger
}

/** Options after normalisation. */
export interface ResolvedProxyOptions {
  readonly upstream: Upstream
  readonly keyring: Keyring | undefined
  readonly encryptionRequired: boolean
  readonly registry: AdapterRegistry
  readonly unknownRoutes: 'reject' | 'next'
  readonly passThrough: readonly string[]
  readonly bodyLimit: number
  /** How JSON request bodies are read: limit, depth and timeouts. */
  readonly bodyReading: BodyReadOptions
  readonly responseLimit: number
  readonly replayGuard: ReplayGuard
  readonly stages: readonly ProxyStage[]
  /** The stages' endpoints and the `handlers` option, chained; undefined when there are none. */
  readonly handler: CoreHandler | undefined
  readonly clock: Clock
  readonly logger: Logger
}

function invalid(message: string): ContinuumError {
  return new ContinuumError('CONTINUUM_INVALID_OPTIONS', `continuum-proxy: ${message}`)
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  const resolved = value ?? fallback
  if (!Number.isSafeInteger(resolved) || resolved <= 0) throw invalid(`${name} must be a positive integer`)
  return resolved
}

function resolveRegistry(adapters: ProxyOptions['adapters']): AdapterRegistry {
  if (adapters === undefined) throw invalid('adapters are required')
  if (Array.isArray(adapters)) return new AdapterRegistry(adapters)
  if (hasBrand(adapters, 'AdapterRegistry')) return adapters as AdapterRegistry
  throw invalid('adapters must be an AdapterRegistry or a list of adapters')
}

function resolveUpstream(options: ProxyOptions, clock: Clock): Upstream {
  if (options.upstream === undefined && options.router === undefined)
    throw invalid('upstream (or router) is required')
  if (options.upstream !== undefined && options.router !== undefined) {
    throw invalid('give either upstream or router, not both')
  }
  if (options.router !== undefined) {
    if (!isGatewaySource(options.router)) throw invalid('router must be an InferenceRouter')
    return options.router.gatewayUpstream({ clock, ...options.gateway })
  }
  if (options.gateway !== undefined) throw invalid('gateway options need a router')
  return isUpstream(options.upstream) ? options.upstream : createHttpUpstream(options.upstream!)
}

function resolveStages(stages: ProxyOptions['stages']): readonly ProxyStage[] {
  const list = stages ?? []
  if (!Array.isArray(list)) throw invalid('stages must be a list of ProxyStage objects')
  for (const stage of list) {
    const named = typeof stage === 'object' && stage !== null && typeof stage.name === 'string'
    const hooked =
      named &&
      (typeof stage.wrapExchange === 'function' ||
        typeof stage.wrapAccepted === 'function' ||
        typeof stage.wrapUpstream === 'function' ||
        typeof stage.handler === 'function')
    if (!hooked) throw invalid('each stage needs a name and at least one hook or handler')
  }
  return Object.freeze([...list])
}

function resolveHandler(
  stages: readonly ProxyStage[],
  extra: ProxyOptions['handlers'],
): CoreHandler | undefined {
  const handlers = extra ?? []
  if (!Array.isArray(handlers) || handlers.some((handler) => typeof handler !== 'function')) {
    throw invalid('handlers must be a list of CoreHandler functions')
  }
  const all = [
    ...stages.flatMap((stage) => (stage.handler === undefined ? [] : [stage.handler])),
    ...handlers,
  ]
  return all.length === 0 ? undefined : all.length === 1 ? all[0] : chainHandlers(...all)
}

/** Validates and normalises proxy options. */
export function resolveProxyOptions(options: ProxyOptions): ResolvedProxyOptions {
  if (typeof options !== 'object' || options === null) throw invalid('options are required')
  const clock = options.clock ?? systemClock
  const keyring =
    options.keys === undefined
      ? undefined
      : hasBrand(options.keys, 'Keyring')
        ? (options.keys as Keyring)
        : new KeyringClass({ clock, ...(options.keys as KeyringOptions) })
  const encryption = options.encryption ?? (keyring === undefined ? 'optional' : 'required')
  if (encryption !== 'required' && encryption !== 'optional') {
    throw invalid("encryption must be 'required' or 'optional'")
  }
  if (encryption === 'required' && keyring === undefined) throw invalid("encryption 'required' needs keys")
  const unknownRoutes = options.unknownRoutes ?? 'reject'
  if (unknownRoutes !== 'reject' && unknownRoutes !== 'next') {
    throw invalid("unknownRoutes must be 'reject' or 'next'")
  }
  const passThrough = options.passThrough ?? []
  if (
    !Array.isArray(passThrough) ||
    passThrough.some((prefix) => typeof prefix !== 'string' || !prefix.startsWith('/'))
  ) {
    throw invalid('passThrough must be a list of paths starting with "/"')
  }
  const stages = resolveStages(options.stages)
  const registry = resolveRegistry(options.adapters)
  const bodyLimit = positiveInteger(options.bodyLimit, 10 * 1024 * 1024, 'bodyLimit')
  const responseLimit = positiveInteger(options.responseLimit, 64 * 1024 * 1024, 'responseLimit')
  const bodyReading: BodyReadOptions = {
    limit: bodyLimit,
    maxDepth: positiveInteger(options.maxJsonDepth, 64, 'maxJsonDepth'),
    idleTimeoutMs: positiveInteger(options.bodyIdleTimeoutMs, 15_000, 'bodyIdleTimeoutMs'),
    totalTimeoutMs: positiveInteger(options.bodyTimeoutMs, 60_000, 'bodyTimeoutMs'),
  }
  const logger = options.logger ?? silentLogger
  const replayGuard = new ReplayGuard({
    ...(options.store === undefined ? {} : { store: options.store }),
    clock,
    logger,
    ...(options.replayWindowMs === undefined ? {} : { windowMs: options.replayWindowMs }),
    ...(options.replayCapacity === undefined ? {} : { capacity: options.replayCapacity }),
  })
  const handler = resolveHandler(stages, options.handlers)
  // Last: the upstream may open a connection pool, which a later validation error would leak.
  return {
    upstream: resolveUpstream(options, clock),
    keyring,
    encryptionRequired: encryption === 'required',
    registry,
    unknownRoutes,
    passThrough,
    bodyLimit,
    bodyReading,
    responseLimit,
    replayGuard,
    stages,
    handler,
    clock,
    logger,
  }
}
