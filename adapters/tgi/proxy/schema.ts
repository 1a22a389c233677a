/**
 * JSON Schemas of decrypted TGI requests, after TGI's own validation: `inputs` is a non-empty
 * string, and the knobs have the types and ranges TGI enforces (strictly positive temperature and
 * repetition penalty, `top_p` and `typical_p` in (0, 1), at most four stop sequences).
 */

const openUnit = { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 }
const positive = { type: 'number', exclusiveMinimum: 0 }
const count = { type: 'integer', minimum: 1 }

/** `generate` and `generate_stream`. */
export const generateSchema = {
  type: 'object',
  required: ['inputs'],
  properties: {
    inputs: { type: 'string', minLength: 1 },
    stream: { type: 'boolean' },
    parameters: {
      type: 'object',
      properties: {
        best_of: count,
        details: { type: 'boolean' },
        decoder_input_details: { type: 'boolean' },
        do_sample: { type: 'boolean' },
        max_new_tokens: count,
        repetition_penalty: positive,
        frequency_penalty: { type: 'number' },
        return_full_text: { type: 'boolean' },
        seed: { type: 'integer', minimum: 0 },
        stop: { type: 'array', maxItems: 4, items: { type: 'string' } },
        temperature: positive,
        top_k: count,
        top_n_tokens: { type: 'integer', minimum: 0 },
        top_p: openUnit,
        truncate: count,
        typical_p: openUnit,
        watermark: { type: 'boolean' },
        grammar: {
          type: 'object',
          required: ['type', 'value'],
          properties: { type: { enum: ['json', 'regex', 'json_schema'] } },
        },
      },
    },
  },
}
