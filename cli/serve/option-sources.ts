/**
 * Every option of every object `continuum-proxy serve` builds, and where in `continuum.toml` it
 * comes from. The maps are typed over `keyof` each options type (option-map.ts), so a new option
 * of ProxyOptions, KeyringOptions, TelemetryOptions and the rest does not compile until it has a
 * place here; pipeline.ts builds the objects from these maps, and the configuration reference is
 * generated from them and the sections (scripts/proxy-config-doc.ts).
 */

import type { ContinuumOptions } from '../../middleware/bound-proxy'
import type {
  AuditLog,
  AuditLogOptions,
  AuditStageOptions,
  FileAuditSinkOptions,
} from '../../src/audit/index'
import type { ResponseCacheOptions } from '../../src/cache/index'
import {
  fileKeySource,
  type GatewayOptions,
  type GatewaySource,
  type Keyring,
  type KeyringOptions,
  type KeyringReloaderOptions,
  type Logger,
  type ProxyStage,
  type StateStore,
  type UpstreamOptions,
} from '../../src/index'
import type { CreateRedisStateStoreOptions } from '../../src/redis/index'
import type { ScannerStageOptions } from '../../src/scanner/index'
import type { ReadinessCheck, TelemetryOptions } from '../../src/telemetry/index'
import { type OptionMap, readKey, type Table } from './option-map'

/** What the server has built by the time it builds the proxy options. */
export interface PipelineParts {
  readonly logger: Logger
  readonly keyring: Keyring | undefined
  readonly upstream: UpstreamOptions | undefined
  readonly router: GatewaySource | undefined
  readonly gateway: GatewayOptions | undefined
  readonly store: StateStore | undefined
  readonly stages: readonly ProxyStage[]
}

const CODE_CLOCK = { from: { code: 'the system clock' } }
const CODE_LOGGER = { code: 'the server logger ([log])' }

function table(document: Table, name: string): Table | undefined {
  return document[name] as Table | undefined
}

/** ProxyOptions (with protocols by name, as the bindings take them). */
export const PROXY_OPTIONS: OptionMap<ContinuumOptions, PipelineParts> = {
  upstream: { from: { section: 'upstream' }, value: (_document, parts) => parts.upstream },
  router: { from: { section: 'inference' }, value: (_document, parts) => parts.router },
  gateway: { from: { section: 'gateway' }, value: (_document, parts) => parts.gateway },
  keys: { from: { section: 'keys' }, value: (_document, parts) => parts.keyring },
  encryption: { from: { key: 'proxy.encryption' } },
  adapters: { from: { key: 'proxy.adapters' } },
  unknownRoutes: {
    from: { key: 'proxy.unknown_routes' },
    value: (document) =>
      (readKey(document, 'proxy.unknown_routes') as 'reject' | 'next' | undefined) ?? 'reject',
  },
  passThrough: { from: { key: 'proxy.pass_through' } },
  bodyLimit: { from: { key: 'proxy.body_limit' } },
  maxJsonDepth: { from: { key: 'proxy.max_json_depth' } },
  bodyIdleTimeoutMs: { from: { key: 'proxy.body_idle_timeout_ms' } },
  bodyTimeoutMs: { from: { key: 'proxy.body_timeout_ms' } },
  responseLimit: { from: { key: 'proxy.response_limit' } },
  replayWindowMs: { from: { key: 'proxy.replay_window_ms' } },
  store: { from: { section: 'store' }, value: (_document, parts) => parts.store },
  replayCapacity: { from: { key: 'proxy.replay_capacity' } },
  stages: {
    from: { sections: ['telemetry', 'audit', 'scanner', 'cache'] },
    value: (_document, parts) => parts.stages,
  },
  handlers: {
    from: {
      code: 'functions (the FHE endpoints, a router health handler): embed the middleware in an app to add them',
    },
  },
  clock: CODE_CLOCK,
  logger: { from: { section: 'log' }, value: (_document, parts) => parts.logger },
  accessLog: { from: { key: 'log.access' } },
}

