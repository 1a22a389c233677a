/**
 * JSON Schemas of decrypted OpenAI requests. They check what the proxy relies on and what an
 * inference server would choke on (types of routing fields, message roles, content shapes, the
 * parameters a translating gateway reads) while allowing fields the protocol adds later
 * (`additionalProperties` stays open). `null` is accepted wherever the official SDK's types allow
 * it: it asks for the default, as OpenAI reads it.
 */

const tokenLimit = { type: ['integer', 'null'], minimum: 1 }
const stream = { type: ['boolean', 'null'] }
const nullableNumber = { type: ['number', 'null'] }

const contentPart = {
  type: 'object',
  required: ['type'],
  properties: { type: { type: 'string' } },
}

const message = {
  type: 'object',
  required: ['role'],
  properties: {
    role: { enum: ['system', 'developer', 'user', 'assistant', 'tool', 'function'] },
    content: { anyOf: [{ type: 'string' }, { type: 'array', items: contentPart }, { type: 'null' }] },
    name: { type: 'string' },
    tool_call_id: { type: 'string' },
    tool_calls: {
      type: 'array',
      items: {
        type: 'object',
        required: ['type', 'function'],
        properties: {
          id: { type: 'string' },
          type: { const: 'function' },
          function: {
            type: 'object',
            required: ['name', 'arguments'],
            properties: { name: { type: 'string' }, arguments: { type: 'string' } },
          },
        },
      },
    },
  },
}

/** `/v1/chat/completions`. */
export const chatCompletionSchema = {
  type: 'object',
  required: ['model', 'messages'],
  properties: {
    model: { type: 'string', minLength: 1 },
    messages: { type: 'array', minItems: 1, items: message },
    stream,
    max_tokens: tokenLimit,
    max_completion_tokens: tokenLimit,
    n: { type: ['integer', 'null'], minimum: 1 },
    temperature: { type: ['number', 'null'], minimum: 0, maximum: 2 },
    top_p: { type: ['number', 'null'], minimum: 0, maximum: 1 },
    // Read by the gateway's translation, which skips a value of another type: unchecked, a wrong
    // type would be dropped on the way to a provider of another dialect instead of refused.
    stop: { anyOf: [{ type: ['string', 'null'] }, { type: 'array', items: { type: 'string' } }] },
    stream_options: {
      type: ['object', 'null'],
      properties: { include_usage: { type: ['boolean', 'null'] } },
    },
    seed: { type: ['integer', 'null'] },
    presence_penalty: nullableNumber,
    frequency_penalty: nullableNumber,
    parallel_tool_calls: { type: ['boolean', 'null'] },
    reasoning_effort: { type: ['string', 'null'] },
    response_format: {
      type: ['object', 'null'],
      required: ['type'],
      properties: { type: { type: 'string' } },
    },
    tool_choice: { anyOf: [{ type: ['string', 'null'] }, { type: 'object', required: ['type'] }] },
    user: { type: ['string', 'null'] },
    safety_identifier: { type: ['string', 'null'] },
    tools: {
      type: 'array',
      items: {
        type: 'object',
        required: ['type'],
        properties: {
          type: { type: 'string' },
          // A schema of another type would be replaced by an empty one on the way to a provider.
          function: {
            type: 'object',
            required: ['name'],
            properties: { parameters: { type: ['object', 'null'] } },
          },
        },
      },
    },
  },
}

const prompt = {
  anyOf: [
    { type: 'string' },
    { type: 'array', items: { type: 'string' } },
    { type: 'array', items: { type: 'integer' } },
    { type: 'array', items: { type: 'array', items: { type: 'integer' } } },
  ],
}

/** `/v1/completions`. */
export const completionSchema = {
  type: 'object',
  required: ['model', 'prompt'],
  properties: { model: { type: 'string', minLength: 1 }, prompt, stream, max_tokens: tokenLimit },
}

/** `/v1/embeddings`. */
export const embeddingSchema = {
  type: 'object',
  required: ['model', 'input'],
  properties: {
    model: { type: 'string', minLength: 1 },
    input: prompt,
    encoding_format: { enum: ['float', 'base64'] },
    dimensions: { type: 'integer', minimum: 1 },
  },
}

/** `/v1/responses`. */
export const responsesSchema = {
  type: 'object',
  required: ['model'],
  properties: {
    model: { type: 'string', minLength: 1 },
    input: { anyOf: [{ type: 'string' }, { type: 'array' }] },
    instructions: { type: ['string', 'null'] },
    stream,
    max_output_tokens: tokenLimit,
  },
}
