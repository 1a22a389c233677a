/**
 * Option checks shared by the router provider factories. Each factory validates its options once,
 * at construction, and throws CONTINUUM_INVALID_OPTIONS naming the offending option; these helpers
 * keep those messages uniform and never echo a secret's value.
 */
import type { Dispatcher } from 'undici'
import { ContinuumError } from '../errors'
import type { ProviderCapabilities } from './provider'

/** Options every provider factory accepts. */
export interface CommonProviderOptions {
  /**
   * Provider id within the router.
   * @default the protocol name, e.g. `"ollama"`
   */
  id?: string
  /**
   * Provider-specific model names served; empty means any.
   * @default []
   */
  models?: string[]
  /** Capability overrides on top of the provider's defaults (cost, latency, context window...). */
  capabilities?: Partial<ProviderCapabilities>
  /**
   * Time allowed to receive response headers, then the longest silence between body chunks.
   * @default 60000
   */
  timeoutMs?: number
  /** undici dispatcher for pooling. @default a keep-alive `Agent` owned by the provider */
  dispatcher?: Dispatcher
  /** A fetch implementation used instead of undici's `request()`. @default undefined */
  fetch?: typeof fetch
  /** Extra headers sent on every call. @default {} */
  headers?: Record<string, string>
  /**
   * Largest non-streamed response body accepted, in bytes.
   * @default 33554432 (32 MiB)
   */
  maxResponseBytes?: number
}

/** The common options after validation. */
export interface ResolvedCommonOptions {
  id: string
  models: string[]
  timeoutMs: number
  dispatcher?: Dispatcher
  fetch?: typeof fetch
  headers: Record<string, string>
  maxResponseBytes: number
}

/** Throws CONTINUUM_INVALID_OPTIONS for `factory`. */
export function invalidOption(factory: string, message: string): never {
  throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', `${factory}: ${message}`)
}

/** Validates the options shared by every provider. */
export function resolveCommonOptions(
  factory: string,
  options: CommonProviderOptions,
  defaultId: string,
): ResolvedCommonOptions {
  if (typeof options !== 'object' || options === null) invalidOption(factory, 'options must be an object')
  const id = options.id ?? defaultId
  if (typeof id !== 'string' || id.trim() === '') invalidOption(factory, 'id must be a non-empty string')
  const models = options.models ?? []
  if (!Array.isArray(models) || models.some((model) => typeof model !== 'string' || model === '')) {
    invalidOption(factory, 'models must be an array of non-empty strings')
  }
  const timeoutMs = options.timeoutMs ?? 60_000
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0)
    invalidOption(factory, 'timeoutMs must be a positive integer')
  const maxResponseBytes = options.maxResponseBytes ?? 32 * 1024 * 1024
  if (!Number.isInteger(maxResponseBytes) || maxResponseBytes <= 0) {
    invalidOption(factory, 'maxResponseBytes must be a positive integer')
  }
  const headers = options.headers ?? {}
  if (
    typeof headers !== 'object' ||
    headers === null ||
    Object.values(headers).some((v) => typeof v !== 'string')
  ) {
    invalidOption(factory, 'headers must be an object of string values')
  }
  if (options.fetch !== undefined && typeof options.fetch !== 'function') {
    invalidOption(factory, 'fetch must be a function')
  }
  if (options.dispatcher !== undefined && typeof options.dispatcher?.dispatch !== 'function') {
    invalidOption(factory, 'dispatcher must be an undici Dispatcher')
  }
  const lowerCaseHeaders: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) lowerCaseHeaders[name.toLowerCase()] = value
  const resolved: ResolvedCommonOptions = {
    id,
    models: [...models],
    timeoutMs,
    headers: lowerCaseHeaders,
    maxResponseBytes,
  }
  if (options.dispatcher !== undefined) resolved.dispatcher = options.dispatcher
  if (options.fetch !== undefined) resolved.fetch = options.fetch
  return resolved
}

/** Parses a base URL option and strips its trailing slashes. */
export function resolveBaseUrl(factory: string, name: string, value: unknown): string {
  if (typeof value !== 'string') invalidOption(factory, `${name} must be a URL string`)
  let url: URL
  try {
    url = new URL(value)
  } catch {
    invalidOption(factory, `${name} is not a valid URL`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') invalidOption(factory, `${name} must be http(s)`)
  return url.href.replace(/\/+$/, '')
}

/** Merges capability overrides onto defaults, validating the override's shape. */
export function mergeCapabilities(
  factory: string,
  defaults: ProviderCapabilities,
  models: string[],
  overrides: Partial<ProviderCapabilities> | undefined,
): ProviderCapabilities {
  if (overrides !== undefined && (typeof overrides !== 'object' || overrides === null)) {
    invalidOption(factory, 'capabilities must be an object')
  }
  const merged: ProviderCapabilities = { ...defaults, models, ...overrides }
  if (!Number.isFinite(merged.contextWindow) || merged.contextWindow <= 0) {
    invalidOption(factory, 'capabilities.contextWindow must be a positive number')
  }
  return Object.freeze(merged)
}