/** KeyringOptions, from [keys]. */
export const KEYRING_OPTIONS: OptionMap<KeyringOptions, undefined> = {
  keys: {
    from: { key: 'keys.keys' },
    value: (document) =>
      (readKey(document, 'keys.keys') as { id: string; key: string }[] | undefined)?.map(({ id, key }) => ({
        id,
        key,
      })),
  },
  agreementKeys: {
    from: { key: 'keys.agreement_keys' },
    value: (document) =>
      (readKey(document, 'keys.agreement_keys') as { id: string; private_key: string }[] | undefined)?.map(
        (entry) => ({ id: entry.id, privateKey: entry.private_key }),
      ),
  },
  primary: { from: { key: 'keys.primary' } },
  primaryAgreement: { from: { key: 'keys.primary_agreement' } },
  graceMs: { from: { key: 'keys.grace_ms' } },
  maxAgreedKeys: { from: { key: 'keys.max_agreed_keys' } },
  clock: CODE_CLOCK,
}

/** KeyringReloaderOptions, from [keys] with `schedule_file`. */
export const KEY_SCHEDULE_OPTIONS: OptionMap<KeyringReloaderOptions, { readonly logger: Logger }> = {
  source: {
    from: { key: 'keys.schedule_file' },
    value: (document) => {
      const path = readKey(document, 'keys.schedule_file') as string | undefined
      return path === undefined ? undefined : fileKeySource(path)
    },
  },
  intervalMs: { from: { key: 'keys.reload_interval_ms' } },
  graceMs: { from: { key: 'keys.grace_ms' } },
  clock: CODE_CLOCK,
  logger: { from: CODE_LOGGER, value: (_document, parts) => parts.logger },
}

/** UpstreamOptions, from [upstream]. */
export const UPSTREAM_OPTIONS: OptionMap<UpstreamOptions, undefined> = {
  url: { from: { key: 'upstream.url' } },
  socketPath: { from: { key: 'upstream.socket_path' } },
  dispatcher: { from: { code: 'an undici dispatcher object; the pool options below build one' } },
  connections: { from: { key: 'upstream.connections' } },
  connectTimeoutMs: { from: { key: 'upstream.connect_timeout_ms' } },
  headersTimeoutMs: { from: { key: 'upstream.headers_timeout_ms' } },
  bodyTimeoutMs: { from: { key: 'upstream.body_timeout_ms' } },
  headers: { from: { key: 'upstream.headers' } },
}

/** GatewayOptions, from [gateway]. */
export const GATEWAY_OPTIONS: OptionMap<GatewayOptions, undefined> = {
  callerIdHeader: { from: { key: 'gateway.caller_id_header' } },
  callerId: { from: { key: 'gateway.caller_id' } },
  classificationHeader: { from: { key: 'gateway.classification_header' } },
  closeRouter: {
    from: { code: 'the server owns the router it built and closes it with the proxy' },
    value: () => true,
  },
  clock: CODE_CLOCK,
}

/** What the Telemetry stage is built with besides the file. */
export interface TelemetryParts {
  readonly logger: Logger
  readonly readiness: Record<string, ReadinessCheck>
}

/** TelemetryOptions, from [telemetry]. */
export const TELEMETRY_OPTIONS: OptionMap<TelemetryOptions, TelemetryParts> = {
  tracing: { from: { key: 'telemetry.tracing' } },
  meterProvider: { from: { key: 'telemetry.otel_metrics' } },
  processMetrics: { from: { key: 'telemetry.process_metrics' } },
  registry: { from: { code: 'a prom-client Registry of the stage, served at metrics_path' } },
  metricsPath: { from: { key: 'telemetry.metrics_path' } },
  livenessPath: { from: { key: 'telemetry.liveness_path' } },
  readinessPath: { from: { key: 'telemetry.readiness_path' } },
  readiness: {
    from: { keys: ['telemetry.readiness_upstream_path', 'telemetry.readiness_cache_ms'] },
    value: (_document, parts) => parts.readiness,
  },
  readinessTimeoutMs: { from: { key: 'telemetry.readiness_timeout_ms' } },
  provider: { from: { key: 'telemetry.provider' } },
  models: { from: { key: 'telemetry.models' } },
  maxModelLabels: { from: { key: 'telemetry.max_model_labels' } },
  metricPrefix: { from: { key: 'telemetry.metric_prefix' } },
  latencyBuckets: { from: { key: 'telemetry.latency_buckets' } },
  enrichSpan: { from: { code: 'a function' } },
  clock: CODE_CLOCK,
  logger: { from: CODE_LOGGER, value: (_document, parts) => parts.logger },
}

