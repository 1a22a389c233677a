/**
 * Readiness checks for `/readyz`: small async functions that say whether this instance should get
 * traffic. They run in parallel under a timeout, and a throwing or slow check counts as not ready.
 * Results name the check and, on failure, a short reason (an error code, never a secret or upstream
 * text). Ready-made checks cover the InferenceRouter's health and an upstream HTTP endpoint; the
 * latter shares one probe among concurrent callers and reuses its answer briefly (shared-probe.ts),
 * so an unauthenticated flood of `/readyz` does not reach the upstream.
 */
// First: on an old Node, undici fails to load with a message that names nothing useful.
import '../internal/node-check'
import { type Dispatcher, request as undiciRequest } from 'undici'
import { type Clock, systemClock } from '../core/clock'
import { ContinuumError } from '../errors'
import { sharedProbe } from './shared-probe'

/** What a check reports: a boolean, or a boolean with a short reason. */
export type ReadinessResult = boolean | { readonly ready: boolean; readonly detail?: string }

/** One readiness check. It should honour the signal, which aborts at the check timeout. */
export type ReadinessCheck = (signal: AbortSignal) => ReadinessResult | Promise<ReadinessResult>

/** The outcome of one check as `/readyz` reports it. */
export interface ReadinessReport {
  readonly ready: boolean
  readonly detail?: string
}

/** Runs every check in parallel; each is not ready when it throws, answers false, or outlasts the timeout. */
export async function runReadinessChecks(
  checks: Readonly<Record<string, ReadinessCheck>>,
  timeoutMs: number,
): Promise<{ ready: boolean; checks: Record<string, ReadinessReport> }> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]): Promise<[string, ReadinessReport]> => {
      const controller = new AbortController()
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<ReadinessReport>((resolve) => {
        timer = setTimeout(() => {
          controller.abort()
          resolve({ ready: false, detail: `timed out after ${timeoutMs} ms` })
        }, timeoutMs)
      })
      try {
        const pending = Promise.resolve().then(() => check(controller.signal))
        pending.catch(() => {})
        const result = await Promise.race([pending.then(toReport), timeout])
        return [name, result]
      } catch (error) {
        const code = ContinuumError.isInstance(error) ? error.code : 'check failed'
        return [name, { ready: false, detail: code }]
      } finally {
        clearTimeout(timer)
      }
    }),
  )
  return { ready: entries.every(([, report]) => report.ready), checks: Object.fromEntries(entries) }
}

function toReport(result: ReadinessResult): ReadinessReport {
  if (typeof result === 'boolean') return { ready: result }
  return result.detail === undefined
    ? { ready: result.ready === true }
    : { ready: result.ready === true, detail: result.detail }
}

/** The part of an InferenceRouter a readiness check needs. */
export interface RouterHealthSource {
  health(): Promise<{ status: 'healthy' | 'degraded' | 'unhealthy' }>
}

/**
 * Ready while the router can serve: healthy or degraded (some providers still take traffic).
 * @example telemetry: { readiness: { router: routerReadinessCheck(router) } }
 */
export function routerReadinessCheck(router: RouterHealthSource): ReadinessCheck {
  return async () => {
    const health = await router.health()
    return { ready: health.status !== 'unhealthy', detail: health.status }
  }
}

/** Options of {@link httpReadinessCheck}. */
export interface HttpReadinessCheckOptions {
  /**
   * The dispatcher to use, e.g. one with a Unix socket.
   * @default undici's global dispatcher
   */
  dispatcher?: Dispatcher
  /**
   * Extra request headers, e.g. the inference server's API key.
   * @default {}
   */
  headers?: Record<string, string>
  /**
   * How long one probe's answer is reused, in milliseconds. Checks that arrive while a probe runs
   * always wait for it, so the upstream sees at most one probe per `cacheMs` (and per `timeoutMs`)
   * however many `/readyz` requests come; `0` shares only the probe in flight.
   * @default 1000
   */
  cacheMs?: number
  /**
   * Longest time one probe may take, in milliseconds; it is then aborted and reported not ready.
   * The probe is shared, so it has its own bound rather than the signal of one check.
   * @default 2000
   */
  timeoutMs?: number
  /**
   * Time source of `cacheMs`.
   * @default systemClock
   */
  clock?: Clock
}

function invalidOption(message: string): ContinuumError {
  return new ContinuumError('CONTINUUM_INVALID_OPTIONS', `httpReadinessCheck: ${message}`)
}

function integerAtLeast(value: number | undefined, fallback: number, minimum: number, name: string): number {
  const resolved = value ?? fallback
  if (!Number.isSafeInteger(resolved) || resolved < minimum)
    throw invalidOption(`${name} must be an integer of at least ${minimum}`)
  return resolved
}

/**
 * Ready while a GET on the URL answers 2xx, e.g. vLLM's `/health` or TGI's `/health`.
 * @example httpReadinessCheck('http://127.0.0.1:8000/health')
 */
export function httpReadinessCheck(url: string, options: HttpReadinessCheckOptions = {}): ReadinessCheck {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch (error) {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'httpReadinessCheck: url is not a valid URL', {
      cause: error,
    })
  }
  const cacheMs = integerAtLeast(options.cacheMs, 1000, 0, 'cacheMs')
  const timeoutMs = integerAtLeast(options.timeoutMs, 2000, 1, 'timeoutMs')
  const clock = options.clock ?? systemClock
  if (typeof clock?.now !== 'function') throw invalidOption('clock must have a now() method')
  const probe = async (signal: AbortSignal): Promise<ReadinessReport> => {
    try {
      const response = await undiciRequest(parsed, {
        method: 'GET',
        signal,
        headers: options.headers ?? {},
        ...(options.dispatcher === undefined ? {} : { dispatcher: options.dispatcher }),
      })
      await response.body.dump()
      const ready = response.statusCode >= 200 && response.statusCode < 300
      return { ready, detail: `HTTP ${response.statusCode}` }
    } catch (error) {
      const code = (error as { code?: unknown }).code
      return { ready: false, detail: typeof code === 'string' ? code : 'unreachable' }
    }
  }
  return sharedProbe(probe, {
    cacheMs,
    timeoutMs,
    clock,
    onTimeout: () => ({ ready: false, detail: `timed out after ${timeoutMs} ms` }),
  })
}
