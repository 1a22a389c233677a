/**
 * What telemetry and audit want to know about an exchange, in protocol-neutral form: the model,
 * the numeric request parameters, and what the response said about itself (id, model, finish
 * reasons, token usage). Each adapter reads its own wire shapes into these through a
 * {@link FactsReader}; only counts, ids and names are read, never content.
 * @see https://opentelemetry.io/docs/specs/semconv/gen-ai/
 */

/** Request parameters for span attributes and audit records. */
export interface RequestFacts {
  model: string | undefined
  maxTokens: number | undefined
  temperature: number | undefined
}

/** What the response said about itself, accumulated over its events. */
export interface ResponseFacts {
  id?: string
  model?: string
  finishReasons: string[]
  inputTokens?: number
  outputTokens?: number
}

/** Reads facts from the plain bodies of one route. */
export interface FactsReader {
  /** The model and parameters of a decrypted request body (path parameters hold Triton's model). */
  request(body: Record<string, unknown>, params: Readonly<Record<string, string>>): RequestFacts
  /** Folds one plain response body or stream event into the facts; later values win. */
  response(facts: ResponseFacts, event: Record<string, unknown>): void
}

/** Longest id, model name or finish reason kept, in characters. */
const MAX_NAME = 128
/** Most finish reasons kept per response (one per choice). */
const MAX_FINISH_REASONS = 8

/** A short name: strings only, cut to a bounded length. */
export function shortName(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined
  return value.length > MAX_NAME ? value.slice(0, MAX_NAME) : value
}

/** A token count: a non-negative safe integer, or undefined. */
export function tokenCount(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined
}

/** A finite number, or undefined. */
export function finiteNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}

/** What an answer or stream event names about itself, as found on its wire (unchecked values). */
export interface AnswerFacts {
  id?: unknown
  model?: unknown
  inputTokens?: unknown
  outputTokens?: unknown
}

/**
 * Records the id and model (as short names) and the token counts an answer names; a value that
 * is absent or of the wrong kind leaves what earlier events said.
 * @example addAnswerFacts(facts, { id: body.id, model: body.model, outputTokens: body.usage?.output_tokens })
 */
export function addAnswerFacts(facts: ResponseFacts, answer: AnswerFacts): void {
  const id = shortName(answer.id)
  if (id !== undefined) facts.id = id
  const model = shortName(answer.model)
  if (model !== undefined) facts.model = model
  const input = tokenCount(answer.inputTokens)
  if (input !== undefined) facts.inputTokens = input
  const output = tokenCount(answer.outputTokens)
  if (output !== undefined) facts.outputTokens = output
}

/** Adds a finish reason once, keeping a bounded list. */
export function addFinishReason(facts: ResponseFacts, value: unknown): void {
  const reason = shortName(value)
  if (reason === undefined || facts.finishReasons.includes(reason)) return
  if (facts.finishReasons.length < MAX_FINISH_REASONS) facts.finishReasons.push(reason)
}