/** FileAuditSinkOptions, from [audit]. */
export const AUDIT_SINK_OPTIONS: OptionMap<FileAuditSinkOptions, undefined> = {
  path: { from: { key: 'audit.path' } },
  fsync: { from: { key: 'audit.fsync' } },
  fileSystem: { from: { code: 'node:fs' } },
  clock: CODE_CLOCK,
}

/** What the AuditLog is built with besides the file. */
export interface AuditLogParts {
  readonly logger: Logger
  readonly sink: AuditLogOptions['sink']
}

/** AuditLogOptions, from [audit]. */
export const AUDIT_LOG_OPTIONS: OptionMap<AuditLogOptions, AuditLogParts> = {
  sink: { from: { keys: ['audit.path', 'audit.fsync'] }, value: (_document, parts) => parts.sink },
  privateKey: { from: { key: 'audit.private_key' } },
  maxQueue: { from: { key: 'audit.max_queue' } },
  overflow: { from: { key: 'audit.overflow' } },
  maxBatch: { from: { key: 'audit.max_batch' } },
  anchor: { from: { key: 'audit.anchor' } },
  maxFieldLength: { from: { key: 'audit.max_field_length' } },
  retryDelayMs: { from: { key: 'audit.retry_delay_ms' } },
  onDrop: { from: { code: 'drops are logged ([log], level warn)' } },
  onError: { from: { code: 'sink failures are logged ([log], level error)' } },
  clock: CODE_CLOCK,
  logger: { from: CODE_LOGGER, value: (_document, parts) => parts.logger },
}

/** AuditStageOptions, from [audit]. */
export const AUDIT_STAGE_OPTIONS: OptionMap<
  AuditStageOptions,
  { readonly logger: Logger; readonly log: AuditLog }
> = {
  log: { from: { section: 'audit' }, value: (_document, parts) => parts.log },
  identityHeader: { from: { key: 'audit.identity_header' } },
  identify: { from: { code: 'a function; identity_header names the caller' } },
  contentDigest: {
    from: { keys: ['audit.content_digest', 'audit.content_digest_key'] },
    value: (document) => {
      const audit = table(document, 'audit') ?? {}
      if (audit.content_digest === false) return false
      return audit.content_digest_key === undefined ? {} : { key: audit.content_digest_key as string }
    },
  },
  clock: CODE_CLOCK,
  logger: { from: CODE_LOGGER, value: (_document, parts) => parts.logger },
}

/** ScannerStageOptions, from [scanner]. */
export const SCANNER_OPTIONS: OptionMap<ScannerStageOptions, undefined> = {
  roles: { from: { key: 'scanner.roles' } },
  scanner: { from: { code: 'a PromptScanner object; the keys below build one' } },
  threshold: { from: { key: 'scanner.threshold' } },
  action: { from: { key: 'scanner.action' } },
  riskLevels: { from: { key: 'scanner.risk_levels' } },
  model: {
    from: { key: 'scanner.model' },
    value: (document) => (readKey(document, 'scanner.model') === false ? false : undefined),
  },
  decodePayloads: { from: { key: 'scanner.decode_payloads' } },
  warnHeader: { from: { key: 'scanner.warn_header' } },
}

/** ResponseCacheOptions, from [cache]. */
export const CACHE_OPTIONS: OptionMap<
  ResponseCacheOptions,
  { readonly logger: Logger; readonly store: StateStore | undefined }
