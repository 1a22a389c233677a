/**
 * Which fields of Triton's HTTP protocol stay plain. The generate extension carries the prompt in
 * `text_input` and the output in `text_output`, with sampling knobs either under `parameters` or
 * as top-level fields (TensorRT-LLM's ensemble style); only known knobs stay plain, so a stop-word
 * list or an unknown input tensor is encrypted. KServe v2 `/infer` keeps tensor names, shapes and
 * datatypes plain and encrypts every tensor's `data`.
 */

/** Sampling and scheduling knobs of the generate extension that carry no content. */
const KNOBS = [
  'stream',
  'max_tokens',
  'min_tokens',
  'min_length',
  'temperature',
  'top_k',
  'top_p',
  'seed',
  'random_seed',
  'beam_width',
  'n',
  'best_of',
  'use_beam_search',
  'repetition_penalty',
  'presence_penalty',
  'frequency_penalty',
  'length_penalty',
  'ignore_eos',
  'end_id',
  'pad_id',
  'return_log_probs',
  'exclude_input_in_output',
  'sequence_id',
  'sequence_start',
  'sequence_end',
  'priority',
  'timeout',
]

/** Bookkeeping of every Triton response: which model answered, and the request id. */
const RESPONSE_BOOKKEEPING = ['model_name', 'model_version', 'id']

/** `generate` and `generate_stream` request. */
export const GENERATE_REQUEST_PLAIN = ['id', ...KNOBS, ...KNOBS.map((knob) => `parameters.${knob}`)]

/** `generate` response and each `generate_stream` event; `text_output` and any other output are encrypted. */
export const GENERATE_RESPONSE_PLAIN = [...RESPONSE_BOOKKEEPING, 'finish_reason']

/** KServe v2 `infer` request. */
export const INFER_REQUEST_PLAIN = [
  'id',
  ...KNOBS.map((knob) => `parameters.${knob}`),
  'parameters.binary_data_output',
  'inputs.*.name',
  'inputs.*.shape',
  'inputs.*.datatype',
  'inputs.*.parameters',
  'outputs',
]

/** KServe v2 `infer` response. */
export const INFER_RESPONSE_PLAIN = [
  ...RESPONSE_BOOKKEEPING,
  'parameters',
  'outputs.*.name',
  'outputs.*.shape',
  'outputs.*.datatype',
  'outputs.*.parameters',
]
