/**
 * prom-client is an optional peer dependency: the Prometheus metrics are the only part of the
 * package that needs it, and it brings @opentelemetry/api, bintrees and tdigest along (about a
 * third of an install), which a proxy without metrics should not carry. It is required lazily,
 * once, when the first Telemetry instance is built; construction is synchronous and prom-client is
 * CommonJS, so `require` serves both builds. Without it, a Telemetry instance fails to build with
 * CONTINUUM_DEPENDENCY_MISSING naming the package.
 */
import { createRequire } from 'node:module'
import type * as PromClientModule from 'prom-client'
import { ContinuumError } from '../errors'
import { isPackageNotFound } from '../internal/optional-dependency'

/** The `prom-client` module. */
export type PromClient = typeof PromClientModule

let loaded: PromClient | undefined

/**
 * Returns prom-client, or throws CONTINUUM_DEPENDENCY_MISSING when it is not installed. Any other
 * failure (a broken install) is rethrown as it is.
 */
export function promClient(): PromClient {
  if (loaded !== undefined) return loaded
  try {
    loaded = createRequire(import.meta.url)('prom-client') as PromClient
    return loaded
  } catch (error) {
    if (!isPackageNotFound(error, 'prom-client')) throw error
    throw new ContinuumError(
      'CONTINUUM_DEPENDENCY_MISSING',
      'Telemetry (the Prometheus metrics) needs the optional package prom-client, which is not installed: run npm install prom-client',
      { cause: error, details: { package: 'prom-client' } },
    )
  }
}

/** Whether `value` is a prom-client Registry of any copy of the package (no `instanceof`). */
export function isRegistry(value: unknown): value is PromClientModule.Registry {
  if (typeof value !== 'object' || value === null) return false
  const registry = value as Record<string, unknown>
  return ['registerMetric', 'metrics', 'getMetricsAsJSON', 'getSingleMetric'].every(
    (method) => typeof registry[method] === 'function',
  )
}
