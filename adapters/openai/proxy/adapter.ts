/**
 * The OpenAI protocol adapter: chat completions (text and content-part messages, tools, tool
 * calls), legacy completions, embeddings and the Responses API are encrypted; the model list is
 * plain. vLLM, TGI's Messages API, llama.cpp and most local servers speak this protocol too.
 */
import {
  type ContinuumError,
  defineAdapter,
  loadOnce,
  type StreamEvent,
} from '../../../src/adapter-kit/index'
import { openaiFacts } from './facts'
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

/**
 * The model-text readers, loaded once when a scanner first asks for one: only a scanner runs them,
 * so a proxy without one never loads them.
 */
const modelTextReaders = loadOnce(() => import('./model-text'))

/** The request schemas, loaded on the first request a route of theirs validates. */
const schemas = loadOnce(() => import('./schema'))

/** Events that end a Responses API stream. */
const RESPONSES_TERMINAL_EVENTS = new Set(['response.completed', 'response.failed', 'response.incomplete'])

/**
 * A mid-stream failure as OpenAI streams it: an unnamed event whose data is the error body
 * `{"error":{message,type,param,code}}`, which the official SDKs raise as an APIError.
 */
function openaiStreamError(error: ContinuumError): StreamEvent {
  return {
    data: {
      error: { ...error.details, message: error.message, type: error.type, param: null, code: error.code },
    },
  }
}

/** A request samples unless its temperature is zero (or left to the server's choice). */
const cache = {
  samples: (body: Record<string, unknown>) =>
    body.temperature !== undefined && body.temperature !== null && body.temperature !== 0,
}

/** The gateway codecs, loaded once on first use (a dynamic import per request costs a module lookup). */
let loading: Promise<typeof import('../gateway/codecs')> | undefined
const codecs = () => {
  loading ??= import('../gateway/codecs')
  return loading
}

/** The OpenAI adapter. */
export const openaiAdapter = defineAdapter({
  name: 'openai',
  // `api-key` is how Azure OpenAI's clients authenticate.
  credentialHeaders: ['authorization', 'api-key'],
  varyHeaders: ['openai-beta'],
  routes: [
    {
      name: 'chat-completions',
      method: 'POST',
      path: '/v1/chat/completions',
      encrypted: true,
      requestPlain: CHAT_REQUEST_PLAIN,
      requestSchema: () => schemas().then((module) => module.chatCompletionSchema),
      responsePlain: CHAT_RESPONSE_PLAIN,
      stream: { framing: 'sse', plain: CHAT_CHUNK_PLAIN, terminal: '[DONE]', errorEvent: openaiStreamError },
      operation: 'chat',
      facts: openaiFacts,
      cache,
      modelText: (body) => modelTextReaders().then((module) => module.chatModelText(body)),
      gateway: () => codecs().then((module) => module.chatCodec),
    },
    {
      name: 'completions',
      method: 'POST',
      path: '/v1/completions',
      encrypted: true,
      requestPlain: COMPLETION_REQUEST_PLAIN,
      requestSchema: () => schemas().then((module) => module.completionSchema),
      responsePlain: COMPLETION_RESPONSE_PLAIN,
      stream: {
        framing: 'sse',
        plain: COMPLETION_RESPONSE_PLAIN,
        terminal: '[DONE]',
        errorEvent: openaiStreamError,
      },
      operation: 'text_completion',
      facts: openaiFacts,
      cache,
      modelText: (body) => modelTextReaders().then((module) => module.completionModelText(body)),
    },
    {
      name: 'embeddings',
      method: 'POST',
      path: '/v1/embeddings',
      encrypted: true,
      requestPlain: EMBEDDING_REQUEST_PLAIN,
      requestSchema: () => schemas().then((module) => module.embeddingSchema),
      responsePlain: EMBEDDING_RESPONSE_PLAIN,
      operation: 'embeddings',
      facts: openaiFacts,
      cache,
      modelText: (body) => modelTextReaders().then((module) => module.embeddingModelText(body)),
      gateway: () => codecs().then((module) => module.embeddingCodec),
    },
    {
      name: 'responses',
      method: 'POST',
      path: '/v1/responses',
      encrypted: true,
      requestPlain: RESPONSES_REQUEST_PLAIN,
      requestSchema: () => schemas().then((module) => module.responsesSchema),
      responsePlain: RESPONSES_RESPONSE_PLAIN,
      stream: {
        framing: 'sse',
        plain: RESPONSES_EVENT_PLAIN,
        // The Responses API has no [DONE]: a stream is whole only once its terminal event arrived.
        isFinal: (event) => RESPONSES_TERMINAL_EVENTS.has(String(event.type)),
      },
      // Its own GenAI operation name, so dashboards tell it from chat completions.
      operation: 'responses',
      facts: openaiFacts,
      gateway: () => codecs().then((module) => module.responsesCodec),
      modelText: (body) => modelTextReaders().then((module) => module.responsesModelText(body)),
    },
    {
      name: 'models',
      method: 'GET',
      path: '/v1/models',
      encrypted: false,
      gateway: () => codecs().then((module) => module.modelListCodec),
    },
    {
      name: 'model',
      method: 'GET',
      path: '/v1/models/{model}',
      encrypted: false,
      gateway: () => codecs().then((module) => module.modelCodec),
    },
  ],
})
