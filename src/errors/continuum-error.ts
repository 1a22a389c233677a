/**
 * The one root error class. Every failure the library raises on purpose is a ContinuumError with
 * a stable `code`, the HTTP `status` a server answers with, and `isRetryable`. Messages never hold
 * request content or key material: callers pass only shapes and names (paths, key ids, sizes).
 */
import { ERROR_CODES, type ErrorCode, type ErrorType } from './codes'

const ERROR_MARKER = Symbol.for('continuum-proxy.error')

/** Construction options of a {@link ContinuumError}. */
export interface ContinuumErrorOptions {
  /** The underlying failure, kept for logs; never rendered into response bodies. */
  cause?: unknown
  /** Overrides the status of the code's table entry, e.g. to pass an upstream 429 through. */
  status?: number
  /** Overrides whether a retry can help. */
  isRetryable?: boolean
  /** Safe, content-free details rendered into the error body (paths, limits, remaining budget). */
  details?: Record<string, unknown>
  /** Seconds after which a retry may succeed; rendered as `Retry-After`. */
  retryAfterSeconds?: number
}

/** Root class of every error the library raises on purpose. */
export class ContinuumError extends Error {
  override readonly name = 'ContinuumError'
  /** Stable machine-readable code, listed in docs/errors.md. */
  readonly code: ErrorCode
  /** HTTP status a server answers with. */
  readonly status: number
  /** Coarse class, rendered as `error.type`. */
  readonly type: ErrorType
  /** Whether repeating the request later can succeed. */
  readonly isRetryable: boolean
  /** Safe details rendered into the error body. */
  readonly details: Readonly<Record<string, unknown>> | undefined
  /** Seconds after which a retry may succeed. */
  readonly retryAfterSeconds: number | undefined
  readonly [ERROR_MARKER] = true

  constructor(code: ErrorCode, message: string, options: ContinuumErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    const info = ERROR_CODES[code]
    this.code = code
    this.status = options.status ?? info.status
    this.type = info.type
    this.isRetryable = options.isRetryable ?? info.retryable
    this.details = options.details
    this.retryAfterSeconds = options.retryAfterSeconds
  }

  /**
   * `instanceof ContinuumError` holds for an error from any copy of this package: the ESM and
   * CommonJS builds, two installed versions, and the client entry, which is bundled on its own
   * (so it does not load the server). A subclass keeps the ordinary prototype check.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class on the right of instanceof
    if (this !== ContinuumError) return Function.prototype[Symbol.hasInstance].call(this, value)
    return ContinuumError.isInstance(value)
  }

  /** True for a ContinuumError from any copy of this package (a `Symbol.for` marker, not `instanceof`). */
  static isInstance(value: unknown): value is ContinuumError {
    return (
      typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[ERROR_MARKER] === true
    )
  }

  /** The JSON error body: `{"error":{"code","message","type", ...details}}`. */
  toJSON(): { error: { code: ErrorCode; message: string; type: ErrorType } & Record<string, unknown> } {
    return { error: { ...this.details, code: this.code, message: this.message, type: this.type } }
  }
}

/** Wraps anything thrown into a ContinuumError; unknown failures become CONTINUUM_INTERNAL without their message. */
export function toContinuumError(error: unknown): ContinuumError {
  if (ContinuumError.isInstance(error)) return error
  return new ContinuumError('CONTINUUM_INTERNAL', 'Internal error', { cause: error })
}

/** Whether a code is one of the stable codes. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value)
}
