/**
 * Which fields of the OpenAI protocol stay plain: the routing metadata a load balancer may read
 * (model, stream, token limits, sampling knobs) and the bookkeeping of responses (ids, usage,
 * finish reasons, roles). Prompts, messages, tool definitions and calls, outputs and embeddings
 * are everything else, and are encrypted.
 */

const SAMPLING = [
  'temperature',
  'top_p',
  'n',
  'presence_penalty',
  'frequency_penalty',
  'seed',
  'logprobs',
  'top_logprobs',
  'service_tier',
  'parallel_tool_calls',
  'reasoning_effort',
]

/** `/v1/chat/completions` request. */
export const CHAT_REQUEST_PLAIN = [
  'model',
  'stream',
  'stream_options',
  'max_tokens',
  'max_completion_tokens',
  ...SAMPLING,
  'messages.*.role',
]

const ERROR_PLAIN = ['error.type', 'error.code', 'error.param']

/** `/v1/chat/completions` JSON response. */
export const CHAT_RESPONSE_PLAIN = [
  'id',
  'object',
  'created',
  'model',
  'system_fingerprint',
  'service_tier',
  'usage',
  'choices.*.index',
  'choices.*.finish_reason',
  'choices.*.message.role',
  ...ERROR_PLAIN,
]

/** `/v1/chat/completions` stream chunk. */
export const CHAT_CHUNK_PLAIN = [
  'id',
  'object',
  'created',
  'model',
  'system_fingerprint',
  'service_tier',
  'usage',
  'choices.*.index',
  'choices.*.finish_reason',
  'choices.*.delta.role',
  ...ERROR_PLAIN,
]

/** `/v1/completions` request. */
export const COMPLETION_REQUEST_PLAIN = [
  'model',
  'stream',
  'stream_options',
  'max_tokens',
  'best_of',
  'echo',
  ...SAMPLING,
]

/** `/v1/completions` response and stream chunk. */
export const COMPLETION_RESPONSE_PLAIN = [
  'id',
  'object',
  'created',
  'model',
  'system_fingerprint',
  'usage',
  'choices.*.index',
  'choices.*.finish_reason',
  ...ERROR_PLAIN,
]

/** `/v1/embeddings` request. */
export const EMBEDDING_REQUEST_PLAIN = ['model', 'encoding_format', 'dimensions']

/** `/v1/embeddings` response: one ciphertext per embedding vector. */
export const EMBEDDING_RESPONSE_PLAIN = [
  'object',
  'model',
  'usage',
  'data.*.object',
  'data.*.index',
  ...ERROR_PLAIN,
]

/** `/v1/responses` request. */
export const RESPONSES_REQUEST_PLAIN = [
  'model',
  'stream',
  'max_output_tokens',
  'temperature',
  'top_p',
  'store',
  'background',
  'truncation',
  'service_tier',
  'parallel_tool_calls',
]

const RESPONSE_OBJECT_PLAIN = ['id', 'object', 'created_at', 'status', 'model', 'usage', 'incomplete_details']

/** `/v1/responses` JSON response. */
export const RESPONSES_RESPONSE_PLAIN = [
  ...RESPONSE_OBJECT_PLAIN,
  'output.*.type',
  'output.*.id',
  'output.*.status',
  'output.*.role',
  'error.code',
  ...ERROR_PLAIN,
]

/** `/v1/responses` stream event (`response.created`, `response.output_text.delta`, ...). */
export const RESPONSES_EVENT_PLAIN = [
  'type',
  'sequence_number',
  'item_id',
  'output_index',
  'content_index',
  ...RESPONSE_OBJECT_PLAIN.map((field) => `response.${field}`),
  'item.type',
  'item.id',
  'item.status',
  'item.role',
  'code',
]
