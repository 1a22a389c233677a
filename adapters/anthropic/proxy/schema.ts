/**
 * JSON Schemas of decrypted Anthropic requests: what the proxy relies on and what the Messages
 * API would refuse (required model, token limit and messages, the two roles, content as a string
 * or typed blocks, tool choice kinds). `additionalProperties` stays open so fields Anthropic adds
 * later pass through.
 */

const block = {
  type: 'object',
  required: ['type'],
  properties: { type: { type: 'string', minLength: 1 } },
}

const content = { anyOf: [{ type: 'string' }, { type: 'array', items: block }] }

const message = {
  type: 'object',
  required: ['role', 'content'],
  properties: { role: { enum: ['user', 'assistant'] }, content },
}

const system = {
  anyOf: [
    { type: 'string' },
    {
      type: 'array',
      items: {
        type: 'object',
        required: ['type', 'text'],
        properties: { type: { const: 'text' }, text: { type: 'string' } },
      },
    },
  ],
}

const tools = {
  type: 'array',
  items: {
    type: 'object',
    required: ['name'],
    properties: {
      name: { type: 'string', minLength: 1 },
      // Absent or "custom" for a custom tool; server tools name a version (`web_search_20250305`).
      type: { type: 'string' },
      // A schema of another type would be replaced by an empty one on the way to a provider.
      input_schema: { type: ['object', 'null'] },
    },
    // Anthropic requires a custom tool's input_schema; server tools (bash, web search...) have none.
    if: { properties: { type: { const: 'custom' } } },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then, in a plain object never awaited
    then: { required: ['input_schema'], properties: { input_schema: { type: 'object' } } },
  },
}

const toolChoice = {
  type: 'object',
  required: ['type'],
  properties: {
    type: { enum: ['auto', 'any', 'tool', 'none'] },
    name: { type: 'string', minLength: 1 },
    disable_parallel_tool_use: { type: 'boolean' },
  },
  // `{"type":"tool"}` must name the tool.
  anyOf: [{ required: ['name'] }, { properties: { type: { enum: ['auto', 'any', 'none'] } } }],
}

const model = { type: 'string', minLength: 1 }

/** `/v1/messages`. */
export const messagesSchema = {
  type: 'object',
  required: ['model', 'max_tokens', 'messages'],
  properties: {
    model,
    max_tokens: { type: 'integer', minimum: 1 },
    messages: { type: 'array', items: message },
    system,
    stream: { type: 'boolean' },
    temperature: { type: 'number', minimum: 0, maximum: 1 },
    top_p: { type: 'number', minimum: 0, maximum: 1 },
    top_k: { type: 'integer', minimum: 0 },
    stop_sequences: { type: 'array', items: { type: 'string' } },
    metadata: { type: 'object', properties: { user_id: { type: ['string', 'null'] } } },
    tools,
    tool_choice: toolChoice,
    // Read by the gateway's translation, which skips a value that is not an object.
    thinking: { type: 'object', required: ['type'], properties: { type: { type: 'string' } } },
    output_config: { type: 'object' },
  },
}

/** `/v1/messages/count_tokens`. */
export const countTokensSchema = {
  type: 'object',
  required: ['model', 'messages'],
  properties: { model, messages: { type: 'array', items: message }, system, tools, tool_choice: toolChoice },
}
