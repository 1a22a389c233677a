/**
 * JSON Schemas of decrypted Triton requests: the generate extension needs `text_input` (a string,
 * or a list of strings for batched models), KServe v2 `infer` needs well-formed input tensors
 * (name, integer shape, a v2 datatype, data). `additionalProperties` stays open because the
 * generate extension maps extra top-level fields onto model inputs.
 */

const parameters = { type: 'object' }

/** `generate` and `generate_stream`. */
export const generateSchema = {
  type: 'object',
  required: ['text_input'],
  properties: {
    id: { type: 'string' },
    text_input: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
    parameters,
    max_tokens: { type: 'integer', minimum: 1 },
    stream: { type: 'boolean' },
  },
}

const DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BF16',
  'BYTES',
]

const tensor = {
  type: 'object',
  required: ['name', 'shape', 'datatype', 'data'],
  properties: {
    name: { type: 'string', minLength: 1 },
    shape: { type: 'array', items: { type: 'integer', minimum: -1 } },
    datatype: { enum: DATATYPES },
    parameters,
    data: { type: 'array' },
  },
}

/** KServe v2 `infer` with JSON tensors. */
export const inferSchema = {
  type: 'object',
  required: ['inputs'],
  properties: {
    id: { type: 'string' },
    parameters,
    inputs: { type: 'array', minItems: 1, items: tensor },
    outputs: {
      type: 'array',
      items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, parameters } },
    },
  },
}
