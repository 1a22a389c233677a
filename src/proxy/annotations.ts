/**
 * Well-known annotations: what one stage leaves on `exchange.annotations` for the others, as a
 * contract between stages so that none needs to know another. The scanner leaves its decision
 * (action, risk, score, indicator family names; never text) for audit and telemetry; the cache
 * leaves whether it answered, for the metrics.
 */
import type { ReceivedExchange } from './exchange'

/** Key of the scanner's annotation in `exchange.annotations`. */
export const SCANNER_ANNOTATION = 'continuum.scanner'

/** The scanner's annotation. */
export interface ScannerAnnotation {
  readonly action: 'allow' | 'block' | 'warn' | 'log'
  readonly risk: 'none' | 'low' | 'medium' | 'high'
  readonly score: number
  /** Indicator family names, e.g. `['ignore_instructions']`; never prompt text. */
  readonly indicators: readonly string[]
}

/** Reads the scanner annotation of an exchange, when a scanner ran. */
export function scannerAnnotationOf(exchange: ReceivedExchange): ScannerAnnotation | undefined {
  const value = exchange.annotations[SCANNER_ANNOTATION]
  return typeof value === 'object' && value !== null ? (value as ScannerAnnotation) : undefined
}

/** Key of the cache's annotation in `exchange.annotations`. */
export const CACHE_ANNOTATION = 'continuum.cache'

/** What the cache did with a request: answered it, forwarded it (and maybe stored the answer), or let it by. */
export type CacheAnnotation = 'hit' | 'miss' | 'bypass'

/** Reads the cache annotation of an exchange, when a cache saw it. */
export function cacheAnnotationOf(exchange: ReceivedExchange): CacheAnnotation | undefined {
  const value = exchange.annotations[CACHE_ANNOTATION]
  return value === 'hit' || value === 'miss' || value === 'bypass' ? value : undefined
}
