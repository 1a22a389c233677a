/**
 * What the GenAI semantic conventions want to know about an exchange, read from the decrypted
 * request and the plain upstream response: the operation, the model, numeric request parameters,
 * response ids, finish reasons and token usage. Only counts, ids and names are read; message
 * content never leaves these functions. Covers the wire shapes of the built-in adapters (OpenAI
 * chat, completions, embeddings and Responses; Anthropic messages; Ollama; TGI).
 * @see https://opentelemetry.io/docs/specs/semconv/gen-ai/
 */
import type { CompiledRoute } from '../protocol/compiled-route'

/** Longest id, model name or finish reason kept, in characters. */
const MAX_NAME = 128
/** Most finish reasons kept per response (one per choice). */
const MAX_FINISH_REASONS = 8

/** The GenAI operation of a route: `chat`, `text_completion`, `embeddings`, or the route name. */
export function operationOf(route: Pick<CompiledRoute, 'name'>): string {
  const name = route.name.toLowerCase()
  if (name.includes('embed')) return 'embeddings'
  if (name.includes('chat') || name === 'messages' || name === 'responses') return 'chat'
  if (name.includes('generate') || name === 'completions') return 'text_completion'
  return name
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined
}

function finite(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}

/** A short name: strings only, cut to a bounded length. */
export function shortName(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined
  return value.length > MAX_NAME ? value.slice(0, MAX_NAME) : value
}

/** Request parameters for span attributes. */
export interface RequestFacts {
  model: string | undefined
  maxTokens: number | undefined
  temperature: number | undefined
}

/** Reads the model and numeric parameters from a decrypted request body (and path parameters). */
export function readRequestFacts(
  body: Record<string, unknown>,
  params: Readonly<Record<string, string>>,
): RequestFacts {
  const options = isRecord(body.options) ? body.options : {}
  const parameters = isRecord(body.parameters) ? body.parameters : {}
  return {
    model: shortName(body.model) ?? shortName(params.model),
    maxTokens: count(
      body.max_tokens ??
        body.max_completion_tokens ??
        body.max_output_tokens ??
        options.num_predict ??
        parameters.max_new_tokens,
    ),
    temperature: finite(body.temperature ?? options.temperature ?? parameters.temperature),
  }
}

/** What the response said about itself, accumulated over its events. */
export interface ResponseFacts {
  id?: string
  model?: string
  finishReasons: string[]
  inputTokens?: number
  outputTokens?: number
}

function addFinishReason(facts: ResponseFacts, value: unknown): void {
  const reason = shortName(value)
  if (reason === undefined || facts.finishReasons.includes(reason)) return
  if (facts.finishReasons.length < MAX_FINISH_REASONS) facts.finishReasons.push(reason)
}

function readUsage(facts: ResponseFacts, usage: unknown): void {
  if (!isRecord(usage)) return
  // OpenAI chat/completions/embeddings name them prompt/completion; Responses and Anthropic input/output.
  const input = count(usage.prompt_tokens ?? usage.input_tokens)
  const output = count(usage.completion_tokens ?? usage.output_tokens)
  if (input !== undefined) facts.inputTokens = input
  if (output !== undefined) facts.outputTokens = output
}

function readObject(facts: ResponseFacts, object: Record<string, unknown>): void {
  const id = shortName(object.id)
  if (id !== undefined) facts.id = id
  const model = shortName(object.model)
  if (model !== undefined) facts.model = model
  readUsage(facts, object.usage)
  if (Array.isArray(object.choices)) {
    for (const choice of object.choices) if (isRecord(choice)) addFinishReason(facts, choice.finish_reason)
  }
  // Anthropic's stop_reason, Ollama's done_reason, the Responses API's status.
  addFinishReason(facts, object.stop_reason ?? object.done_reason)
  if (object.object === 'response' && object.status !== 'in_progress') addFinishReason(facts, object.status)
  // Ollama counts.
  const prompt = count(object.prompt_eval_count)
  const evaluated = count(object.eval_count)
  if (prompt !== undefined) facts.inputTokens = prompt
  if (evaluated !== undefined) facts.outputTokens = evaluated
  // TGI puts them under details.
  if (isRecord(object.details)) {
    addFinishReason(facts, object.details.finish_reason)
    const generated = count(object.details.generated_tokens)
    if (generated !== undefined) facts.outputTokens = generated
  }
}

/** Folds one plain response body or stream event into the facts; later values win. */
export function readResponseFacts(facts: ResponseFacts, event: Record<string, unknown>): void {
  readObject(facts, event)
  // Anthropic stream: message_start carries the message; message_delta the stop reason.
  if (isRecord(event.message)) readObject(facts, event.message)
  if (isRecord(event.delta)) addFinishReason(facts, event.delta.stop_reason)
  // Responses API stream: response.completed and friends carry the whole response.
  if (isRecord(event.response)) readObject(facts, event.response)
}
