/**
 * One attempt's signal and deadline. Each attempt gets its own AbortController, linked to the
 * caller's signal, that the router aborts on timeout, on fallback, when a stream ends and when a
 * stream consumer stops reading (an attempt that settled with its answer has nothing left to
 * abort); the provider's pending promise is also raced against the deadline, so a provider that
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
 * The reason an attempt's own signal is aborted with once the router moves on from it. One shared,
 * content-free instance: building an error (its stack) per request was a measurable part of the
 * gateway's per-request cost.
 */
const ATTEMPT_ENDED = new ContinuumError('CONTINUUM_CLIENT_ABORTED', 'The router ended this attempt')

/**
 * The signal and timer of one attempt. Its listeners are made once, in the constructor, and one
 * timer serves every race of the attempt (a stream races each chunk): it is re-armed by
 * `refresh()`, and a firing between two races (the consumer was busy, not the provider) is ignored.
 */
export class AttemptControl {
  readonly controller = new AbortController()
  #timedOut: ContinuumError | undefined
  readonly #onCallerAbort: () => void
  readonly #onTimeout: () => void
  #timer: ReturnType<typeof setTimeout> | undefined
  #timeoutMs = 0
  #phase = ''
  /** Rejects the race under way; undefined between races. */
  #rejectRace: ((error: unknown) => void) | undefined

  constructor(
    readonly providerId: string,
    private readonly callerSignal: AbortSignal | undefined,
  ) {
    this.#onCallerAbort = () => {
      this.controller.abort(callerSignal?.reason)
      this.#rejectRace?.(clientAbortedError(callerSignal!))
    }
    this.#onTimeout = () => {
      if (this.#rejectRace === undefined) return
      this.#timedOut = new ContinuumError(
        'CONTINUUM_PROVIDER_TIMEOUT',
        `Provider ${this.providerId} did not answer within ${this.#timeoutMs} ms (${this.#phase})`,
        { details: { provider: this.providerId, timeoutMs: this.#timeoutMs } },
      )
      this.#rejectRace(this.#timedOut)
      this.controller.abort(this.#timedOut)
    }
    if (callerSignal?.aborted) this.controller.abort(callerSignal.reason)
    else callerSignal?.addEventListener('abort', this.#onCallerAbort, { once: true })
  }

  get signal(): AbortSignal {
    return this.controller.signal
  }

  /**
   * Awaits `pending`, failing with CONTINUUM_PROVIDER_TIMEOUT after `timeoutMs` (and aborting the
   * attempt) or with CONTINUUM_CLIENT_ABORTED when the caller aborts. The loser may still settle
   * later; `pending` is always handled, so that is never an unhandled rejection.
   */
  async race<T>(pending: Promise<T>, timeoutMs: number, phase: string): Promise<T> {
    this.#phase = phase
    this.#arm(timeoutMs)
    try {
      return await new Promise<T>((resolve, reject) => {
        this.#rejectRace = reject
        pending.then(resolve, reject)
        if (this.callerSignal?.aborted) reject(clientAbortedError(this.callerSignal))
      })
    } finally {
      this.#rejectRace = undefined
    }
  }

  #arm(timeoutMs: number): void {
    if (this.#timer !== undefined && this.#timeoutMs === timeoutMs) {
      this.#timer.refresh()
      return
    }
    clearTimeout(this.#timer)
    this.#timeoutMs = timeoutMs
    this.#timer = setTimeout(this.#onTimeout, timeoutMs)
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

  /**
   * Ends an attempt whose provider call settled with its answer: stops the timer and unlinks the
   * caller's signal. Nothing is left running, so the signal is not aborted (building and
   * dispatching an abort event per request was a measurable part of the gateway's cost).
   */
  finish(): void {
    clearTimeout(this.#timer)
    this.callerSignal?.removeEventListener('abort', this.#onCallerAbort)
  }

  /** Aborts the attempt (fallback, consumer gone, a stream's end) and unlinks the caller's signal. */
  dispose(): void {
    this.finish()
    if (!this.controller.signal.aborted) this.controller.abort(ATTEMPT_ENDED)
  }
}
