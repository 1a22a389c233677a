/**
 * Which fields of TGI's native API stay plain: the generation knobs under `parameters` (but not
 * `stop` or `grammar`, which may quote content, nor anything TGI adds later), and the counts and
 * finish reason of `details`. The prompt (`inputs`), generated text, token texts and ids (ids
 * decode back to text with the model's tokenizer) and error messages (they may echo the input)
 * are encrypted.
 */

/** Knobs of `parameters` that carry no content. */
const PARAMETER_KNOBS = [
  'best_of',
  'decoder_input_details',
  'details',
  'do_sample',
  'frequency_penalty',
  'max_new_tokens',
  'repetition_penalty',
  'return_full_text',
  'seed',
  'temperature',
  'top_k',
  'top_n_tokens',
  'top_p',
  'truncate',
  'typical_p',
  'watermark',
  'adapter_id',
]

/** `generate` and `generate_stream` request. */
export const GENERATE_REQUEST_PLAIN = ['stream', ...PARAMETER_KNOBS.map((knob) => `parameters.${knob}`)]

const DETAILS_PLAIN = [
  'details.finish_reason',
  'details.generated_tokens',
  'details.seed',
  'details.input_length',
]

/** TGI's error body `{error, error_type}`: the type is plain, the message may echo input. */
const ERROR_PLAIN = ['error_type']

/** `generate` JSON response. */
export const GENERATE_RESPONSE_PLAIN = [
  ...DETAILS_PLAIN,
  'details.best_of_sequences.*.finish_reason',
  'details.best_of_sequences.*.generated_tokens',
  'details.best_of_sequences.*.seed',
  ...ERROR_PLAIN,
]

/** One `generate_stream` event `{index, token, top_tokens, generated_text, details}`. */
export const GENERATE_STREAM_EVENT_PLAIN = [
  'index',
  'token.logprob',
  'token.special',
  ...DETAILS_PLAIN,
  ...ERROR_PLAIN,
]
