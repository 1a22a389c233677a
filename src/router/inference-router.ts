/**
 * The InferenceRouter: picks providers for each request by policy, then runs attempts through
 * breakers, limits, timeouts, jittered retries and fallbacks. Streams fall over transparently only
 * until their first chunk; a failure after that ends the stream with a typed error chunk, so a cut
 * answer is never mistaken for a complete one. Everything it reports (events, errors, logs) names
 * providers, models and codes only, never content.
 */
import { ContinuumError } from '../errors'
import type {
  CanonicalRequest,
  CanonicalResponse,
  DataClassification,
  EmbeddingRequest,
  EmbeddingResponse,
  ModelListing,
  StreamChunk,
  TokenCountResponse,
} from '../protocol/canonical'
import type { GatewayOptions } from '../proxy/gateway-source'
import type { Upstream } from '../proxy/upstream'
import { StoreFailureReporter } from '../stores/store-failure'
import { AttemptControl, clientAbortedError } from './attempt-control'
import { retryDelayMs, sleep } from './backoff'
import { CircuitBreaker } from './circuit-breaker'
import { RouterEvents, type RouterOperation } from './events'
import { createRouterUpstream } from './gateway/router-upstream'
import { checkRouterHealth, type RouterHealth } from './health'
import { type NormalisedRouterOptions, normaliseRouterOptions, type RouterOptions } from './options'
import { type Answer, completeAt, countTokensAt, embedAt, type ProviderCall } from './provider-calls'
import { type LimitRefusal, type LimitTicket, ProviderLimiter } from './provider-limiter'
import { ANY_MODEL, type ProviderRuntime, planRoute, type RoutingPlan } from './routing-plan'
import { SharedBreakers } from './shared-breakers'

/** One model the router serves, for `/v1/models`. */

interface AttemptFailure {
  provider: string
  code: string
  retryAfterSeconds?: number
}

const REQUEST_FATAL = new Set([
  'CONTINUUM_PROVIDER_BAD_REQUEST',
  'CONTINUUM_CLIENT_ABORTED',
  'CONTINUUM_SCHEMA_VIOLATION',
])

/** Routes canonical requests over several providers. */
export class InferenceRouter {
  readonly #options: NormalisedRouterOptions
  readonly #runtimes = new Map<string, ProviderRuntime>()
  readonly #events: RouterEvents
  readonly #ownsStore: boolean
  readonly #sharedBreakers: SharedBreakers | undefined
  #health: { at: number; result: Promise<RouterHealth> } | undefined
  #closed = false
  #attempts = 0

