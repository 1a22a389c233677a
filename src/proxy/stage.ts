/**
 * The stage contract: how cross-cutting concerns (prompt scanning, audit, telemetry, caching,
 * redaction, your own) wrap an exchange without the pipeline knowing them, in the spirit of the
 * AI SDK's `wrapGenerate`/`wrapStream` middleware. A stage has up to three around-hooks, each
 * `(exchange, next) => response`, at the three points of the onion:
 *
 * ```
 * wrapExchange ─ read, authenticate, decrypt, validate ─ wrapAccepted ─ wrapUpstream ─ upstream
 * ```
 *
 * A hook runs code before `next()` (inspect or change the request, refuse it by throwing a
 * ContinuumError), may answer without calling it (a cache hit), and may look at or replace the
 * plain response it gets back (objects: a JSON body or stream events). Stages see decrypted
 * content in-process; they must never copy it into logs, records or metrics.
 */
import type { CoreHandler } from '../core/http'
import type { Exchange, ExchangeResponse, ReceivedExchange } from './exchange'

/** Runs the rest of the pipeline inside a hook. Call it at most once. */
export type Next = () => Promise<ExchangeResponse>

/** A cross-cutting stage. Give at least one hook or a handler. */
export interface ProxyStage {
  /** Short stable name, e.g. `scanner`; names its telemetry span and its log lines. */
  readonly name: string
  /**
   * Around the whole exchange, from the moment its route matched: it also sees requests refused
   * while being read, authenticated, decrypted or validated (telemetry, audit). `exchange.body`
   * is set once `next()` got past decryption.
   */
  wrapExchange?(exchange: ReceivedExchange, next: Next): Promise<ExchangeResponse>
  /** Around the accepted exchange: decrypted and validated, before anything is forwarded (scanning, redaction). */
  wrapAccepted?(exchange: Exchange, next: Next): Promise<ExchangeResponse>
  /** Around the upstream call itself (caching, the upstream's telemetry span). */
  wrapUpstream?(exchange: Exchange, next: Next): Promise<ExchangeResponse>
  /**
   * Endpoints the stage serves before the adapter routes (e.g. `/metrics`); resolves `undefined`
   * for requests that are not its own.
   */
  readonly handler?: CoreHandler
}

/** The hooks of the stages at one point of the onion, outermost first, with their stage names. */
export interface StageHooks<E> {
  readonly names: readonly string[]
  readonly hooks: readonly ((exchange: E, next: Next) => Promise<ExchangeResponse>)[]
}

/** Collects one hook of every stage that has it, bound to its stage. */
export function hooksOf<E extends ReceivedExchange>(
  stages: readonly ProxyStage[],
  hook: 'wrapExchange' | 'wrapAccepted' | 'wrapUpstream',
): StageHooks<E> {
  const names: string[] = []
  const hooks: ((exchange: E, next: Next) => Promise<ExchangeResponse>)[] = []
  for (const stage of stages) {
    const wrap = stage[hook] as ((exchange: E, next: Next) => Promise<ExchangeResponse>) | undefined
    if (wrap === undefined) continue
    names.push(stage.name)
    hooks.push(wrap.bind(stage))
  }
  return { names, hooks }
}

/**
 * Runs `inner` inside the hooks, outermost first. `onStage` hears when each hook starts and when
 * it calls `next()` (or returns without), for phase timings.
 */
export function runHooks<E>(
  stageHooks: StageHooks<E>,
  exchange: E,
  inner: () => Promise<ExchangeResponse>,
  onStage?: (name: string) => () => void,
): Promise<ExchangeResponse> {
  const { hooks, names } = stageHooks
  // No stage has this hook (the common case): no runner closure to make for nothing.
  if (hooks.length === 0) return inner()
  const run = (index: number): Promise<ExchangeResponse> => {
    if (index === hooks.length) return inner()
    let called = false
    const stop = onStage?.(names[index]!)
    const next: Next = () => {
      if (called) return Promise.reject(new TypeError(`Stage "${names[index]}" called next() twice`))
      called = true
      stop?.()
      return run(index + 1)
    }
    const result = hooks[index]!(exchange, next)
    if (stop === undefined) return result
    return result.then(
      (response) => {
        if (!called) stop()
        return response
      },
      (error: unknown) => {
        if (!called) stop()
        throw error
      },
    )
  }
  return run(0)
}

/**
 * Passes each event of a streamed response through `map` (which may return the event unchanged,
 * a replacement, or `undefined` to drop it); a JSON body goes through once. For stages that look
 * at or rewrite answers.
 */
export function mapResponse(
  response: ExchangeResponse,
  map: (data: Record<string, unknown>, name: string | undefined) => Record<string, unknown> | undefined,
): ExchangeResponse {
  const body = response.body
  if (body.type === 'json') {
    const value = map(body.value, undefined)
    return value === undefined ? response : { ...response, body: { type: 'json', value } }
  }
  if (body.type !== 'events') return response
  const source = body.events
  async function* mapped() {
    for await (const event of source) {
      const data = map(event.data, event.name)
      if (data !== undefined) yield event.name === undefined ? { data } : { data, name: event.name }
    }
  }
  return { ...response, body: { type: 'events', events: mapped() } }
}
