/**
 * The OpenAI protocol adapter: chat completions (text and content-part messages, tools, tool
 * calls), legacy completions, embeddings and the Responses API are encrypted; the model list is
 * plain. vLLM, TGI's Messages API, llama.cpp and most local servers speak this protocol too.
 */
import { defineAdapter } from '../../../src/protocol/adapter'
import {
  CHAT_CHUNK_PLAIN,
  CHAT_REQUEST_PLAIN,
  CHAT_RESPONSE_PLAIN,
  COMPLETION_REQUEST_PLAIN,
  COMPLETION_RESPONSE_PLAIN,
  EMBEDDING_REQUEST_PLAIN,
  EMBEDDING_RESPONSE_PLAIN,
  RESPONSES_EVENT_PLAIN,
  RESPONSES_REQUEST_PLAIN,
  RESPONSES_RESPONSE_PLAIN,
} from './fields'
import { chatCompletionSchema, completionSchema, embeddingSchema, responsesSchema } from './schema'

/** Events that end a Responses API stream. */
const RESPONSES_TERMINAL_EVENTS = new Set(['response.completed', 'response.failed', 'response.incomplete'])

/** The OpenAI adapter. */
export const openaiAdapter = defineAdapter({
  name: 'openai',
  routes: [
    {
      name: 'chat-completions',
      method: 'POST',
      path: '/v1/chat/completions',
      encrypted: true,
      requestPlain: CHAT_REQUEST_PLAIN,
      requestSchema: chatCompletionSchema,
      responsePlain: CHAT_RESPONSE_PLAIN,
      stream: { framing: 'sse', plain: CHAT_CHUNK_PLAIN, terminal: '[DONE]' },
    },
    {
      name: 'completions',
      method: 'POST',
      path: '/v1/completions',
      encrypted: true,
      requestPlain: COMPLETION_REQUEST_PLAIN,
      requestSchema: completionSchema,
      responsePlain: COMPLETION_RESPONSE_PLAIN,
      stream: { framing: 'sse', plain: COMPLETION_RESPONSE_PLAIN, terminal: '[DONE]' },
    },
    {
      name: 'embeddings',
      method: 'POST',
      path: '/v1/embeddings',
      encrypted: true,
      requestPlain: EMBEDDING_REQUEST_PLAIN,
      requestSchema: embeddingSchema,
      responsePlain: EMBEDDING_RESPONSE_PLAIN,
    },
    {
      name: 'responses',
      method: 'POST',
      path: '/v1/responses',
      encrypted: true,
      requestPlain: RESPONSES_REQUEST_PLAIN,
      requestSchema: responsesSchema,
      responsePlain: RESPONSES_RESPONSE_PLAIN,
      stream: {
        framing: 'sse',
        plain: RESPONSES_EVENT_PLAIN,
        // The Responses API has no [DONE]: a stream is whole only once its terminal event arrived.
        isFinal: (event) => RESPONSES_TERMINAL_EVENTS.has(String(event.type)),
      },
    },
    { name: 'models', method: 'GET', path: '/v1/models', encrypted: false },
    { name: 'model', method: 'GET', path: '/v1/models/{model}', encrypted: false },
  ],
})
