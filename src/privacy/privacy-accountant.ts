/**
 * Per-identity (epsilon, delta) budgets for numeric results released in plaintext. Every release
 * is charged with basic (sequential) composition: the epsilons and deltas of releases add up
 * within a refill period. Spending uses `StateStore.increment`, so a Redis store charges
 * atomically across processes; a charge that overshoots is refunded and refused with 429
 * `CONTINUUM_PRIVACY_BUDGET_EXHAUSTED`, carrying the remaining budget in its details.
 */
import type { Clock } from '../core/clock'
import { systemClock } from '../core/clock'
import { ContinuumError } from '../errors'
import type { StateStore } from '../stores'
import { MemoryStateStore } from '../stores'
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
   * Key prefix in the store.
   * @default 'privacy:'
   */
  keyPrefix?: string
  /** @default systemClock */
  clock?: Clock
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

// Budgets are stored as integer micro-units so sums stay exact across increments.
const EPSILON_UNIT = 1e9
const DELTA_UNIT = 1e15

/** Formats a budget as the `x-continuum-privacy-budget` header value, e.g. `epsilon=0.7;delta=1e-6`. */
export function privacyBudgetHeader(budget: PrivacyBudget): string {
  const format = (value: number) => String(Number(value.toPrecision(6)))
  return `epsilon=${format(budget.epsilon)};delta=${format(budget.delta)}`
}

/** The header name carrying the remaining budget. */
export const PRIVACY_BUDGET_HEADER = 'x-continuum-privacy-budget'

/** Tracks and charges per-identity privacy budgets, and adds calibrated noise. */
export class PrivacyAccountant {
  readonly #epsilon: number
  readonly #delta: number
  readonly #period: number
  readonly #store: StateStore
  readonly #prefix: string
  readonly #clock: Clock
  readonly #random: UniformRandom

  constructor(options: PrivacyAccountantOptions) {
    const fail = (message: string) =>
      new ContinuumError('CONTINUUM_INVALID_OPTIONS', `PrivacyAccountant: ${message}`)
    if (!(options.epsilon > 0) || !Number.isFinite(options.epsilon))
      throw fail('epsilon must be a positive finite number')
    const delta = options.delta ?? 0
    if (!(delta >= 0 && delta < 1)) throw fail('delta must be in [0, 1)')
    const period = options.refillPeriodMs ?? 86_400_000
    if (!Number.isSafeInteger(period) || period < 1) throw fail('refillPeriodMs must be a positive integer')
    this.#epsilon = options.epsilon
    this.#delta = delta
    this.#period = period
    this.#store = options.store ?? new MemoryStateStore()
    this.#prefix = options.keyPrefix ?? 'privacy:'
    this.#clock = options.clock ?? systemClock
    this.#random = options.random ?? cryptoUniform()
  }

  #window(identity: string) {
    const now = this.#clock.now()
    const start = Math.floor(now / this.#period) * this.#period
    // Identity is hashed by callers if it is sensitive; it is a store key, never content.
    const base = `${this.#prefix}${start}:${identity}`
    return {
      epsilonKey: `${base}:epsilon`,
      deltaKey: `${base}:delta`,
      resetsAt: start + this.#period,
      ttl: start + this.#period - now + 1000,
    }
  }

  #budget(spentEpsilon: number, spentDelta: number, resetsAt: number): PrivacyBudget {
    return {
      epsilon: Math.max(0, (Math.round(this.#epsilon * EPSILON_UNIT) - spentEpsilon) / EPSILON_UNIT),
      delta: Math.max(0, (Math.round(this.#delta * DELTA_UNIT) - spentDelta) / DELTA_UNIT),
      resetsAt,
    }
  }

  /** The remaining budget of an identity. */
  async remaining(identity: string): Promise<PrivacyBudget> {
    const window = this.#window(identity)
    const spentEpsilon = Number((await this.#store.get(window.epsilonKey)) ?? 0)
    const spentDelta = Number((await this.#store.get(window.deltaKey)) ?? 0)
    return this.#budget(spentEpsilon, spentDelta, window.resetsAt)
  }

  /** Charges (epsilon, delta) to an identity or throws 429 without charging. */
  async charge(identity: string, epsilon: number, delta = 0): Promise<PrivacyBudget> {
    if (!(epsilon > 0) || !Number.isFinite(epsilon) || !(delta >= 0 && delta < 1)) {
      throw new ContinuumError(
        'CONTINUUM_PRIVACY_INVALID_RELEASE',
        'A release needs epsilon > 0 and 0 <= delta < 1',
      )
    }
    const window = this.#window(identity)
    const epsilonUnits = Math.round(epsilon * EPSILON_UNIT)
    const deltaUnits = Math.round(delta * DELTA_UNIT)
    const spentEpsilon = await this.#store.increment(window.epsilonKey, epsilonUnits, window.ttl)
    const spentDelta =
      deltaUnits > 0
        ? await this.#store.increment(window.deltaKey, deltaUnits, window.ttl)
        : Number((await this.#store.get(window.deltaKey)) ?? 0)
    const over =
      spentEpsilon > Math.round(this.#epsilon * EPSILON_UNIT) ||
      spentDelta > Math.round(this.#delta * DELTA_UNIT)
    if (over) {
      await this.#store.increment(window.epsilonKey, -epsilonUnits, window.ttl)
      if (deltaUnits > 0) await this.#store.increment(window.deltaKey, -deltaUnits, window.ttl)
      const remaining = this.#budget(spentEpsilon - epsilonUnits, spentDelta - deltaUnits, window.resetsAt)
      throw new ContinuumError(
        'CONTINUUM_PRIVACY_BUDGET_EXHAUSTED',
        'The privacy budget of this identity is exhausted for the period',
        {
          details: {
            remainingEpsilon: remaining.epsilon,
            remainingDelta: remaining.delta,
            resetsAt: new Date(remaining.resetsAt).toISOString(),
          },
          retryAfterSeconds: Math.max(1, Math.ceil((window.resetsAt - this.#clock.now()) / 1000)),
        },
      )
    }
    return this.#budget(spentEpsilon, spentDelta, window.resetsAt)
  }

  /** Charges the identity, then returns `values` with calibrated noise added, and the budget left. */
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
