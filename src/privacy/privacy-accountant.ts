/**
 * Per-identity (epsilon, delta) budgets for numeric results released in plaintext. Every release
 * is charged with basic (sequential) composition: the epsilons and deltas of releases add up
 * within a refill period. Spending uses the store's atomic check-and-charge
 * (`StateStore.chargeWithin`), so a Redis store charges atomically across processes and a
 * charge that would overshoot is never applied: it is refused with 429
 * `CONTINUUM_PRIVACY_BUDGET_EXHAUSTED`, carrying the remaining budget in its details.
 *
 * Accounting is exact: amounts are counted in integer units (see {@link toBudgetUnits}), every
 * charge rounded up and every budget rounded down, so no release is ever charged nothing and
 * the spent total is never less than the true sum. Rounding each charge to the nearest unit let
 * epsilons under half a unit through for free and let ten releases of 1.49 units pass a budget
 * of ten.
 */
import type { Clock } from '../core/clock'
import { systemClock } from '../core/clock'
import { type Logger, silentLogger } from '../core/logger'
import { ContinuumError } from '../errors'
import type { StateStore } from '../stores'
import { MemoryStateStore } from '../stores'
import { StoreFailureReporter } from '../stores/store-failure'
import { gaussianNoise, gaussianSigma, laplaceNoise, laplaceScale } from './mechanisms'
import { cryptoUniform, type UniformRandom } from './random'

/** Options of {@link PrivacyAccountant}. */
export interface PrivacyAccountantOptions {
  /** Epsilon each identity may spend per period. */
  epsilon: number
  /**
   * Delta each identity may spend per period (0 allows Laplace releases only).
   * @default 0
   */
  delta?: number
  /**
   * Length of a budget period; budgets refill at each period boundary.
   * @default 86400000 (one day)
   */
  refillPeriodMs?: number
  /**
   * Where spent budget lives.
   * @default a MemoryStateStore
   */
  store?: StateStore
  /**
   * Key prefix in the store, without braces: the counters' hash tag follows it, and a brace in the
   * prefix could make Redis Cluster read another tag (`p{}` none at all, splitting the two
   * counters of one charge over two slots, so every charge would fail).
   * @default 'privacy:'
   */
  keyPrefix?: string
  /** @default systemClock */
  clock?: Clock
  /**
   * Receives a content-free line when the store fails (the release is then refused, 503).
   * @default silentLogger
   */
  logger?: Logger
  /**
   * Uniform random source for noise.
   * @default cryptoUniform()
   */
  random?: UniformRandom
}

/** Remaining budget of an identity. */
export interface PrivacyBudget {
  readonly epsilon: number
  readonly delta: number
  /** When the budget refills, in epoch milliseconds. */
  readonly resetsAt: number
}

/** What a release asks for. */
export type ReleaseRequest =
  | { readonly mechanism: 'laplace'; readonly epsilon: number; readonly sensitivity: number }
  | {
      readonly mechanism: 'gaussian'
      readonly epsilon: number
      readonly delta: number
      readonly sensitivity: number
    }