> = {
  secret: { from: { key: 'cache.secret' } },
  ttlMs: { from: { key: 'cache.ttl_ms' } },
  maxBytes: { from: { key: 'cache.max_bytes' } },
  maxEntryBytes: { from: { key: 'cache.max_entry_bytes' } },
  scope: { from: { code: 'a function; scope_headers tells callers apart' } },
  scopeHeaders: { from: { key: 'cache.scope_headers' } },
  routes: { from: { key: 'cache.routes' } },
  cacheNonDeterministic: { from: { key: 'cache.cache_non_deterministic' } },
  onResult: { from: { code: 'a function; [telemetry] counts hits and misses' } },
  store: {
    from: { key: 'cache.shared' },
    value: (document, parts) => (readKey(document, 'cache.shared') === true ? parts.store : undefined),
  },
  localTtlMs: { from: { key: 'cache.local_ttl_ms' } },
  storeFailure: { from: { key: 'cache.store_failure' } },
  coalesce: {
    from: { keys: ['cache.coalesce', 'cache.coalesce_max_waiters', 'cache.coalesce_max_wait_ms'] },
    value: (document) => {
      if (readKey(document, 'cache.coalesce') === false) return false
      const maxWaiters = readKey(document, 'cache.coalesce_max_waiters') as number | undefined
      const maxWaitMs = readKey(document, 'cache.coalesce_max_wait_ms') as number | undefined
      if (maxWaiters === undefined && maxWaitMs === undefined) return undefined
      return {
        ...(maxWaiters === undefined ? {} : { maxWaiters }),
        ...(maxWaitMs === undefined ? {} : { maxWaitMs }),
      }
    },
  },
  clock: CODE_CLOCK,
  logger: { from: CODE_LOGGER, value: (_document, parts) => parts.logger },
}

/** CreateRedisStateStoreOptions, from [store]. */
export const STORE_OPTIONS: OptionMap<CreateRedisStateStoreOptions, { readonly logger: Logger }> = {
  connection: {
    from: { keys: ['store.url', 'store.cluster_nodes'] },
    value: (document) => {
      const store = table(document, 'store') ?? {}
      if (store.url !== undefined) return { url: store.url as string }
      return { cluster: { rootNodes: store.cluster_nodes as string[] } }
    },
  },
  prefix: { from: { key: 'store.prefix' } },
  timeoutMs: { from: { key: 'store.timeout_ms' } },
  connectTimeoutMs: { from: { key: 'store.connect_timeout_ms' } },
  maxReconnectDelayMs: { from: { key: 'store.max_reconnect_delay_ms' } },
  logger: { from: CODE_LOGGER, value: (_document, parts) => parts.logger },
  clock: CODE_CLOCK,
  onFailure: { from: { code: 'a function; failures are logged' } },
}

/** Every map, with the type it builds, in the order of the reference. */
export const OPTION_MAPS: readonly { readonly type: string; readonly map: OptionMap<object, never> }[] = [
  { type: 'ProxyOptions', map: PROXY_OPTIONS },
  { type: 'UpstreamOptions', map: UPSTREAM_OPTIONS },
  { type: 'KeyringOptions', map: KEYRING_OPTIONS },
  { type: 'KeyringReloaderOptions', map: KEY_SCHEDULE_OPTIONS },
  { type: 'GatewayOptions', map: GATEWAY_OPTIONS },
  { type: 'TelemetryOptions', map: TELEMETRY_OPTIONS },
  { type: 'AuditStageOptions', map: AUDIT_STAGE_OPTIONS },
  { type: 'AuditLogOptions', map: AUDIT_LOG_OPTIONS },
  { type: 'FileAuditSinkOptions', map: AUDIT_SINK_OPTIONS },
  { type: 'ScannerStageOptions', map: SCANNER_OPTIONS },
  { type: 'ResponseCacheOptions', map: CACHE_OPTIONS },
  { type: 'CreateRedisStateStoreOptions', map: STORE_OPTIONS },
] as never

/** Keys the server reads itself, for no library option. */
export const SERVER_KEYS: readonly string[] = [
  'server.listen',
  'server.socket_mode',
  'server.shutdown_timeout_ms',
  'server.keep_alive_timeout_ms',
  'server.headers_timeout_ms',
  'server.request_timeout_ms',
  'log.level',
  'keys.retired',
]
