/**
 * JSON Schemas of decrypted Ollama requests: a model name, messages with Ollama's four roles and
 * string content, images as base64 strings, `format` as `"json"` or a JSON Schema object, and
 * `keep_alive` as a duration string or seconds. `additionalProperties` stays open.
 */

const model = { type: 'string', minLength: 1 }
const images = { type: 'array', items: { type: 'string' } }
const format = { anyOf: [{ const: 'json' }, { const: '' }, { type: 'object' }] }
const keepAlive = { type: ['string', 'number'] }
const options = { type: 'object' }

const message = {
  type: 'object',
  required: ['role'],
  properties: {
    role: { enum: ['system', 'user', 'assistant', 'tool'] },
    content: { type: 'string' },
    images,
    tool_calls: {
      type: 'array',
      items: {
        type: 'object',
        required: ['function'],
        properties: {
          function: {
            type: 'object',
            required: ['name'],
            properties: { name: { type: 'string' }, arguments: { type: 'object' } },
          },
        },
      },
    },
  },
}

/** `/api/chat`. */
export const chatSchema = {
  type: 'object',
  required: ['model', 'messages'],
  properties: {
    model,
    messages: { type: 'array', items: message },
    tools: { type: 'array', items: { type: 'object', required: ['type'] } },
    format,
    options,
    stream: { type: 'boolean' },
    keep_alive: keepAlive,
  },
}

/** `/api/generate`. */
export const generateSchema = {
  type: 'object',
  required: ['model'],
  properties: {
    model,
    prompt: { type: 'string' },
    suffix: { type: 'string' },
    system: { type: 'string' },
    template: { type: 'string' },
    context: { type: 'array', items: { type: 'integer' } },
    images,
    format,
    options,
    raw: { type: 'boolean' },
    stream: { type: 'boolean' },
    keep_alive: keepAlive,
  },
}

/** `/api/embed`. */
export const embedSchema = {
  type: 'object',
  required: ['model', 'input'],
  properties: {
    model,
    input: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
    truncate: { type: 'boolean' },
    options,
    keep_alive: keepAlive,
  },
}

/** Legacy `/api/embeddings`. */
export const legacyEmbedSchema = {
  type: 'object',
  required: ['model', 'prompt'],
  properties: { model, prompt: { type: 'string' }, options, keep_alive: keepAlive },
}
