/**
 * Options of the proxy core, normalised once: the upstream, the keyring, the adapter registry,
 * limits, replay window and stages are all resolved at construction so the per-request path only
 * reads precomputed values. The core takes features as stages and upstreams; it builds none of
 * them itself (`continuum-proxy/scanner`, `/audit`, `/telemetry` and `/cache` make the stages,
 * `continuum-proxy/router` the router). Every mistake is refused here with CONTINUUM_INVALID_OPTIONS
 * naming the option and what to write instead: an unknown or retired option name, a missing key
 * (an unset environment variable reads as `undefined`), an upstream URL that would double the
 * route's version segment.
 */

import { type Keyring, Keyring as KeyringClass, type KeyringOptions } from '../cipher/keyring'
import { ReplayGuard } from '../cipher/replay-guard'
import { type Clock, systemClock } from '../core/clock'
import { type CoreHandler, chainHandlers } from '../core/http'
import { type LogFields, type Logger, silentLogger } from '../core/logger'
import { ContinuumError } from '../errors'
import { hasBrand } from '../internal/brand'
import type { DeferredAdapter, ProtocolAdapter } from '../protocol/adapter'
import { AdapterRegistry } from '../protocol/registry'
import type { StateStore } from '../stores'
import type { BodyReadOptions } from './body-reader'
import { type GatewayOptions, type GatewaySource, isGatewaySource } from './gateway-source'
import { createHttpUpstream, type UpstreamOptions } from './http-upstream'
import type { ProxyStage } from './stage'
import { isUpstream, type Upstream } from './upstream'
import { checkUpstreamOption, describeUpstream } from './upstream-option'

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
   * The protocols served: a registry, or a list of adapters (or deferred adapters, loaded on first
   * use) to build one from. Only these claim routes. The Express, Koa and Fastify bindings also take built-in protocol names here
   * (`['openai', 'anthropic', 'tgi']`) and default to OpenAI and Anthropic.
   * @default required by `createProxy`; `['openai', 'anthropic']` in the bindings
   */
  adapters?: AdapterRegistry | readonly (ProtocolAdapter | DeferredAdapter)[]
  /**
   * What to do with a request the proxy does not serve (no adapter route, pass-through path,
   * stage endpoint or published key): `next` hands it to the host app untouched (Express and Koa
   * `next()`, Fastify's not-found handling; `handle()` resolves `undefined`), `reject` answers 501
   * CONTINUUM_ROUTE_NOT_SUPPORTED. With `next`, a path in a form some server could read as another
   * one (`/a/../v1/chat/completions`, `%2e`, `//`) is refused with 400 only when it could be read
   * as one of the proxy's paths; any other such path is the host app's.
   * @default 'next'
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
   * Receives content-free operational messages in pino's shape, `logger.info(fields, message)`:
   * a pino logger, Fastify's `fastify.log` or `console` fit as they are. The proxy logs one
   * start-up line (mode, protocols, upstream, key ids; never key material), unexpected failures,
   * and with `accessLog` a line per request.
   * @default silentLogger
   */
  logger?: Logger
  /**
   * Log one `info` line per request the proxy answers, after its last byte: method, route name
   * (never the raw path or query), status, error code, duration in milliseconds, response bytes,
   * key id and request id. Never content. Requests left to the host app are not logged.
   * The key id and request id are what the client sent (`x-continuum-key-id`; `x-request-id`, or
   * on plain and pass-through routes the upstream's when it answers one), also on refused requests:
   * claims, not verified identities. Each is logged only in its expected shape (a key id of 1–64
   * characters of `[A-Za-z0-9_-]`, a request id of 1–128 of `[A-Za-z0-9._:-]`) and left out
   * otherwise, never truncated. See docs/security-operations.md.
   * @default false
   */
  accessLog?: boolean
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
  readonly accessLog: boolean
  /**
   * Whether the pipeline writes its own refusals on an adapter route in the error shape of the
   * route's gateway codec (the router gateway, whose clients each read their dialect's shape).
   */
  readonly dialectErrors: boolean
  /** The content-free fields of the start-up line. */
  readonly startup: LogFields
}

function invalid(message: string): ContinuumError {
  return new ContinuumError('CONTINUUM_INVALID_OPTIONS', `continuum-proxy: ${message}`)
}

/** Every option by name: a new ProxyOptions field does not compile until it is listed here. */
const OPTION_NAMES: Record<keyof ProxyOptions, true> = {
  upstream: true,
  router: true,
  gateway: true,
  keys: true,
  encryption: true,
  adapters: true,
  unknownRoutes: true,
  passThrough: true,
  bodyLimit: true,
  maxJsonDepth: true,
  bodyIdleTimeoutMs: true,
  bodyTimeoutMs: true,
  responseLimit: true,
  replayWindowMs: true,
  store: true,
  replayCapacity: true,
  stages: true,
  handlers: true,
  clock: true,
  logger: true,
  accessLog: true,
}

/** Options of earlier releases, and what replaces each. */
const RETIRED_OPTIONS: Record<string, string> = {
  scanner: "pass stages: [new ScannerStage({ action: 'block' })] from 'continuum-proxy/scanner'",
  audit: "pass stages: [new AuditStage({ log })] from 'continuum-proxy/audit'",
  telemetry: "pass stages: [new Telemetry()] from 'continuum-proxy/telemetry'",
  cache: "pass stages: [new CacheStage()] from 'continuum-proxy/cache'",
  providerFactories: "build an InferenceRouter from 'continuum-proxy/router' and pass router",
}

