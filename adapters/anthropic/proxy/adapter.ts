/**
 * The Anthropic protocol adapter: `/v1/messages` (JSON and its named-event SSE stream) and
 * `/v1/messages/count_tokens` are encrypted. Anthropic streams have no terminal sentinel: a
 * stream is whole once `message_stop` went by. Mid-stream failures are rendered the way the
 * Anthropic SDKs read them, `event: error` with `{"type":"error","error":{type, message}}`.
 * `GET /v1/models` shares its path with OpenAI's plain model list: the Anthropic SDK's
 * `anthropic-version` header selects this adapter's route, which matters to the router gateway.
 */

import {
  type ContinuumError,
  defineAdapter,
  type ErrorType,
  loadOnce,
  type StreamEvent,
} from '../../../src/adapter-kit/index'
import { anthropicFacts } from './facts'
import {
  COUNT_TOKENS_REQUEST_PLAIN,
  COUNT_TOKENS_RESPONSE_PLAIN,
  MESSAGES_EVENT_PLAIN,
  MESSAGES_REQUEST_PLAIN,
  MESSAGES_RESPONSE_PLAIN,
} from './fields'

/**
 * The model-text readers, loaded once when a scanner first asks for one: only a scanner runs them,
 * so a proxy without one never loads them.
 */
const modelTextReaders = loadOnce(() => import('./model-text'))

/** The request schemas, loaded on the first request a route of theirs validates. */
const schemas = loadOnce(() => import('./schema'))

/** Anthropic's `error.type` for each of our error types; the rest are `api_error`. */
const ANTHROPIC_ERROR_TYPES: Partial<Record<ErrorType, string>> = {
  invalid_request_error: 'invalid_request_error',
  authentication_error: 'authentication_error',
  permission_error: 'permission_error',
  not_found_error: 'not_found_error',
  rate_limit_error: 'rate_limit_error',
}

/** A proxy error as an Anthropic stream error event, keeping our stable code inside `error`. */
export function anthropicStreamError(error: ContinuumError): StreamEvent {
  const body = {
    type: 'error',
    error: {
      type: ANTHROPIC_ERROR_TYPES[error.type] ?? 'api_error',
      message: error.message,
      code: error.code,
    },
  }
  return { name: 'error', data: body }
}

/** The gateway codecs, loaded once on first use (a dynamic import per request costs a module lookup). */
let loading: Promise<typeof import('../gateway/codecs')> | undefined
const codecs = () => {
  loading ??= import('../gateway/codecs')
  return loading
}

/** The Anthropic Messages API adapter. */
export const anthropicAdapter = defineAdapter({
  name: 'anthropic',
  credentialHeaders: ['x-api-key', 'authorization'],
  varyHeaders: ['anthropic-version', 'anthropic-beta'],
  routes: [
    {
      name: 'messages',
      method: 'POST',
      path: '/v1/messages',
      encrypted: true,
      requestPlain: MESSAGES_REQUEST_PLAIN,
      requestSchema: () => schemas().then((module) => module.messagesSchema),
      responsePlain: MESSAGES_RESPONSE_PLAIN,
      stream: {
        framing: 'sse',
        plain: MESSAGES_EVENT_PLAIN,
        // An upstream `error` event also ends the stream, and reaches the client sealed.
        isFinal: (event) => event.type === 'message_stop' || event.type === 'error',
        errorEvent: anthropicStreamError,
      },
      operation: 'chat',
      facts: anthropicFacts,
      modelText: (body) => modelTextReaders().then((module) => module.messagesModelText(body)),
      cache: {
        samples: (body) =>
          body.temperature !== undefined && body.temperature !== null && body.temperature !== 0,
      },
      gateway: () => codecs().then((module) => module.messagesCodec),
    },
    {
      name: 'count-tokens',
      method: 'POST',
      path: '/v1/messages/count_tokens',
      encrypted: true,
      requestPlain: COUNT_TOKENS_REQUEST_PLAIN,
      requestSchema: () => schemas().then((module) => module.countTokensSchema),
      responsePlain: COUNT_TOKENS_RESPONSE_PLAIN,
      modelText: (body) => modelTextReaders().then((module) => module.messagesModelText(body)),
      gateway: () => codecs().then((module) => module.countTokensCodec),
    },
    {
      name: 'models',
      method: 'GET',
      path: '/v1/models',
      header: 'anthropic-version',
      encrypted: false,
      gateway: () => codecs().then((module) => module.modelListCodec),
    },
    {
      name: 'model',
      method: 'GET',
      path: '/v1/models/{model}',
      header: 'anthropic-version',
      encrypted: false,
      gateway: () => codecs().then((module) => module.modelCodec),
    },
  ],
})
