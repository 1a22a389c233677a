/**
 * Builds the pipeline a configuration describes, the same one the middleware runs: the keyring,
 * the upstream or the router (gateway mode, `[inference]` through `loadRouterConfig` with the
 * built-in provider types), the Redis store, the stages in their order (telemetry, audit,
 * scanner, cache: outermost first), then the proxy, every object from its option map. A failure
 * part-way closes what was already built, so a bad configuration leaks no pool, file or socket.
 */
import { Agent } from 'undici'
import { builtinProviderTypes } from '../../adapters/providers'
import { createBoundProxy } from '../../middleware/bound-proxy'
import { AuditLog, AuditStage, FileAuditSink } from '../../src/audit/index'
import { CacheStage } from '../../src/cache/index'
import {
  type ContinuumProxy,
  type GatewayOptions,
  Keyring,
  KeyringReloader,
  type Logger,
  type ProxyStage,
  type StateStore,
  type UpstreamOptions,
} from '../../src/index'
import { InferenceRouter, loadRouterConfig } from '../../src/router/index'
import { ScannerStage } from '../../src/scanner/index'
import {
  httpReadinessCheck,
  type ReadinessCheck,
  routerReadinessCheck,
  Telemetry,
} from '../../src/telemetry/index'
import type { ServeConfigSources } from './load-serve-config'
import { buildOptions, type Table } from './option-map'
import {
  AUDIT_LOG_OPTIONS,
  AUDIT_SINK_OPTIONS,
  AUDIT_STAGE_OPTIONS,
  CACHE_OPTIONS,
  GATEWAY_OPTIONS,
  KEY_SCHEDULE_OPTIONS,
  KEYRING_OPTIONS,
  PROXY_OPTIONS,
  SCANNER_OPTIONS,
  STORE_OPTIONS,
  TELEMETRY_OPTIONS,
  UPSTREAM_OPTIONS,
} from './option-sources'

/** A built pipeline. */
export interface Pipeline {
  readonly mode: 'proxy' | 'gateway'
  readonly proxy: ContinuumProxy
  /** The keyring the proxy uses, for key reload; undefined without [keys]. */
  readonly keyring: Keyring | undefined
  /** With `keys.schedule_file`: the reloader the keyring follows (SIGHUP reads it at once). */
  readonly schedule: KeyringReloader | undefined
  /** Closes the proxy (and the router), flushes the audit log, closes the store. */
  close(): Promise<void>
}

/** Builds the keyring of a resolved [keys] section, with its `retired` ids refused. */
export function buildKeyring(document: Table): Keyring | undefined {
  if (document.keys === undefined) return undefined
  const keyring = new Keyring(buildOptions(KEYRING_OPTIONS, document, undefined))
  for (const id of ((document.keys as Table).retired as string[] | undefined) ?? []) keyring.retire(id)
  return keyring
}

function readinessChecks(
  document: Table,
  upstream: UpstreamOptions | undefined,
  router: InferenceRouter | undefined,
) {
  const checks: Record<string, ReadinessCheck> = {}
  if (router !== undefined) checks.router = routerReadinessCheck(router)
  const telemetry = (document.telemetry as Table | undefined) ?? {}
  const path = telemetry.readiness_upstream_path as string | undefined
  if (upstream !== undefined && path !== undefined) {
    const base = (upstream.url ?? 'http://localhost').replace(/\/$/, '')
    const cacheMs = telemetry.readiness_cache_ms as number | undefined
    const timeoutMs = telemetry.readiness_timeout_ms as number | undefined
    checks.upstream = httpReadinessCheck(`${base}${path}`, {
      ...(cacheMs === undefined ? {} : { cacheMs }),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
      ...(upstream.socketPath === undefined
        ? {}
        : { dispatcher: new Agent({ connect: { socketPath: upstream.socketPath } }) }),
      ...(upstream.headers === undefined ? {} : { headers: upstream.headers }),
    })
  }
  return checks
}

/** Builds every part; see the module comment. */
export async function buildPipeline(
  document: Table,
  logger: Logger,
  sources: ServeConfigSources,
): Promise<Pipeline> {
  /** What to close, in the order it was built; closed in reverse. */
  const closers: (() => Promise<void>)[] = []
  const closeAll = async (): Promise<void> => {
    for (const close of [...closers].reverse()) await close().catch(() => undefined)
  }
  try {
    let keyring: Keyring | undefined
    let schedule: KeyringReloader | undefined
    if ((document.keys as Table | undefined)?.schedule_file !== undefined) {
      const reloader = await KeyringReloader.start(buildOptions(KEY_SCHEDULE_OPTIONS, document, { logger }))
      schedule = reloader
      keyring = reloader.keyring
      closers.push(async () => reloader.close())
      for (const id of ((document.keys as Table).retired as string[] | undefined) ?? []) keyring.retire(id)
    } else keyring = buildKeyring(document)
    const upstream =
      document.upstream === undefined ? undefined : buildOptions(UPSTREAM_OPTIONS, document, undefined)
    let router: InferenceRouter | undefined
    let routerOwned = false
    let gateway: GatewayOptions | undefined
    if (document.inference !== undefined) {
      const routerOptions = await loadRouterConfig(
        { inference: document.inference },
        { providerTypes: builtinProviderTypes(), env: sources.env, readFile: sources.readFile, logger },
      )
      const built = new InferenceRouter(routerOptions)
      router = built
      // Until the proxy owns it (closeRouter), a failure below closes it here.
      closers.push(async () => {
        if (!routerOwned) await built.close()
      })
      gateway = buildOptions(GATEWAY_OPTIONS, document, undefined)
    }
    let store: StateStore | undefined
    if (document.store !== undefined) {
      // Loaded only when configured: it needs the optional `redis` package.
      const { createRedisStateStore } = await import('../../src/redis/index')
      const built = await createRedisStateStore(buildOptions(STORE_OPTIONS, document, { logger }))
      store = built
      closers.push(() => built.close())
    }
    const stages: ProxyStage[] = []
    if (document.telemetry !== undefined) {
      const readiness = readinessChecks(document, upstream, router)
      stages.push(new Telemetry(buildOptions(TELEMETRY_OPTIONS, document, { logger, readiness })))
    }
    if (document.audit !== undefined) {
      const sink = new FileAuditSink(buildOptions(AUDIT_SINK_OPTIONS, document, undefined))
      const log = new AuditLog(buildOptions(AUDIT_LOG_OPTIONS, document, { logger, sink }))
      closers.push(() => log.close())
      stages.push(new AuditStage(buildOptions(AUDIT_STAGE_OPTIONS, document, { logger, log })))
    }
    if (document.scanner !== undefined)
      stages.push(new ScannerStage(buildOptions(SCANNER_OPTIONS, document, undefined)))
    if (document.cache !== undefined)
      stages.push(new CacheStage(buildOptions(CACHE_OPTIONS, document, { logger, store })))
    const proxy = createBoundProxy(
      buildOptions(PROXY_OPTIONS, document, { logger, keyring, upstream, router, gateway, store, stages }),
    )
    // Closed first (in-flight exchanges end before the audit log flushes); it closes the router.
    routerOwned = true
    closers.push(() => proxy.close())
    return {
      mode: router === undefined ? 'proxy' : 'gateway',
      proxy,
      keyring,
      schedule,
      close: closeAll,
    }
  } catch (error) {
    await closeAll()
    throw error
  }
}
