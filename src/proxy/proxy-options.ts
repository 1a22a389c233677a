/**
 * Options of the proxy core, normalised once: the upstream pool, the keyring, the adapter
 * registry, limits and replay window are all resolved at construction so the per-request path
 * only reads precomputed values.
 */

import { AuditLog } from '../audit'
import { AuditStage, type AuditStageOptions } from '../audit/audit-stage'
import type { ResponseCache, ResponseCacheOptions } from '../cache'
import { withResponseCache } from '../cache/proxy-cache'
import { type Keyring, Keyring as KeyringClass, type KeyringOptions } from '../cipher/keyring'
import { ReplayGuard } from '../cipher/replay-guard'
import { type Clock, systemClock } from '../core/clock'
import { type CoreHandler, chainHandlers } from '../core/http'
import { type Logger, silentLogger } from '../core/logger'
import { ContinuumError } from '../errors'
import type { AdapterRegistry } from '../protocol/registry'
import { createRouterUpstream } from '../router/gateway/router-upstream'
import type { InferenceRouter } from '../router/inference-router'
import type { PromptScanner, PromptScannerOptions } from '../scanner'
import { ScannerStage } from '../scanner/scanner-stage'
import type { StateStore } from '../stores'
import { Telemetry } from '../telemetry/telemetry'
import type { TelemetryOptions } from '../telemetry/telemetry-options'
import { type ExchangeObserver, observerOf, type ProxyStage } from './stage'
import { createUpstream, type Upstream, type UpstreamOptions } from './upstream'

/** Options of {@link createProxy} and of the Express, Koa and Fastify middleware. */
export interface ProxyOptions {
  /**
   * The inference server: a URL string, options with a Unix socket, timeouts and pool size, or a
   * ready `Upstream` object (anything with a `send` function, e.g. `createRouterUpstream(router)`).
   * Give exactly one of `upstream` and `router`.
   */
  upstream?: string | UpstreamOptions | Upstream
  /**
   * Serve OpenAI- and Anthropic-format clients from an InferenceRouter instead of one inference
   * server: shorthand for `upstream: createRouterUpstream(router)`. Mutually exclusive with `upstream`.
   * @default undefined
   */
  router?: InferenceRouter
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
   * The protocols served.
   * @default a registry with the built-in adapters (OpenAI, Anthropic, Triton, TGI, Ollama)
   */
  adapters?: AdapterRegistry
  /**
   * What to do with a path no adapter serves: `reject` answers 501, `next` hands it to the next
   * handler of the framework.
   * @default 'reject'
   */
  unknownRoutes?: 'reject' | 'next'
  /**
   * Path prefixes forwarded untouched (no encryption, no schema) even though no adapter serves them, e.g. `['/metrics']`.
   * @default []
   */
  passThrough?: string[]
  /**
   * Largest request body accepted, in bytes.
   * @default 10485760 (10 MiB)
   */
  bodyLimit?: number
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
   * @default an in-process nonce window (about 60 bytes a nonce, kept for twice the replay window)
   */
  store?: StateStore
  /**
   * Cross-cutting stages (scanner, audit, telemetry, cache) run around each encrypted exchange.
   * @default []
   */
  stages?: ProxyStage[]
  /**
   * Prompt-injection scanning before anything is forwarded: a PromptScanner, or its options (roles,
   * threshold, action `block` | `warn` | `log`). Runs before the other stages.
   * @default undefined (no scanning)
   */
  scanner?: PromptScanner | PromptScannerOptions
  /**
   * One signed audit record per request outcome: an AuditLog, or the audit stage's options (caller
   * identity, content digest). Runs after the other stages, so it sees their annotations.
   * @default undefined (no audit)
   */
  audit?: AuditLog | AuditStageOptions
  /**
   * OpenTelemetry spans, Prometheus metrics at `/metrics`, and `/livez` and `/readyz`: a Telemetry
   * (to share it with a router), its options, or `false`. The endpoints answer before the adapter routes.
   * @default false
   */
  telemetry?: Telemetry | TelemetryOptions | false
  /**
   * Encrypted response cache in front of the upstream (or router): a ResponseCache (to share or
   * inspect it), its options, or `false`. Deterministic requests on inference routes are answered
   * from AES-GCM-encrypted entries keyed by an HMAC of content and caller scope, and re-encrypted
   * under each requester's nonce; `cache-control: no-store` opts a request out. Hits and misses
   * count in the telemetry's `cache_requests_total`.
   * @default false
   */
  cache?: ResponseCache | ResponseCacheOptions | false
  /**
   * More framework-neutral handlers answered before the adapter routes, in order: e.g. the CKKS
   * endpoints of `createFheHandler()` from `continuum-proxy/fhe`, or the router's `createHealthHandler()`.
   * @default []
   */
  handlers?: CoreHandler[]
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
  readonly responseLimit: number
  readonly replayGuard: ReplayGuard
  /** Every stage: telemetry, scanner, the `stages` option, audit, in that order. */
  readonly stages: readonly ProxyStage[]
  /** The stages' `observe` hooks joined; undefined when none observes. */
  readonly observer: ExchangeObserver | undefined
  readonly telemetry: Telemetry | undefined
  /** Handlers answered before the adapter routes (the telemetry endpoints). */
  readonly handler: CoreHandler | undefined
  readonly clock: Clock
  readonly logger: Logger
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  const resolved = value ?? fallback
  if (!Number.isSafeInteger(resolved) || resolved <= 0) {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', `${name} must be a positive integer`)
  }
  return resolved
}