/** Decimal places of the units epsilon and delta are counted in: 1e-12 and 1e-18. */
const EPSILON_DIGITS = 12
const DELTA_DIGITS = 18
/** Largest budgets: 1e15 units each, so every sum stays an exact double (below 2^53). */
const MAX_EPSILON = 1000
const MAX_DELTA = 1e-3
const DECIMAL = /^(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/
/**
 * How long a period's counters outlive the period: the instance clock skew tolerated across the
 * fleet (the replay window's default). The expiry is fixed by whichever instance charged first,
 * on its own clock; an instance whose clock lags it still charges that period for as long as the
 * lag, and a counter gone by then would hand it a fresh budget within the same period.
 */
const CLOCK_SKEW_MS = 300_000

/**
 * A positive amount in units of 10^-digits, exactly: the decimal the number prints as (`0.1`
 * is 0.1, `1.49e-9` is 1.49e-9) times 10^digits, rounded up (`'up'`, for charges: never zero)
 * or down (`'down'`, for budgets).
 */
export function toBudgetUnits(value: number, digits: number, rounding: 'up' | 'down'): bigint {
  const match = DECIMAL.exec(String(value))
  if (match === null || !(value > 0)) {
    throw new ContinuumError(
      'CONTINUUM_PRIVACY_INVALID_RELEASE',
      'Budget amounts must be positive finite numbers',
    )
  }
  const [, whole, fraction = '', exponent = '0'] = match
  const mantissa = BigInt(`${whole}${fraction}`)
  const shift = Number(exponent) - fraction.length + digits
  if (shift >= 0) return mantissa * 10n ** BigInt(shift)
  const divisor = 10n ** BigInt(-shift)
  const units = mantissa / divisor
  return rounding === 'up' && mantissa % divisor !== 0n ? units + 1n : units
}

const fromUnits = (units: bigint | number, digits: number): number => Number(units) / 10 ** digits

/** Formats a budget as the `x-continuum-privacy-budget` header value, e.g. `epsilon=0.7;delta=1e-6`. */
export function privacyBudgetHeader(budget: PrivacyBudget): string {
  const format = (value: number) => String(Number(value.toPrecision(6)))
  return `epsilon=${format(budget.epsilon)};delta=${format(budget.delta)}`
}

/** The header name carrying the remaining budget. */
export const PRIVACY_BUDGET_HEADER = 'x-continuum-privacy-budget'

/** Tracks and charges per-identity privacy budgets, and adds calibrated noise. */
export class PrivacyAccountant {
  readonly #epsilonUnits: bigint
  readonly #deltaUnits: bigint
  readonly #period: number
  readonly #store: StateStore
  readonly #prefix: string
  readonly #clock: Clock
  readonly #random: UniformRandom
  readonly #failures: StoreFailureReporter

  constructor(options: PrivacyAccountantOptions) {
    const fail = (message: string) =>
      new ContinuumError('CONTINUUM_INVALID_OPTIONS', `PrivacyAccountant: ${message}`)
    if (!(options.epsilon > 0) || !(options.epsilon <= MAX_EPSILON))
      throw fail(`epsilon must be a positive number of at most ${MAX_EPSILON}`)
    const delta = options.delta ?? 0
    if (!(delta >= 0 && delta <= MAX_DELTA)) throw fail(`delta must be in [0, ${MAX_DELTA}]`)
    const period = options.refillPeriodMs ?? 86_400_000
    if (!Number.isSafeInteger(period) || period < 1) throw fail('refillPeriodMs must be a positive integer')
    this.#epsilonUnits = toBudgetUnits(options.epsilon, EPSILON_DIGITS, 'down')
    this.#deltaUnits = delta === 0 ? 0n : toBudgetUnits(delta, DELTA_DIGITS, 'down')
    this.#period = period
    this.#store = options.store ?? new MemoryStateStore()
    const prefix = options.keyPrefix ?? 'privacy:'
    if (typeof prefix !== 'string' || /[{}]/.test(prefix))
      throw fail('keyPrefix must be a string without braces (the counters carry their own hash tag)')
    this.#prefix = prefix
    this.#clock = options.clock ?? systemClock
    this.#random = options.random ?? cryptoUniform()
    this.#failures = new StoreFailureReporter('privacy', options.logger ?? silentLogger, this.#clock)
  }

  #window(identity: string) {
    const now = this.#clock.now()
    const start = Math.floor(now / this.#period) * this.#period
    // Identity is hashed by callers if it is sensitive; it is a store key, never content.
    // One hash tag for both counters: they are charged together (one Redis Cluster slot).
    const base = `${this.#prefix}{${start}:${identity}}`
    return {
      // The unit is in the key: counters kept in another unit are never misread.
      epsilonKey: `${base}:epsilon:1e-${EPSILON_DIGITS}`,
      deltaKey: `${base}:delta:1e-${DELTA_DIGITS}`,
      resetsAt: start + this.#period,
      ttl: start + this.#period - now + CLOCK_SKEW_MS,
    }
  }

  #budget(spentEpsilon: number, spentDelta: number, resetsAt: number): PrivacyBudget {
    // A counter that is not a whole number of units (a corrupted store) leaves nothing: fail closed.
    const left = (budget: bigint, spent: number) =>
      Number.isSafeInteger(spent) && budget > BigInt(spent) ? budget - BigInt(spent) : 0n
    return {
      epsilon: fromUnits(left(this.#epsilonUnits, spentEpsilon), EPSILON_DIGITS),
      delta: fromUnits(left(this.#deltaUnits, spentDelta), DELTA_DIGITS),
      resetsAt,
    }
  }

  async #spent(window: { epsilonKey: string; deltaKey: string }): Promise<[number, number]> {
    const [epsilon, delta] = await this.#stored(() =>
      Promise.all([this.#store.get(window.epsilonKey), this.#store.get(window.deltaKey)]),
    )
    return [Number(epsilon ?? 0), Number(delta ?? 0)]
  }

  /** A store call; a failure fails closed (nothing is released unaccounted) and is reported. */
  async #stored<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call()
    } catch (error) {
      this.#failures.report(error, 'closed')
      throw error
    }
  }

  /** The remaining budget of an identity. */
  async remaining(identity: string): Promise<PrivacyBudget> {
    const window = this.#window(identity)
    const [spentEpsilon, spentDelta] = await this.#spent(window)
    return this.#budget(spentEpsilon, spentDelta, window.resetsAt)
  }

  /** Charges (epsilon, delta) to an identity or throws 429 without charging. */
  async charge(identity: string, epsilon: number, delta = 0): Promise<PrivacyBudget> {
    // Number.isFinite also refuses a numeric string, which every comparison here would accept.
    if (
      !(epsilon > 0) ||
      !Number.isFinite(epsilon) ||
      !Number.isFinite(delta) ||
      !(delta >= 0 && delta < 1)
    ) {
      throw new ContinuumError(
        'CONTINUUM_PRIVACY_INVALID_RELEASE',
        'A release needs epsilon > 0 and 0 <= delta < 1',
      )
    }
    const epsilonUnits = toBudgetUnits(epsilon, EPSILON_DIGITS, 'up')
    const deltaUnits = delta === 0 ? 0n : toBudgetUnits(delta, DELTA_DIGITS, 'up')
    const window = this.#window(identity)
    // A charge larger than the whole budget never reaches the store (so amounts stay below 2^53).
    if (epsilonUnits > this.#epsilonUnits || deltaUnits > this.#deltaUnits) {
      const [spentEpsilon, spentDelta] = await this.#spent(window)
      throw this.#exhausted(this.#budget(spentEpsilon, spentDelta, window.resetsAt))
    }
    const result = await this.#stored(() =>
      this.#store.chargeWithin(
        [
          { key: window.epsilonKey, amount: Number(epsilonUnits), limit: Number(this.#epsilonUnits) },
          { key: window.deltaKey, amount: Number(deltaUnits), limit: Number(this.#deltaUnits) },
        ],
        window.ttl,
      ),
    )
    const [spentEpsilon = 0, spentDelta = 0] = result.values
    const budget = this.#budget(spentEpsilon, spentDelta, window.resetsAt)
    if (!result.accepted) throw this.#exhausted(budget)
    return budget
  }

  #exhausted(remaining: PrivacyBudget): ContinuumError {
    return new ContinuumError(
      'CONTINUUM_PRIVACY_BUDGET_EXHAUSTED',
      'The privacy budget of this identity is exhausted for the period',
      {
        details: {
          remainingEpsilon: remaining.epsilon,
          remainingDelta: remaining.delta,
          resetsAt: new Date(remaining.resetsAt).toISOString(),
        },
        retryAfterSeconds: Math.max(1, Math.ceil((remaining.resetsAt - this.#clock.now()) / 1000)),
      },
    )
  }

  /**
   * Charges the identity, then returns `values` with calibrated noise added, and the budget left.
   * `request.sensitivity` is that of the whole list (L1 for Laplace, L2 for Gaussian), since one
   * epsilon is charged for all of it; `identity` must come from authentication, not from the caller.
   */
  async release(
    identity: string,
    values: readonly number[],
    request: ReleaseRequest,
  ): Promise<{ values: number[]; budget: PrivacyBudget }> {
    const noise =
      request.mechanism === 'laplace'
        ? (() => {
            const scale = laplaceScale(request.sensitivity, request.epsilon)
            return () => laplaceNoise(scale, this.#random)
          })()
        : (() => {
            const sigma = gaussianSigma(request.sensitivity, request.epsilon, request.delta)
            return () => gaussianNoise(sigma, this.#random)
          })()
    const budget = await this.charge(
      identity,
      request.epsilon,
      request.mechanism === 'gaussian' ? request.delta : 0,
    )
    return { values: values.map((value) => value + noise()), budget }
  }
}