  constructor(options: RouterOptions) {
    this.#options = normaliseRouterOptions(options)
    this.#ownsStore = options.store === undefined
    const { clock, logger, store } = this.#options
    this.#events = new RouterEvents(this.#options.onEvent, logger)
    const shared = this.#options.sharedBreakers
    const sharing =
      shared === undefined
        ? undefined
        : new SharedBreakers(
            store,
            clock,
            new StoreFailureReporter('breaker', logger, clock),
            shared.refreshMs,
          )
    this.#sharedBreakers = sharing
    const limits = {
      store,
      clock,
      leaseMs: this.#options.concurrencyLeaseMs,
      failOpen: this.#options.rateLimitFailOpen,
      failures: new StoreFailureReporter('rate-limit', logger, clock),
    }
    for (const [id, provider] of this.#options.providers) {
      const breaker = new CircuitBreaker(
        this.#options.breaker,
        clock,
        (from, to) => {
          logger.info({ provider: id, from, to }, 'circuit breaker state changed')
          this.#events.emit({ type: 'breaker-state', provider: id, from, to })
        },
        sharing === undefined ? undefined : (until) => sharing.publish(id, until),
      )
      sharing?.add(id, breaker)
      const limiter = new ProviderLimiter(id, this.#options.rateLimits[id] ?? {}, limits)
      this.#runtimes.set(id, { provider, breaker, limiter, latencyEwma: undefined })
    }
  }

  /** Which providers a request would go to, in which order, and why; nothing is sent. */
  async explain(
    request: CanonicalRequest | EmbeddingRequest,
    operation: RouterOperation = 'messages' in request ? 'complete' : 'embed',
  ): Promise<RoutingPlan> {
    return this.#plan(operation, request)
  }

  /** One complete answer, with retries and fallback. */
  async complete(request: CanonicalRequest): Promise<CanonicalResponse> {
    const plan = await this.#plan('complete', request)
    return this.#run(plan, request, completeAt)
  }

  /**
   * Counts a request's input tokens at the first provider of its plan that can (Anthropic's
   * `count_tokens`); providers without a count are skipped, and when none can the request is
   * refused with CONTINUUM_NOT_SUPPORTED rather than answered with an estimate.
   */
  async countTokens(request: CanonicalRequest): Promise<TokenCountResponse> {
    const plan = await this.#plan('count_tokens', request)
    return this.#run(plan, request, countTokensAt)
  }

  /** Embeddings, with retries and fallback over providers that have them. */
  async embed(request: EmbeddingRequest): Promise<EmbeddingResponse> {
    const plan = await this.#plan('embed', request)
    return this.#run(plan, request, embedAt)
  }

  /**
   * A streamed answer. Fails over before the first chunk; after it, a failure yields one
   * `{ type: 'error' }` chunk with CONTINUUM_STREAM_INTERRUPTED and ends. Breaking out of the loop
   * aborts the provider's request.
   */
  stream(request: CanonicalRequest): AsyncIterable<StreamChunk> {
    return this.#stream(request)
  }

  /** Health per provider and aggregated; probes run in parallel and the result is reused for `healthCacheMs`. */
  health(): Promise<RouterHealth> {
    const now = this.#options.clock.now()
    if (this.#health !== undefined && now - this.#health.at < this.#options.healthCacheMs)
      return this.#health.result
    const result = checkRouterHealth(this.#runtimes, this.#options.timeouts.healthMs, this.#options.logger)
    this.#health = { at: now, result }
    return result
  }

  /** The public model names served: alias names and every model a provider lists. */
  models(): ModelListing[] {
    const listing = new Map<string, Set<string>>()
    const add = (model: string, provider: string): void => {
      const providers = listing.get(model) ?? new Set<string>()
      providers.add(provider)
      listing.set(model, providers)
    }
    for (const [model, mapping] of this.#options.aliases)
      for (const provider of mapping.keys()) add(model, provider)
    for (const [id, { provider }] of this.#runtimes)
      for (const model of provider.capabilities.models) if (model !== ANY_MODEL) add(model, id)
    return [...listing.entries()]
      .map(([id, providers]) => ({ id, providers: [...providers] }))
      .sort((left, right) => (left.id < right.id ? -1 : left.id > right.id ? 1 : 0))
  }

  /**
   * The upstream the proxy's `router` option uses: it answers each adapter route whose adapter
   * declares a gateway codec (OpenAI chat and embeddings, Anthropic messages, the model lists).
   * Give the router to `continuum({ router })` rather than calling this yourself.
   */
  gatewayUpstream(options: GatewayOptions = {}): Upstream {
    return createRouterUpstream(this, options)
  }

  /** Closes every provider (and the store, when the router created it); later requests fail. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#sharedBreakers?.close()
    for (const runtime of this.#runtimes.values()) runtime.limiter.close()
    const closing = [...this.#runtimes.values()].map(({ provider }) => provider.close?.())
    if (this.#ownsStore) closing.push(this.#options.store.close?.())
    const results = await Promise.allSettled(closing)
    for (const result of results) {
      if (result.status === 'rejected') this.#options.logger.warn({}, 'provider close failed; ignored')
    }
  }

  /**
   * The request's data class for routing: the declared one, or the classifier's. Only a call of
   * the classifier waits; every other answer is immediate.
   */
  #classification(
    request: CanonicalRequest | EmbeddingRequest,
  ): DataClassification | undefined | Promise<DataClassification | undefined> {
    const declared = request.metadata?.classification
    if (declared !== undefined || this.#options.policy.type !== 'classification_based') return declared
    const classifier = this.#options.classifier
    if (classifier === undefined) return undefined
    // Embeddings send their inputs to the provider as much as a chat sends its messages, so the
    // classifier reads them too, each as a user message; skipping them let any content the
    // policy keeps local reach a cloud provider through the embeddings endpoint.
    if (!('messages' in request)) return this.#classify(classifier, embeddingAsChat(request))
    if (request.native?.opaqueContent === true) {
      // Fail closed: the classifier reads canonical messages, and part of this request's content
      // (a document, a file, audio) has no canonical form, so it could not have read all of it.
      this.#options.logger.info(
        {},
        'request carries content the classifier cannot read; treated as restricted',
      )
      return 'restricted'
    }
    return this.#classify(classifier, request)
  }

  async #classify(
    classifier: NonNullable<NormalisedRouterOptions['classifier']>,
    request: CanonicalRequest,
  ): Promise<DataClassification> {
    try {
      return await classifier(request)
    } catch {
      // Fail closed: an unclassifiable request is treated as the most sensitive kind.
      this.#options.logger.warn({}, 'classifier threw; request treated as restricted')
      return 'restricted'
    }
  }

  /** The plan of a request; it waits only for a classifier, when one has to be asked. */
  #plan(
    operation: RouterOperation,
    request: CanonicalRequest | EmbeddingRequest,
  ): RoutingPlan | Promise<RoutingPlan> {
    if (this.#closed) {
      throw new ContinuumError('CONTINUUM_NO_PROVIDER_AVAILABLE', 'The router is closed', {
        isRetryable: false,
      })
    }
    validateRequest(operation, request)
    const classification = this.#classification(request)
    if (classification instanceof Promise) {
      return classification.then((resolved) => this.#planFor(operation, request, resolved))
    }
    return this.#planFor(operation, request, classification)
  }

  #planFor(
    operation: RouterOperation,
    request: CanonicalRequest | EmbeddingRequest,
    classification: DataClassification | undefined,
  ): RoutingPlan {
    const plan = planRoute(this.#options, this.#runtimes, operation, request, classification)
    if (this.#events.observed) {
      this.#events.emit({
        type: 'route',
        operation,
        model: request.model,
        providers: plan.candidates.map((candidate) => candidate.provider),
        policy: plan.policy,
      })
    }
    return plan
  }

  /**
   * Reserves a breaker slot and the limits, or records why the provider is skipped. Immediate
   * unless the limiter has to ask the store; a caller's abort ends that wait at once.
   */
  #admit(
    runtime: ProviderRuntime,
    plan: RoutingPlan,
    failures: AttemptFailure[],
    signal: AbortSignal | undefined,
  ): LimitTicket | undefined | Promise<LimitTicket | undefined> {
    const id = runtime.provider.id
    if (!runtime.breaker.tryAcquire()) {
      this.#events.emit({
        type: 'provider-skipped',
        operation: plan.operation,
        provider: id,
        reason: 'circuit-open',
      })
      failures.push({
        provider: id,
        code: 'CONTINUUM_CIRCUIT_OPEN',
        retryAfterSeconds: runtime.breaker.retryInMs() / 1000,
      })
      return undefined
    }
    let admission: ReturnType<ProviderLimiter['acquire']>
    try {
      admission = runtime.limiter.acquire(plan.estimatedInputTokens, signal)
    } catch (error) {
      runtime.breaker.recordNeutral()
      throw error
    }
    if (!(admission instanceof Promise)) return this.#admitted(runtime, plan, failures, admission)
    return admission.then(
      (settled) => this.#admitted(runtime, plan, failures, settled),
      (error: unknown) => {
        runtime.breaker.recordNeutral()
        throw error
      },
    )
  }

  /** The limiter's answer: the ticket, or the refusal recorded as the reason to skip the provider. */
  #admitted(
    runtime: ProviderRuntime,
    plan: RoutingPlan,
    failures: AttemptFailure[],
    admission: LimitRefusal | LimitTicket,
  ): LimitTicket | undefined {
    if (!('reason' in admission)) return admission
    const id = runtime.provider.id
    runtime.breaker.recordNeutral()
    this.#events.emit({
      type: 'provider-skipped',
      operation: plan.operation,
      provider: id,
      reason: admission.reason,
    })
    failures.push({
      provider: id,
      code: 'CONTINUUM_RATE_LIMITED',
      retryAfterSeconds: admission.retryAfterMs / 1000,
    })
    return undefined
  }

  /**
   * Tells the breaker how an attempt that started at `startedAt` ended; `answered` when the
   * provider had sent something in it (a stream's first chunk), which makes a later timeout that
   * attempt's own slowness, not the provider's (see `breaker.countTimeouts`).
   */
  #recordOutcome(
    runtime: ProviderRuntime,
    error: ContinuumError | undefined,
    latencyMs: number,
    startedAt: number,
    answered = false,
  ): void {
    if (error === undefined) {
      runtime.breaker.recordSuccess()
      this.#recordLatency(runtime, latencyMs)
    } else if (error.code === 'CONTINUUM_PROVIDER_TIMEOUT') runtime.breaker.recordTimeout(startedAt, answered)
    else if (error.isRetryable && error.code !== 'CONTINUUM_CLIENT_ABORTED') runtime.breaker.recordFailure()
    else runtime.breaker.recordNeutral()
  }

  #recordLatency(runtime: ProviderRuntime, latencyMs: number): void {
    const smoothing = this.#options.latencySmoothing
    runtime.latencyEwma =
      runtime.latencyEwma === undefined
        ? latencyMs
        : runtime.latencyEwma + smoothing * (latencyMs - runtime.latencyEwma)
  }

  /**
   * A stream's first chunk answers a half-open breaker's probe: the provider serves again. Waiting
   * for the stream's end would hold the probe slot as long as the consumer reads, so one client
   * reading slowly (or not at all, its connection open) would keep the provider skipped by
   * everyone. Returns whether it answered, so the stream's success is not counted again at its end.
   */
  #answerProbe(runtime: ProviderRuntime): boolean {
    if (runtime.breaker.state !== 'half-open') return false
    runtime.breaker.recordSuccess()
    return true
  }

  /** After a failed attempt: the backoff to wait before retrying the same provider, or undefined to move on. */
  #retryDelay(error: ContinuumError, retry: number, deadline: number): number | undefined {
    if (!error.isRetryable || retry >= this.#options.retry.maxRetries) return undefined
    const delay = retryDelayMs(this.#options.retry, retry, this.#options.random, error.retryAfterSeconds)
    if (delay === undefined || this.#options.clock.now() + delay >= deadline) return undefined
    return delay
  }

  /** Runs one attempt against one provider, with its timeout, breaker and limit bookkeeping. */
  async #attempt<R extends CanonicalRequest | EmbeddingRequest, T extends Answer>(
    plan: RoutingPlan,
    runtime: ProviderRuntime,
    ticket: LimitTicket,
    model: string,
    retry: number,
    deadline: number,
    request: R,
    call: ProviderCall<R, T>,
  ): Promise<{ value: T; error?: undefined } | { value?: undefined; error: ContinuumError }> {
    const { clock, timeouts } = this.#options
    const control = new AttemptControl(runtime.provider.id, request.signal)
    const started = clock.now()
    const provider = runtime.provider.id
    const attemptId = ++this.#attempts
    if (this.#events.observed) {
      this.#events.emit({
        type: 'attempt-start',
        operation: plan.operation,
        provider,
        model,
        attempt: retry,
        attemptId,
      })
    }
    let outcome: { value: T; error?: undefined } | { value?: undefined; error: ContinuumError }
    let tokens = plan.estimatedInputTokens
    try {
      const timeout = Math.min(timeouts.attemptMs, Math.max(1, deadline - clock.now()))
      const value = await control.race(call(runtime, request, model, control.signal), timeout, 'attempt')
      control.finish()
      if (value.usage !== undefined) tokens = value.usage.inputTokens + value.usage.outputTokens
      outcome = { value }
    } catch (thrown) {
      outcome = { error: control.normalise(thrown) }
      control.dispose()
    }
    const latencyMs = clock.now() - started
    this.#recordOutcome(runtime, outcome.error, latencyMs, started)
    void ticket.release(tokens)
    if (this.#events.observed) {
      const usage = outcome.value?.usage
      this.#events.emit({
        type: 'attempt-end',
        operation: plan.operation,
        provider,
        model,
        attempt: retry,
        attemptId,
        latencyMs,
        durationMs: latencyMs,
        outcome: outcome.error === undefined ? 'success' : 'error',
        ...(outcome.error === undefined ? {} : { errorCode: outcome.error.code }),
        ...(usage === undefined
          ? {}
          : { usage: { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens } }),
      })
    }
    return outcome
  }

  async #run<R extends CanonicalRequest | EmbeddingRequest, T extends Answer>(
    plan: RoutingPlan,
    request: R,
    call: ProviderCall<R, T>,
  ): Promise<T> {
    const deadline = this.#options.clock.now() + this.#options.timeouts.totalMs
    const failures: AttemptFailure[] = []
    let lastError: ContinuumError | undefined
    for (const candidate of plan.candidates) {
      const runtime = this.#runtimes.get(candidate.provider)!
      for (let retry = 0; ; retry += 1) {
        const admission = this.#admit(runtime, plan, failures, request.signal)
        const ticket = admission instanceof Promise ? await admission : admission
        if (ticket === undefined) break
        const outcome = await this.#attempt(
          plan,
          runtime,
          ticket,
          candidate.model,
          retry,
          deadline,
          request,
          call,
        )
        if (outcome.error === undefined) return outcome.value
        const error = outcome.error
        lastError = error
        failures.push({
          provider: candidate.provider,
          code: error.code,
          retryAfterSeconds: error.retryAfterSeconds,
        })
        if (REQUEST_FATAL.has(error.code)) throw error
        const delay = this.#retryDelay(error, retry, deadline)
        if (delay === undefined) break
        await this.#sleep(delay, request.signal)
      }
      if (this.#options.clock.now() >= deadline) break
    }
    throw this.#exhausted(plan, failures, lastError)
  }

  async #sleep(milliseconds: number, signal: AbortSignal | undefined): Promise<void> {
    try {
      await sleep(milliseconds, signal)
    } catch {
      throw clientAbortedError(signal!)
    }
  }

  /** The error when every candidate failed or was skipped. */
  #exhausted(
    plan: RoutingPlan,
    failures: AttemptFailure[],
    lastError: ContinuumError | undefined,
  ): ContinuumError {
    const attempts = failures.map(({ provider, code }) => ({ provider, code }))
    const waits = failures.map((failure) => failure.retryAfterSeconds).filter((wait) => wait !== undefined)
    const retryAfterSeconds = waits.length === 0 ? undefined : Math.ceil(Math.min(...waits))
    const retryAfter = retryAfterSeconds === undefined ? {} : { retryAfterSeconds }
    const providers = new Set(failures.map((failure) => failure.provider))
    if (lastError !== undefined && providers.size === 1) return lastError
    if (failures.length > 0 && failures.every((failure) => failure.code === 'CONTINUUM_RATE_LIMITED')) {
      return new ContinuumError(
        'CONTINUUM_RATE_LIMITED',
        `Every provider of model "${plan.model}" is at its limit`,
        {
          details: { attempts },
          ...retryAfter,
        },
      )
    }
    if (failures.length > 0 && failures.every((failure) => failure.code === 'CONTINUUM_CIRCUIT_OPEN')) {
      return new ContinuumError(
        'CONTINUUM_CIRCUIT_OPEN',
        `Every provider of model "${plan.model}" is open-circuited`,
        {
          details: { attempts },
          ...retryAfter,
        },
      )
    }
    return new ContinuumError(
      'CONTINUUM_NO_PROVIDER_AVAILABLE',
      `No provider could serve model "${plan.model}"`,
      {
        cause: lastError,
        details: { attempts },
        ...retryAfter,
      },
    )
  }

  async *#stream(request: CanonicalRequest): AsyncGenerator<StreamChunk> {
    const plan = await this.#plan('stream', request)
    const { clock, timeouts } = this.#options
    const deadline = clock.now() + timeouts.totalMs
    const failures: AttemptFailure[] = []
    let lastError: ContinuumError | undefined
    for (const candidate of plan.candidates) {
      const runtime = this.#runtimes.get(candidate.provider)!
      const provider = candidate.provider
      for (let retry = 0; ; retry += 1) {
        const ticket = await this.#admit(runtime, plan, failures, request.signal)
        if (ticket === undefined) break
        const control = new AttemptControl(provider, request.signal)
        const started = clock.now()
        const attemptId = ++this.#attempts
        if (this.#events.observed) {
          this.#events.emit({
            type: 'attempt-start',
            operation: 'stream',
            provider,
            model: candidate.model,
            attempt: retry,
            attemptId,
          })
        }
        let iterator: AsyncIterator<StreamChunk> | undefined
        let first: IteratorResult<StreamChunk> | undefined
        let error: ContinuumError | undefined
        try {
          iterator = runtime.provider
            .stream({ ...request, model: candidate.model, signal: control.signal })
            [Symbol.asyncIterator]()
          const timeout = Math.min(timeouts.attemptMs, Math.max(1, deadline - clock.now()))
          first = await control.race(iterator.next(), timeout, 'first chunk')
          if (first.done) {
            throw new ContinuumError(
              'CONTINUUM_PROVIDER_ERROR',
              `Provider ${provider} ended its stream before any chunk`,
              {
                details: { provider },
                isRetryable: true,
              },
            )
          }
        } catch (thrown) {
          error = control.normalise(thrown)
        }
        const latencyMs = clock.now() - started
        if (error !== undefined || first === undefined || first.done) {
          // Failed before the first chunk: nothing reached the consumer, so fall over transparently.
          const failure = error!
          control.dispose()
          closeQuietly(iterator)
          this.#recordOutcome(runtime, failure, latencyMs, started)
          void ticket.release(plan.estimatedInputTokens)
          this.#emitAttemptEnd(
            { provider, model: candidate.model, retry, attemptId, latencyMs, started },
            failure,
          )
          lastError = failure
          failures.push({ provider, code: failure.code, retryAfterSeconds: failure.retryAfterSeconds })
          if (REQUEST_FATAL.has(failure.code)) throw failure
          const delay = this.#retryDelay(failure, retry, deadline)
          if (delay === undefined) break
          await this.#sleep(delay, request.signal)
          continue
        }
        // Committed to this provider: time to first chunk is its latency sample.
        yield* this.#relay(
          runtime,
          ticket,
          { provider, model: candidate.model, retry, attemptId, latencyMs, started },
          control,
          iterator!,
          first.value,
          plan.estimatedInputTokens,
        )
        return
      }
      if (clock.now() >= deadline) break
    }
    throw this.#exhausted(plan, failures, lastError)
  }

  /** Passes a started stream through; a failure now ends it with one error chunk. */
  async *#relay(
    runtime: ProviderRuntime,
    ticket: LimitTicket,
    attempt: StreamAttempt,
    control: AttemptControl,
    iterator: AsyncIterator<StreamChunk>,
    firstChunk: StreamChunk,
    estimatedTokens: number,
  ): AsyncGenerator<StreamChunk> {
    const { provider, model, latencyMs } = attempt
    let tokens = estimatedTokens
    let usage: { inputTokens: number; outputTokens: number } | undefined
    let finished = false
    let settled = false
    // An error chunk in first place is a failure, not an answer.
    if (firstChunk.type !== 'error') runtime.breaker.recordAnswer()
    const probeAnswered = firstChunk.type !== 'error' && this.#answerProbe(runtime)
    try {
      let chunk: StreamChunk = firstChunk
      for (;;) {
        if (chunk.type === 'error') throw chunk.error
        if (chunk.type === 'usage') {
          tokens = chunk.usage.inputTokens + chunk.usage.outputTokens
          usage = { inputTokens: chunk.usage.inputTokens, outputTokens: chunk.usage.outputTokens }
        }
        if (chunk.type === 'finish') finished = true
        yield chunk
        const next = await control.race(iterator.next(), this.#options.timeouts.streamIdleMs, 'stream idle')
        if (next.done) break
        chunk = next.value
      }
      if (!finished) {
        throw new ContinuumError(
          'CONTINUUM_PROVIDER_ERROR',
          `Provider ${provider} ended its stream without finishing`,
          {
            details: { provider },
            isRetryable: true,
          },
        )
      }
      settled = true
      if (probeAnswered) this.#recordLatency(runtime, latencyMs)
      else this.#recordOutcome(runtime, undefined, latencyMs, attempt.started)
      this.#emitAttemptEnd(attempt, undefined, usage)
    } catch (thrown) {
      settled = true
      const error = control.normalise(thrown)
      // The first chunk came: a timeout now is this stream's, not an unresponsive provider's.
      this.#recordOutcome(runtime, error, latencyMs, attempt.started, firstChunk.type !== 'error')
      this.#emitAttemptEnd(attempt, error, usage)
      if (error.code === 'CONTINUUM_CLIENT_ABORTED') throw error
      const interrupted = new ContinuumError(
        'CONTINUUM_STREAM_INTERRUPTED',
        `The stream from provider ${provider} failed after it started (${error.code})`,
        { cause: error, details: { provider, upstreamCode: error.code } },
      )
      this.#events.emit({ type: 'stream-interrupted', provider, model, errorCode: error.code })
      yield { type: 'error', error: interrupted }
    } finally {
      // Reached on completion, on failure, and when the consumer breaks out of its loop.
      if (!settled) {
        runtime.breaker.recordNeutral()
        // Every attempt that started ends, so spans and gauges never wait for it.
        this.#emitAttemptEnd(attempt, 'cancelled', usage)
      }
      control.dispose()
      closeQuietly(iterator)
      void ticket.release(tokens)
    }
  }

  #emitAttemptEnd(
    attempt: StreamAttempt,
    error: ContinuumError | 'cancelled' | undefined,
    usage?: { inputTokens: number; outputTokens: number },
  ): void {
    if (!this.#events.observed) return
    this.#events.emit({
      type: 'attempt-end',
      operation: 'stream',
      provider: attempt.provider,
      model: attempt.model,
      attempt: attempt.retry,
      attemptId: attempt.attemptId,
      latencyMs: attempt.latencyMs,
      durationMs: this.#options.clock.now() - attempt.started,
      outcome: error === undefined ? 'success' : error === 'cancelled' ? 'cancelled' : 'error',
      ...(error === undefined || error === 'cancelled' ? {} : { errorCode: error.code }),
      ...(usage === undefined ? {} : { usage }),
    })
  }
}