/** Refuses option names that are not options: a typo must not fall back to a default silently. */
function checkOptionNames(options: object): void {
  for (const name of Object.keys(options)) {
    if (Object.hasOwn(OPTION_NAMES, name)) continue
    const replacement = RETIRED_OPTIONS[name]
    if (replacement !== undefined) throw invalid(`the ${name} option was replaced: ${replacement}`)
    throw invalid(`${name} is not an option (see ProxyOptions, or docs/proxy-configuration.md)`)
  }
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  const resolved = value ?? fallback
  if (!Number.isSafeInteger(resolved) || resolved <= 0) throw invalid(`${name} must be a positive integer`)
  return resolved
}

function resolveRegistry(adapters: ProxyOptions['adapters']): AdapterRegistry {
  if (adapters === undefined) {
    throw invalid(
      "adapters are required: pass the protocols to serve, e.g. adapters: [openaiAdapter] from 'continuum-proxy/adapters' (the Express, Koa and Fastify bindings default to OpenAI and Anthropic)",
    )
  }
  if (Array.isArray(adapters)) {
    const named = adapters.find((adapter) => typeof adapter === 'string')
    if (named !== undefined) {
      throw invalid(
        `adapters: "${named}" is a protocol name, which the Express, Koa and Fastify bindings resolve; createProxy takes adapter objects from 'continuum-proxy/adapters'`,
      )
    }
    return new AdapterRegistry(adapters)
  }
  if (hasBrand(adapters, 'AdapterRegistry')) return adapters as AdapterRegistry
  throw invalid('adapters must be an AdapterRegistry or a list of adapters')
}

/** Catches the usual shapes of a misplaced key before the Keyring sees them. */
function resolveKeyring(keys: ProxyOptions['keys'], clock: Clock): Keyring | undefined {
  if (keys === undefined) return undefined
  if (hasBrand(keys, 'Keyring')) return keys as Keyring
  if (Array.isArray(keys)) {
    throw invalid(
      'keys takes { keys: [{ id, key }] } or { agreementKeys: [{ id, privateKey }] }, not a list: wrap it as keys: { keys: [...] }',
    )
  }
  if (typeof keys !== 'object' || keys === null) {
    throw invalid(
      'keys must be { keys: [{ id, key }] }, { agreementKeys: [{ id, privateKey }] }, or a Keyring',
    )
  }
  const given = keys as Record<string, unknown>
  if ('key' in given || 'id' in given || 'privateKey' in given) {
    throw invalid(
      'keys holds a key where a list of keys belongs: write keys: { keys: [{ id, key }] } (or agreementKeys: [{ id, privateKey }])',
    )
  }
  return new KeyringClass({ clock, ...(keys as KeyringOptions) })
}

/** Key ids for the start-up line: names only, never material. */
function keyIdsOf(keys: ProxyOptions['keys'], keyring: Keyring | undefined): LogFields {
  if (keyring === undefined) return {}
  if (hasBrand(keys, 'Keyring')) {
    return {
      keyIds: keyring.primary?.id,
      agreementKeyIds: keyring.published()?.keyId,
    }
  }
  const options = keys as KeyringOptions
  const ids = (list: readonly { id: string }[] | undefined) =>
    list === undefined || list.length === 0 ? undefined : list.map((entry) => entry.id).join(',')
  return { keyIds: ids(options.keys), agreementKeyIds: ids(options.agreementKeys) }
}

function resolveUpstream(options: ProxyOptions, clock: Clock): Upstream {
  if (options.upstream === undefined && options.router === undefined) {
    throw invalid(
      "upstream is required: the inference server's base URL, e.g. upstream: 'http://127.0.0.1:8000' (or router: an InferenceRouter for the gateway)",
    )
  }
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
  checkOptionNames(options)
  if (options.upstream !== undefined) checkUpstreamOption(options.upstream)
  const clock = options.clock ?? systemClock
  const keyring = resolveKeyring(options.keys, clock)
  const encryption = options.encryption ?? (keyring === undefined ? 'optional' : 'required')
  if (encryption !== 'required' && encryption !== 'optional') {
    throw invalid("encryption must be 'required' or 'optional'")
  }
  if (encryption === 'required' && keyring === undefined) {
    throw invalid(
      "encryption 'required' needs keys: give keys: { keys: [{ id, key }] } (make one with `npx continuum-proxy keygen field`)",
    )
  }
  if (options.accessLog !== undefined && typeof options.accessLog !== 'boolean') {
    throw invalid('accessLog must be true or false')
  }
  const logger = options.logger ?? silentLogger
  if (
    typeof logger !== 'object' ||
    logger === null ||
    (['debug', 'info', 'warn', 'error'] as const).some((level) => typeof logger[level] !== 'function')
  ) {
    throw invalid('logger needs debug, info, warn and error methods (pino, fastify.log and console fit)')
  }
  const unknownRoutes = options.unknownRoutes ?? 'next'
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
  const replayGuard = new ReplayGuard({
    ...(options.store === undefined ? {} : { store: options.store }),
    clock,
    logger,
    ...(options.replayWindowMs === undefined ? {} : { windowMs: options.replayWindowMs }),
    ...(options.replayCapacity === undefined ? {} : { capacity: options.replayCapacity }),
  })
  const handler = resolveHandler(stages, options.handlers)
  const startup: LogFields = {
    mode: options.router === undefined ? 'proxy' : 'gateway',
    protocols: registry.names.join(','),
    upstream:
      options.router !== undefined
        ? 'router'
        : options.upstream === undefined
          ? undefined
          : describeUpstream(options.upstream),
    encryption,
    ...keyIdsOf(options.keys, keyring),
    stages: stages.map((stage) => stage.name).join(',') || undefined,
    passThrough: passThrough.join(',') || undefined,
    unknownRoutes,
    accessLog: options.accessLog === true,
  }
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
    accessLog: options.accessLog === true,
    dialectErrors: options.router !== undefined,
    startup,
  }
}
