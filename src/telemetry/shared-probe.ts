/**
 * One probe shared by every caller, for readiness checks that reach another server. `/readyz`
 * answers without authentication, so each request starting its own probe turns a flood of
 * `/readyz` into a flood on the inference server. Here callers that arrive while a probe runs
 * wait for that one (single flight), its answer is reused for `cacheMs` after it arrived, and the
 * probe has its own time bound: no caller's signal can abort what the others wait for, so the
 * probe aborts itself after `timeoutMs` and answers with `onTimeout()`. A caller whose signal
 * aborts stops waiting; the probe goes on for the others.
 */
import type { Clock } from '../core/clock'

/** How a shared probe runs. */
export interface SharedProbeOptions<Result> {
  /** How long an answer is reused after it arrived, in milliseconds; 0 shares only a probe in flight. */
  readonly cacheMs: number
  /** Longest time one probe may take, in milliseconds; it is aborted then. */
  readonly timeoutMs: number
  /** The answer of a probe that ran out of time, and of a caller whose signal aborted. */
  readonly onTimeout: () => Result
  readonly clock: Clock
}

/** Wraps `probe` so that concurrent and recent callers share one run; see the module comment. */
export function sharedProbe<Result>(
  probe: (signal: AbortSignal) => Promise<Result>,
  options: SharedProbeOptions<Result>,
): (signal?: AbortSignal) => Promise<Result> {
  let running: Promise<Result> | undefined
  let answer: { readonly result: Result; readonly at: number } | undefined

  const start = (): Promise<Result> => {
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(), options.timeoutMs)
    const run = probe(controller.signal)
      .then(
        (result) => (controller.signal.aborted ? options.onTimeout() : result),
        (error: unknown) => {
          if (controller.signal.aborted) return options.onTimeout()
          throw error
        },
      )
      .finally(() => clearTimeout(timer))
    running = run
    // A thrown probe is not remembered: the next caller probes again.
    run.then(
      (result) => {
        answer = { result, at: options.clock.now() }
        running = undefined
      },
      () => {
        running = undefined
      },
    )
    return run
  }

  return (signal) => {
    if (answer !== undefined && running === undefined && options.clock.now() - answer.at < options.cacheMs)
      return Promise.resolve(answer.result)
    const run = running ?? start()
    if (signal === undefined) return run
    if (signal.aborted) return Promise.resolve(options.onTimeout())
    return new Promise<Result>((resolve, reject) => {
      const stop = (): void => resolve(options.onTimeout())
      signal.addEventListener('abort', stop, { once: true })
      run.then(resolve, reject).finally(() => signal.removeEventListener('abort', stop))
    })
  }
}