/** One stream attempt, as its events describe it. */
interface StreamAttempt {
  provider: string
  model: string
  retry: number
  attemptId: number
  /** Time to the first chunk. */
  latencyMs: number
  started: number
}

/** What the classifier reads of an embeddings request: its inputs, each as a user message. */
function embeddingAsChat(request: EmbeddingRequest): CanonicalRequest {
  return {
    model: request.model,
    messages: request.input.map((input) => ({ role: 'user', content: input })),
    ...(request.metadata === undefined ? {} : { metadata: request.metadata }),
  }
}

/** Lets a provider's iterator run its cleanup without waiting on it (it may be stuck in a read). */
function closeQuietly(iterator: AsyncIterator<StreamChunk> | undefined): void {
  try {
    iterator?.return?.()?.catch(() => {})
  } catch {
    // A synchronous throw from return() changes nothing: the attempt's signal is already aborted.
  }
}

const ROLES = new Set(['system', 'user', 'assistant', 'tool'])

function invalidRequest(path: string, expectation: string): never {
  throw new ContinuumError('CONTINUUM_SCHEMA_VIOLATION', `request.${path}: ${expectation}`, {
    details: { path },
  })
}

/** The router's own guard on request shape; adapters validate wire schemas before this. */
function validateRequest(operation: RouterOperation, request: CanonicalRequest | EmbeddingRequest): void {
  if (typeof request !== 'object' || request === null) invalidRequest('', 'must be an object')
  if (typeof request.model !== 'string' || request.model === '')
    invalidRequest('model', 'must be a non-empty string')
  if (operation === 'embed') {
    const input = (request as EmbeddingRequest).input
    if (!Array.isArray(input) || input.some((item) => typeof item !== 'string'))
      invalidRequest('input', 'must be an array of strings')
    return
  }
  const chat = request as CanonicalRequest
  if (!Array.isArray(chat.messages)) invalidRequest('messages', 'must be an array')
  const messages = chat.messages
  for (let index = 0; index < messages.length; index++) {
    const message = messages[index]
    if (typeof message !== 'object' || message === null || !ROLES.has(message.role)) {
      invalidRequest(`messages[${index}].role`, 'must be system, user, assistant or tool')
    }
    if (typeof message.content !== 'string' && !Array.isArray(message.content)) {
      invalidRequest(`messages[${index}].content`, 'must be a string or an array of parts')
    }
  }
}
