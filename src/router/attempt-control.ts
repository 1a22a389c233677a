/**
 * One attempt's signal and deadline. Each attempt gets its own AbortController, linked to the
 * caller's signal, that the router aborts on timeout, on fallback and when a stream consumer stops
 * reading; the provider's pending promise is also raced against the deadline, so a provider that
 * ignores its signal still cannot hang a request. Failures are normalised to ContinuumErrors here.
 */
import { ContinuumError } from '../errors'
import { isAbortError, providerErrorFromNetwork } from '../provider-kit/provider-errors'

/** The error a caller's abort becomes. */
export function clientAbortedError(signal: AbortSignal): ContinuumError {
  return new ContinuumError('CONTINUUM_CLIENT_ABORTED', 'The caller aborted the request', {
    cause: signal.reason,
  })
}

/**
 * The reason an attempt's own signal is aborted with once the router is done with it. One shared,
 * content-free instance: every attempt ends this way, and building an error (its stack) per request
 * was a measurable part of the gateway's per-request cost.
 */
const ATTEMPT_ENDED = new ContinuumError('CONTINUUM_CLIENT_ABORTED', 'The router ended this attempt')

/** The signal and timer of one attempt. */
export class AttemptControl {
  readonly controller = new AbortController()
  #timedOut: ContinuumError | undefined
  readonly #onCallerAbort: () => void

  constructor(
    readonly providerId: string,
    private readonly callerSignal: AbortSignal | undefined,
  ) {
    this.#onCallerAbort = () => this.controller.abort(callerSignal?.reason)
    if (callerSignal?.aborted) this.controller.abort(callerSignal.reason)
    else callerSignal?.addEventListener('abort', this.#onCallerAbort, { once: true })
  }

  get signal(): AbortSignal {
    return this.controller.signal
  }

  /**
   * Awaits `pending`, failing with CONTINUUM_PROVIDER_TIMEOUT after `timeoutMs` (and aborting the
   * attempt) or with CONTINUUM_CLIENT_ABORTED when the caller aborts.
   */
  async race<T>(pending: Promise<T>, timeoutMs: number, phase: string): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined
    let onAbort: (() => void) | undefined
    const guard = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.#timedOut = new ContinuumError(
          'CONTINUUM_PROVIDER_TIMEOUT',
          `Provider ${this.providerId} did not answer within ${timeoutMs} ms (${phase})`,
          { details: { provider: this.providerId, timeoutMs } },
        )
        reject(this.#timedOut)
        this.controller.abort(this.#timedOut)
      }, timeoutMs)
      onAbort = () =>
        reject(this.callerSignal === undefined ? new Error('aborted') : clientAbortedError(this.callerSignal))
      if (this.callerSignal?.aborted) onAbort()
      else this.callerSignal?.addEventListener('abort', onAbort, { once: true })
    })
    try {
      return await Promise.race([pending, guard])
    } finally {
      clearTimeout(timer)
      if (onAbort !== undefined) this.callerSignal?.removeEventListener('abort', onAbort)
      // The loser may still settle later; swallow it so it is never an unhandled rejection.
      pending.catch(() => {})
    }
  }

  /** Turns whatever an attempt threw into a ContinuumError. */
  normalise(thrown: unknown): ContinuumError {
    if (this.callerSignal?.aborted) return clientAbortedError(this.callerSignal)
    if (this.#timedOut !== undefined) return this.#timedOut
    if (ContinuumError.isInstance(thrown)) return thrown
    if (isAbortError(thrown)) {
      return new ContinuumError(
        'CONTINUUM_PROVIDER_ERROR',
        `Provider ${this.providerId} aborted the request`,
        {
          cause: thrown,
          details: { provider: this.providerId },
          isRetryable: true,
        },
      )
    }
    const mapped = providerErrorFromNetwork(thrown, this.providerId)
    if (ContinuumError.isInstance(mapped)) return mapped
    return new ContinuumError('CONTINUUM_PROVIDER_ERROR', `Provider ${this.providerId} failed`, {
      cause: thrown,
      details: { provider: this.providerId },
      isRetryable: true,
    })
  }

  /** Aborts the attempt (fallback, consumer gone) and unlinks the caller's signal. */
  dispose(): void {
    this.callerSignal?.removeEventListener('abort', this.#onCallerAbort)
    if (!this.controller.signal.aborted) this.controller.abort(ATTEMPT_ENDED)
  }
}
