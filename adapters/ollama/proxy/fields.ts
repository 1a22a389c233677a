/**
 * Which fields of Ollama's native API stay plain: the model, the stream flag, `keep_alive`, the
 * numeric `options` knobs (but not `options.stop`, which may quote content, nor any option Ollama
 * adds later), roles, and the timings, counts and done flags of responses. Prompts, system
 * prompts, templates, messages, images, tools, `format` schemas, token `context`, generated text,
 * thinking and embeddings are encrypted.
 */

/** `options` knobs that carry no content. */
const OPTION_KNOBS = [
  'num_keep',
  'seed',
  'num_predict',
  'top_k',
  'top_p',
  'min_p',
  'typical_p',
  'repeat_last_n',
  'temperature',
  'repeat_penalty',
  'presence_penalty',
  'frequency_penalty',
  'mirostat',
  'mirostat_tau',
  'mirostat_eta',
  'penalize_newline',
  'numa',
  'num_ctx',
  'num_batch',
  'num_gpu',
  'main_gpu',
  'use_mmap',
  'num_thread',
]

const ROUTING = ['model', 'stream', 'keep_alive', 'think', ...OPTION_KNOBS.map((knob) => `options.${knob}`)]

/** Timings and counts Ollama reports on the last message of a generation. */
const STATISTICS = [
  'model',
  'created_at',
  'done',
  'done_reason',
  'total_duration',
  'load_duration',
  'prompt_eval_count',
  'prompt_eval_duration',
  'eval_count',
  'eval_duration',
]

/** `/api/chat` request. */
export const CHAT_REQUEST_PLAIN = [...ROUTING, 'messages.*.role']

/** `/api/chat` response and NDJSON stream line. */
export const CHAT_RESPONSE_PLAIN = [...STATISTICS, 'message.role']

/** `/api/generate` request; `raw` only switches templating off. */
export const GENERATE_REQUEST_PLAIN = [...ROUTING, 'raw']

/** `/api/generate` response and NDJSON stream line; `context` (token ids of the conversation) is encrypted. */
export const GENERATE_RESPONSE_PLAIN = STATISTICS

/** `/api/embed` request. */
export const EMBED_REQUEST_PLAIN = [
  'model',
  'truncate',
  'keep_alive',
  'dimensions',
  ...OPTION_KNOBS.map((knob) => `options.${knob}`),
]

/** `/api/embed` response: the `embeddings` list is one ciphertext. */
export const EMBED_RESPONSE_PLAIN = ['model', 'total_duration', 'load_duration', 'prompt_eval_count']

/** Legacy `/api/embeddings` request (`prompt` is encrypted). */
export const LEGACY_EMBED_REQUEST_PLAIN = [
  'model',
  'keep_alive',
  ...OPTION_KNOBS.map((knob) => `options.${knob}`),
]

/** Legacy `/api/embeddings` response: `embedding` is encrypted. */
export const LEGACY_EMBED_RESPONSE_PLAIN: string[] = []
