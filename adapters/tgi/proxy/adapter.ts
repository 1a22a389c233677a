/**
 * The Text Generation Inference (TGI) native adapter: `generate` and `generate_stream` (SSE
 * events without a terminal sentinel; the last one carries `generated_text`) are encrypted;
 * `health`, `info` and `metrics` are plain. TGI's Messages API at `/v1/chat/completions` is
 * served by the OpenAI adapter.
 */
import { defineAdapter, loadOnce } from '../../../src/adapter-kit/index'
import { tgiFacts } from './facts'
import { GENERATE_REQUEST_PLAIN, GENERATE_RESPONSE_PLAIN, GENERATE_STREAM_EVENT_PLAIN } from './fields'

/**
 * The model-text readers, loaded once when a scanner first asks for one: only a scanner runs them,
 * so a proxy without one never loads them.
 */
const modelTextReaders = loadOnce(() => import('./model-text'))

/** The request schemas, loaded on the first request a route of theirs validates. */
const schemas = loadOnce(() => import('./schema'))

/** Whether a `top_p`/`typical_p` value narrows the distribution (below 1), so TGI samples from it. */
const narrows = (value: unknown): boolean => typeof value === 'number' && value < 1

/**
 * A request samples when it asks to (`do_sample`), sets a temperature above zero, or sets any
 * other warper: TGI samples whenever one is set (`sampling = do_sample or has_warpers`), so
 * `top_k`, `top_p` or `typical_p` alone make every answer a new draw.
 */
const cache = {
  samples: (body: Record<string, unknown>) => {
    const parameters = body.parameters as Record<string, unknown> | undefined
    if (typeof parameters !== 'object' || parameters === null) return false
    const { temperature, top_k: topK } = parameters
    return (
      parameters.do_sample === true ||
      (temperature !== undefined && temperature !== null && temperature !== 0) ||
      (typeof topK === 'number' && topK > 0) ||
      narrows(parameters.top_p) ||
      narrows(parameters.typical_p)
    )
  },
}

/** The TGI adapter. */
export const tgiAdapter = defineAdapter({
  name: 'tgi',
  credentialHeaders: ['authorization'],
  routes: [
    {
      name: 'generate',
      method: 'POST',
      path: '/generate',
      encrypted: true,
      requestPlain: GENERATE_REQUEST_PLAIN,
      requestSchema: () => schemas().then((module) => module.generateSchema),
      responsePlain: GENERATE_RESPONSE_PLAIN,
      operation: 'text_completion',
      facts: tgiFacts,
      cache,
      modelText: (body) => modelTextReaders().then((module) => module.generateModelText(body)),
    },
    {
      name: 'generate-stream',
      method: 'POST',
      path: '/generate_stream',
      encrypted: true,
      requestPlain: GENERATE_REQUEST_PLAIN,
      requestSchema: () => schemas().then((module) => module.generateSchema),
      responsePlain: GENERATE_RESPONSE_PLAIN,
      stream: {
        framing: 'sse',
        when: 'always',
        plain: GENERATE_STREAM_EVENT_PLAIN,
        // The last token's event carries the whole text; an error event also ends the stream.
        isFinal: (event) =>
          (event.generated_text !== null && event.generated_text !== undefined) || 'error' in event,
      },
      operation: 'text_completion',
      facts: tgiFacts,
      cache,
      modelText: (body) => modelTextReaders().then((module) => module.generateModelText(body)),
    },
    { name: 'health', method: 'GET', path: '/health', encrypted: false },
    { name: 'info', method: 'GET', path: '/info', encrypted: false },
    { name: 'metrics', method: 'GET', path: '/metrics', encrypted: false },
  ],
})
