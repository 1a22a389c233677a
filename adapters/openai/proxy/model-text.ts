/**
 * Which members of OpenAI requests the model reads, for the prompt scanner: every message's
 * content parts, `name`, refusal and tool-call arguments (with the message's role: `developer`
 * counts as system text, tool results as tool output), tool and function definitions (names,
 * descriptions and parameter schemas, where tool poisoning hides), response schemas, the
 * Responses API's instructions and input items, and every member this list does not know, which
 * an OpenAI-compatible server (vLLM's `chat_template` or `documents`, say) may show the model.
 * Binary members (images, audio, file data) are not text and are not scanned.
 */

import type { ModelTextRole, ModelTextSegment } from '../../../src/index'
import { chatRole, ModelTextCollector, pointer, recordOf } from '../../../src/index'

/** Top-level members that steer sampling or bookkeeping and never reach the model as text. */
const SETTINGS = [
  'model',
  'stream',
  'stream_options',
  'max_tokens',
  'max_completion_tokens',
  'max_output_tokens',
  'temperature',
  'top_p',
  'n',
  'best_of',
  'echo',
  'presence_penalty',
  'frequency_penalty',
  'seed',
  'logprobs',
  'top_logprobs',
  'logit_bias',
  'service_tier',
  'parallel_tool_calls',
  'reasoning_effort',
  'reasoning',
  'user',
  'metadata',
  'store',
  'background',
  'truncation',
  'modalities',
  'audio',
  'tool_choice',
  'stop',
  'encoding_format',
  'dimensions',
  'prompt_cache_key',
  'safety_identifier',
  'previous_response_id',
  'include',
  'verbosity',
]

const known = (...members: string[]) => new Set([...SETTINGS, ...members])
const CHAT_KNOWN = known('messages', 'tools', 'functions', 'response_format', 'prediction')
const COMPLETION_KNOWN = known('prompt', 'suffix')
const EMBEDDING_KNOWN = known('input')
const RESPONSES_KNOWN = known('instructions', 'input', 'tools', 'text', 'prompt')
/** Message members read above, or carrying no text (the role, ids, an audio reference). */
const MESSAGE_KNOWN = new Set([
  'role',
  'content',
  'name',
  'tool_call_id',
  'tool_calls',
  'function_call',
  'audio',
])

/** Part types that hold pixels or sound, not text. */
const BINARY_PARTS = new Set(['image_url', 'input_image', 'input_audio'])

/** One content part of a chat message or a Responses input item. */
function part(into: ModelTextCollector, role: ModelTextRole, value: unknown, path: string): void {
  const item = recordOf(value)
  if (item === undefined) into.json(role, value, path)
  else if (item.type === 'text' || item.type === 'input_text' || item.type === 'output_text')
    into.text(role, item.text, pointer(path, 'text'))
  else if (item.type === 'refusal') into.text(role, item.refusal, pointer(path, 'refusal'))
  else if (item.type === 'file')
    into.text(role, recordOf(item.file)?.filename, pointer(pointer(path, 'file'), 'filename'))
  else if (item.type === 'input_file') into.text(role, item.filename, pointer(path, 'filename'))
  else if (!BINARY_PARTS.has(String(item.type))) into.json(role, item, path)
}

/** A message `content`: a string or a list of parts. */
function content(into: ModelTextCollector, role: ModelTextRole, value: unknown, path: string): void {
  if (!Array.isArray(value)) into.json(role, value, path)
  else for (const [index, entry] of value.entries()) part(into, role, entry, pointer(path, index))
}

function chatMessage(into: ModelTextCollector, value: unknown, path: string): void {
  const message = recordOf(value)
  if (message === undefined) {
    into.json('user', value, path)
    return
  }
  const role = chatRole(message.role)
  content(into, role, message.content, pointer(path, 'content'))
  into.text(role, message.name, pointer(path, 'name'))
  into.json(role, message.tool_calls, pointer(path, 'tool_calls'))
  into.json(role, message.function_call, pointer(path, 'function_call'))
  into.rest(role, message, path, MESSAGE_KNOWN)
}

function tools(into: ModelTextCollector, body: Record<string, unknown>): void {
  // Tool definitions often come from third-party tool servers: the tool-poisoning path.
  into.json('tool', body.tools, '/tools')
  into.json('tool', body.functions, '/functions')
}

/** `/v1/chat/completions`. */
export function chatModelText(body: Record<string, unknown>): ModelTextSegment[] {
  const into = new ModelTextCollector()
  if (!Array.isArray(body.messages)) into.json('user', body.messages, '/messages')
  else
    for (const [index, message] of body.messages.entries())
      chatMessage(into, message, pointer('/messages', index))
  tools(into, body)
  into.json('system', body.response_format, '/response_format')
  into.json('assistant', body.prediction, '/prediction')
  into.rest('user', body, '', CHAT_KNOWN)
  return into.segments
}

/** `/v1/completions`. */
export function completionModelText(body: Record<string, unknown>): ModelTextSegment[] {
  const into = new ModelTextCollector()
  into.json('user', body.prompt, '/prompt')
  into.text('user', body.suffix, '/suffix')
  into.rest('user', body, '', COMPLETION_KNOWN)
  return into.segments
}

/** `/v1/embeddings`: the texts embedded are documents to be retrieved later. */
export function embeddingModelText(body: Record<string, unknown>): ModelTextSegment[] {
  const into = new ModelTextCollector()
  into.json('document', body.input, '/input')
  into.rest('user', body, '', EMBEDDING_KNOWN)
  return into.segments
}

/** The role of a Responses API input item: its `role`, or what its type says it carries. */
function itemRole(item: Record<string, unknown>): ModelTextRole {
  if (typeof item.role === 'string') return chatRole(item.role)
  const type = typeof item.type === 'string' ? item.type : ''
  if (type.endsWith('_output') || type.endsWith('_result')) return 'tool'
  if (type.endsWith('_call') || type === 'reasoning') return 'assistant'
  return 'user'
}

const MESSAGE_ITEM_KNOWN = new Set(['type', 'id', 'role', 'status', 'content'])
const OUTPUT_ITEM_KNOWN = new Set(['type', 'id', 'call_id', 'status', 'output'])
const OTHER_ITEM_KNOWN = new Set(['type', 'id', 'call_id', 'status'])

/** One Responses API input item: a message, a function result, or any other item taken whole. */
function inputItem(into: ModelTextCollector, value: unknown, path: string): void {
  const item = recordOf(value)
  if (item === undefined) {
    into.json('user', value, path)
    return
  }
  const role = itemRole(item)
  if (item.type === undefined || item.type === 'message') {
    content(into, role, item.content, pointer(path, 'content'))
    into.rest(role, item, path, MESSAGE_ITEM_KNOWN)
  } else if (Array.isArray(item.output)) {
    // A function result given as parts (text, images, files).
    content(into, role, item.output, pointer(path, 'output'))
    into.rest(role, item, path, OUTPUT_ITEM_KNOWN)
  } else into.rest(role, item, path, OTHER_ITEM_KNOWN)
}

/** `/v1/responses`. */
export function responsesModelText(body: Record<string, unknown>): ModelTextSegment[] {
  const into = new ModelTextCollector()
  into.text('system', body.instructions, '/instructions')
  if (!Array.isArray(body.input)) into.json('user', body.input, '/input')
  else for (const [index, item] of body.input.entries()) inputItem(into, item, pointer('/input', index))
  tools(into, body)
  into.json('system', body.text, '/text')
  into.json('user', body.prompt, '/prompt')
  into.rest('user', body, '', RESPONSES_KNOWN)
  return into.segments
}
