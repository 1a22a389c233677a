/**
 * Chooses among several vLLM servers (one per GPU or per host). Calls go round-robin or to the
 * endpoint with the fewest calls in flight; an endpoint that refused a connection is put at the end
 * of the order for a cooldown, so healthy ones take the traffic while it restarts, and it is still
 * tried when nothing else is left.
 */
import type { Clock } from '../../../src/index'
import type { OpenAIEndpoint, OpenAIEndpointPool } from '../../openai/provider/core'

/** How calls are spread over healthy endpoints. */
export type VllmBalancing = 'round_robin' | 'least_inflight'

interface EndpointState {
  readonly endpoint: OpenAIEndpoint
  readonly position: number
  inflight: number
  unreachableUntil: number
}

/** See the module comment. */
export class VllmEndpointPool implements OpenAIEndpointPool {
  readonly #states: EndpointState[]
  readonly #byEndpoint = new Map<OpenAIEndpoint, EndpointState>()
  readonly #balancing: VllmBalancing
  readonly #cooldownMs: number
  readonly #clock: Clock
  #next = 0

  constructor(
    endpoints: readonly OpenAIEndpoint[],
    balancing: VllmBalancing,
    cooldownMs: number,
    clock: Clock,
  ) {
    this.#states = endpoints.map((endpoint, position) => ({
      endpoint,
      position,
      inflight: 0,
      unreachableUntil: 0,
    }))
    for (const state of this.#states) this.#byEndpoint.set(state.endpoint, state)
    this.#balancing = balancing
    this.#cooldownMs = cooldownMs
    this.#clock = clock
  }

  candidates(): readonly OpenAIEndpoint[] {
    const now = this.#clock.now()
    const count = this.#states.length
    const start = this.#next
    this.#next = (this.#next + 1) % count
    // Round-robin order starting at a rotating offset; it also breaks least-inflight ties fairly.
    const rotated = this.#states.map((_, offset) => this.#states[(start + offset) % count] as EndpointState)
    const reachable = rotated.filter((state) => state.unreachableUntil <= now)
    const cooling = rotated
      .filter((state) => state.unreachableUntil > now)
      .sort((left, right) => left.unreachableUntil - right.unreachableUntil)
    if (this.#balancing === 'least_inflight') {
      // Array.prototype.sort is stable, so equal loads keep the rotated order.
      reachable.sort((left, right) => left.inflight - right.inflight)
    }
    return [...reachable, ...cooling].map((state) => state.endpoint)
  }

  begin(endpoint: OpenAIEndpoint): () => void {
    const state = this.#byEndpoint.get(endpoint)
    if (state === undefined) return () => {}
    state.inflight++
    let ended = false
    return () => {
      if (ended) return
      ended = true
      state.inflight--
    }
  }

  markUnreachable(endpoint: OpenAIEndpoint): void {
    const state = this.#byEndpoint.get(endpoint)
    if (state !== undefined) state.unreachableUntil = this.#clock.now() + this.#cooldownMs
  }

  /** A health probe reached the endpoint: it takes traffic again at once. */
  markReachable(endpoint: OpenAIEndpoint): void {
    const state = this.#byEndpoint.get(endpoint)
    if (state !== undefined) state.unreachableUntil = 0
  }

  /** Calls in flight per endpoint, in configuration order (for tests and diagnostics). */
  inflight(): number[] {
    return this.#states.map((state) => state.inflight)
  }
}