/** Validates and normalises proxy options; `defaultRegistry` supplies the built-in adapters. */
export function resolveProxyOptions(
  options: ProxyOptions,
  defaultRegistry: () => AdapterRegistry,
): ResolvedProxyOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'continuum-proxy: options are required')
  }
  if (options.upstream === undefined && options.router === undefined) {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'continuum-proxy: upstream (or router) is required')
  }
  if (options.upstream !== undefined && options.router !== undefined) {
    throw new ContinuumError(
      'CONTINUUM_INVALID_OPTIONS',
      'continuum-proxy: give either upstream or router, not both',
    )
  }
  const clock = options.clock ?? systemClock
  const keyring =
    options.keys === undefined
      ? undefined
      : options.keys instanceof KeyringClass
        ? options.keys
        : new KeyringClass({ clock, ...options.keys })
  const encryption = options.encryption ?? (keyring === undefined ? 'optional' : 'required')
  if (encryption !== 'required' && encryption !== 'optional') {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', "encryption must be 'required' or 'optional'")
  }
  if (encryption === 'required' && keyring === undefined) {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', "encryption 'required' needs keys")
  }
  const unknownRoutes = options.unknownRoutes ?? 'reject'
  if (unknownRoutes !== 'reject' && unknownRoutes !== 'next') {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', "unknownRoutes must be 'reject' or 'next'")
  }
  const passThrough = options.passThrough ?? []
  if (
    !Array.isArray(passThrough) ||
    passThrough.some((prefix) => typeof prefix !== 'string' || !prefix.startsWith('/'))
  ) {
    throw new ContinuumError(
      'CONTINUUM_INVALID_OPTIONS',
      'passThrough must be a list of paths starting with "/"',
    )
  }
  const logger = options.logger ?? silentLogger
  const stages = resolveStages(options, clock, logger)
  const registry = options.adapters ?? defaultRegistry()
  return {
    ...stages,
    upstream: withResponseCache(resolveUpstream(options), options.cache, stages.telemetry, {
      clock,
      logger,
      adapters: registry,
    }),
    keyring,
    encryptionRequired: encryption === 'required',
    registry,
    unknownRoutes,
    passThrough,
    bodyLimit: positiveInteger(options.bodyLimit, 10 * 1024 * 1024, 'bodyLimit'),
    responseLimit: positiveInteger(options.responseLimit, 64 * 1024 * 1024, 'responseLimit'),
    replayGuard: new ReplayGuard({
      ...(options.store === undefined ? {} : { store: options.store }),
      clock,
      ...(options.replayWindowMs === undefined ? {} : { windowMs: options.replayWindowMs }),
    }),
    clock,
    logger,
  }
}

/** The upstream of the options: a ready Upstream object passes through unchanged. */
function resolveUpstream(options: ProxyOptions): Upstream {
  if (options.router !== undefined) return createRouterUpstream(options.router)
  const upstream = options.upstream!
  if (
    typeof upstream === 'object' &&
    upstream !== null &&
    typeof (upstream as Upstream).send === 'function'
  ) {
    return upstream as Upstream
  }
  return createUpstream(upstream as string | UpstreamOptions)
}

/** Builds the stage list and the observer from the scanner, audit, telemetry and stages options. */
function resolveStages(
  options: ProxyOptions,
  clock: Clock,
  logger: Logger,
): Pick<ResolvedProxyOptions, 'stages' | 'observer' | 'telemetry' | 'handler'> {
  const extra = options.stages ?? []
  if (!Array.isArray(extra) || extra.some((stage) => typeof stage?.name !== 'string')) {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'stages must be a list of ProxyStage objects')
  }
  const telemetry =
    options.telemetry === undefined || options.telemetry === false
      ? undefined
      : options.telemetry instanceof Telemetry
        ? options.telemetry
        : new Telemetry({ clock, logger, ...options.telemetry })
  const stages: ProxyStage[] = [
    ...(telemetry === undefined ? [] : [telemetry]),
    ...(options.scanner === undefined ? [] : [new ScannerStage(options.scanner)]),
    ...extra,
    ...(options.audit === undefined
      ? []
      : [
          new AuditStage(
            options.audit instanceof AuditLog
              ? { log: options.audit, clock, logger }
              : { clock, logger, ...options.audit },
          ),
        ]),
  ]
  const extraHandlers = options.handlers ?? []
  if (!Array.isArray(extraHandlers) || extraHandlers.some((handler) => typeof handler !== 'function')) {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'handlers must be a list of CoreHandler functions')
  }
  const handlers = [...(telemetry === undefined ? [] : [telemetry.handler]), ...extraHandlers]
  const handler =
    handlers.length === 0 ? undefined : handlers.length === 1 ? handlers[0] : chainHandlers(...handlers)
  return { stages, observer: observerOf(stages, logger), telemetry, handler }
}
