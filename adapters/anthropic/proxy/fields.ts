/**
 * Which fields of Anthropic's Messages API stay plain: routing metadata (model, token limit,
 * stream flag, sampling knobs, the opaque `metadata.user_id`), roles, and the bookkeeping of
 * responses and stream events (ids, `type`s, indexes, stop reasons, usage). The system prompt,
 * message content, tools, tool choice names, stop sequences, generated text and tool inputs are
 * everything else, and are encrypted.
 */

const ERROR_PLAIN = ['error.type', 'error.code']

/** `/v1/messages` request. */
export const MESSAGES_REQUEST_PLAIN = [
  'model',
  'max_tokens',
  'stream',
  'temperature',
  'top_p',
  'top_k',
  'service_tier',
  'metadata.user_id',
  'thinking.type',
  'thinking.budget_tokens',
  'tool_choice.type',
  'tool_choice.disable_parallel_tool_use',
  'messages.*.role',
]

/** `/v1/messages/count_tokens` request: the same fields minus what only generation reads. */
export const COUNT_TOKENS_REQUEST_PLAIN = [
  'model',
  'thinking.type',
  'thinking.budget_tokens',
  'tool_choice.type',
  'tool_choice.disable_parallel_tool_use',
  'messages.*.role',
]

/** The plain parts of a Message object, relative to where it sits. */
const MESSAGE_OBJECT_PLAIN = [
  'id',
  'type',
  'role',
  'model',
  'stop_reason',
  'usage',
  'content.*.type',
  'content.*.id',
]

/** `/v1/messages` JSON response, including Anthropic's error body `{type, error:{type, message}}`. */
export const MESSAGES_RESPONSE_PLAIN = [...MESSAGE_OBJECT_PLAIN, ...ERROR_PLAIN]

/** `/v1/messages/count_tokens` JSON response. */
export const COUNT_TOKENS_RESPONSE_PLAIN = ['input_tokens', 'type', ...ERROR_PLAIN]

/**
 * One event of the `/v1/messages` stream (`message_start`, `content_block_start`,
 * `content_block_delta`, `content_block_stop`, `message_delta`, `message_stop`, `ping`, `error`).
 */
export const MESSAGES_EVENT_PLAIN = [
  'type',
  'index',
  ...MESSAGE_OBJECT_PLAIN.map((field) => `message.${field}`),
  'content_block.type',
  'content_block.id',
  'delta.type',
  'delta.stop_reason',
  'usage',
  ...ERROR_PLAIN,
]
