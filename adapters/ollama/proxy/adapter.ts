/**
 * The Ollama native adapter: `/api/chat` and `/api/generate` (which stream NDJSON unless the
 * request says `stream: false`; the last line has `done: true`), `/api/embed` and the legacy
 * `/api/embeddings` are encrypted; the model list, version, running models and `/api/show` (its
 * request carries only a model name) are plain. Stream errors keep the proxy's NDJSON default
 * `{"error": message, "code": code}`, which Ollama clients read as an error line.
 */
import { defineAdapter, loadOnce } from '../../../src/adapter-kit/index'
import { ollamaFacts } from './facts'
import {
  CHAT_REQUEST_PLAIN,
  CHAT_RESPONSE_PLAIN,
  EMBED_REQUEST_PLAIN,
  EMBED_RESPONSE_PLAIN,
  GENERATE_REQUEST_PLAIN,
  GENERATE_RESPONSE_PLAIN,
  LEGACY_EMBED_REQUEST_PLAIN,
  LEGACY_EMBED_RESPONSE_PLAIN,
} from './fields'

/**
 * The model-text readers, loaded once when a scanner first asks for one: only a scanner runs them,
 * so a proxy without one never loads them.
 */
const modelTextReaders = loadOnce(() => import('./model-text'))

/** The request schemas, loaded on the first request a route of theirs validates. */
const schemas = loadOnce(() => import('./schema'))

/** Ollama streams unless told not to. */
const streamsByDefault = (body: Record<string, unknown>): boolean => body.stream !== false
/** The last line says `done: true`; an error line also ends the stream. */
const isFinal = (event: Record<string, unknown>): boolean => event.done === true || 'error' in event

/** A request samples unless `options.temperature` is zero (or absent, the server's choice). */
const cache = {
  samples: (body: Record<string, unknown>) => {
    const options = body.options as Record<string, unknown> | undefined
    const temperature = typeof options === 'object' && options !== null ? options.temperature : undefined
    return temperature !== undefined && temperature !== null && temperature !== 0
  },
}
const generation = { facts: ollamaFacts, cache }

/** The Ollama adapter. */
export const ollamaAdapter = defineAdapter({
  name: 'ollama',
  credentialHeaders: ['authorization'],
  routes: [
    {
      name: 'chat',
      method: 'POST',
      path: '/api/chat',
      encrypted: true,
      requestPlain: CHAT_REQUEST_PLAIN,
      requestSchema: () => schemas().then((module) => module.chatSchema),
      responsePlain: CHAT_RESPONSE_PLAIN,
      stream: { framing: 'ndjson', when: streamsByDefault, plain: CHAT_RESPONSE_PLAIN, isFinal },
      operation: 'chat',
      modelText: (body) => modelTextReaders().then((module) => module.chatModelText(body)),
      ...generation,
    },
    {
      name: 'generate',
      method: 'POST',
      path: '/api/generate',
      encrypted: true,
      requestPlain: GENERATE_REQUEST_PLAIN,
      requestSchema: () => schemas().then((module) => module.generateSchema),
      responsePlain: GENERATE_RESPONSE_PLAIN,
      stream: { framing: 'ndjson', when: streamsByDefault, plain: GENERATE_RESPONSE_PLAIN, isFinal },
      operation: 'text_completion',
      modelText: (body) => modelTextReaders().then((module) => module.generateModelText(body)),
      ...generation,
    },
    {
      name: 'embed',
      method: 'POST',
      path: '/api/embed',
      encrypted: true,
      requestPlain: EMBED_REQUEST_PLAIN,
      requestSchema: () => schemas().then((module) => module.embedSchema),
      responsePlain: EMBED_RESPONSE_PLAIN,
      operation: 'embeddings',
      modelText: (body) => modelTextReaders().then((module) => module.embedModelText(body)),
      ...generation,
    },
    {
      name: 'embeddings',
      method: 'POST',
      path: '/api/embeddings',
      encrypted: true,
      requestPlain: LEGACY_EMBED_REQUEST_PLAIN,
      requestSchema: () => schemas().then((module) => module.legacyEmbedSchema),
      responsePlain: LEGACY_EMBED_RESPONSE_PLAIN,
      operation: 'embeddings',
      modelText: (body) => modelTextReaders().then((module) => module.embedModelText(body)),
      ...generation,
    },
    { name: 'tags', method: 'GET', path: '/api/tags', encrypted: false },
    { name: 'version', method: 'GET', path: '/api/version', encrypted: false },
    { name: 'ps', method: 'GET', path: '/api/ps', encrypted: false },
    { name: 'show', method: 'POST', path: '/api/show', encrypted: false },
  ],
})
