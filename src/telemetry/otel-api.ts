/**
 * `@opentelemetry/api` is an optional peer dependency: importing it statically would make the whole
 * package fail to load where it is not installed. It is required lazily, once, the first time a
 * Telemetry instance traces; without it tracing is off and metrics still work. Two copies of the API
 * share the global tracer provider by design, so this copy sees the application's provider.
 */
import { createRequire } from 'node:module'
import type * as OpenTelemetryModule from '@opentelemetry/api'

/** The `@opentelemetry/api` module. */
export type OpenTelemetryApi = typeof OpenTelemetryModule

let loaded: OpenTelemetryApi | null | undefined

/** Returns `@opentelemetry/api`, or undefined when the application does not have it. */
export function loadOpenTelemetryApi(): OpenTelemetryApi | undefined {
  if (loaded === undefined) {
    try {
      loaded = createRequire(import.meta.url)('@opentelemetry/api') as OpenTelemetryApi
    } catch {
      loaded = null
    }
  }
  return loaded ?? undefined
}
