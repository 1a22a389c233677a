/**
 * Keeps Prometheus label values bounded. Every distinct label value is a new time series, so a
 * model name chosen by a client could otherwise grow the registry without limit (or smuggle text
 * into the scrape). Model names come from a configured list, or are cut, restricted to a safe
 * alphabet and capped in number; everything else is `other`. Without a list, a name takes one of
 * the capped slots only once a request for it was served: otherwise a caller could spend the
 * slots on names no server knows (each a cheap 404) and leave every real model counted as `other`
 * until the process restarts.
 */

/** Label value for a model outside the allow-list or past the cap. */
export const OTHER_LABEL = 'other'
/** Label value when a request named no model. */
export const UNKNOWN_LABEL = 'unknown'

const MAX_LENGTH = 64
const UNSAFE = /[^A-Za-z0-9._:/@+-]/g

/** How model label values are bounded. */
export interface ModelLabelPolicy {
  /** Model names allowed as label values; others become `other`. */
  readonly models: readonly string[] | undefined
  /** Most distinct model values when no list is given; later ones become `other`. */
  readonly maxModels: number
}

/** Maps raw model names to bounded label values. */
export class ModelLabels {
  readonly #allowed: ReadonlySet<string> | undefined
  readonly #seen = new Set<string>()
  readonly #max: number

  constructor(policy: ModelLabelPolicy) {
    this.#allowed = policy.models === undefined ? undefined : new Set(policy.models)
    this.#max = policy.maxModels
  }

  /**
   * The label value for a model name. `served` says whether the upstream answered the request
   * (rather than refusing or failing it); a name without a slot yet gets one only then.
   */
  label(model: string | undefined, served: boolean): string {
    if (model === undefined || model === '') return UNKNOWN_LABEL
    if (this.#allowed !== undefined) return this.#allowed.has(model) ? model : OTHER_LABEL
    const safe = model.slice(0, MAX_LENGTH).replace(UNSAFE, '_')
    if (this.#seen.has(safe)) return safe
    if (!served || this.#seen.size >= this.#max) return OTHER_LABEL
    this.#seen.add(safe)
    return safe
  }
}
