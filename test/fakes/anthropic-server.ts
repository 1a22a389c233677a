/**
 * A fake Anthropic Messages API: `POST /v1/messages` (JSON or the SSE event stream, with or
 * without tool use) and `GET /v1/models`, answering from the transcripts in
 * test/fixtures/transcripts/anthropic, which follow the examples of Anthropic's API reference.
 * Like the real API it requires the key (`x-api-key`, or a bearer token) and `anthropic-version`, a `max_tokens`, and rejects a
 * `system` role inside `messages`.
 */
import { FakeUpstream, type Reply, transcript } from './fake-upstream'
import { splitEvery } from './openai-server'

const JSON_HEADERS = { 'content-type': 'application/json', 'request-id': 'req_fake' }
const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' }

/** An Anthropic error answer from a transcript. */
export function anthropicErrorReply(
  status: 400 | 401 | 429 | 500 | 529,
  headers: Record<string, string> = {},
): Reply {
  return {
    kind: 'body',
    status,
    headers: { ...JSON_HEADERS, ...headers },
    body: transcript('anthropic', `error-${status}.json`),
  }
}

/** Starts the fake for `apiKey`; `close()` it after the test. */
export function startAnthropicServer(apiKey: string): Promise<FakeUpstream> {
  return FakeUpstream.start((request) => {
    // The API takes the key as `x-api-key`; newer official SDKs send it as a bearer token.
    const key = request.headers['x-api-key'] ?? request.headers.authorization?.replace(/^Bearer /, '')
    if (key !== apiKey) return anthropicErrorReply(401)
    if (request.headers['anthropic-version'] === undefined) return anthropicErrorReply(400)
    if (request.method === 'GET' && request.url === '/v1/models') {
      return { kind: 'body', headers: JSON_HEADERS, body: transcript('anthropic', 'models.json') }
    }
    if (request.method !== 'POST' || request.url !== '/v1/messages') {
      return {
        kind: 'body',
        status: 404,
        headers: JSON_HEADERS,
        body: JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: 'Not found' } }),
      }
    }
    const body = request.json()
    const validMessages =
      Array.isArray(body.messages) &&
      body.messages.length > 0 &&
      body.messages.every(
        (message: { role?: unknown }) => message.role === 'user' || message.role === 'assistant',
      )
    if (typeof body.model !== 'string' || typeof body.max_tokens !== 'number' || !validMessages) {
      return anthropicErrorReply(400)
    }
    const tools = Array.isArray(body.tools) && body.tools.length > 0
    if (body.stream === true) {
      const name = tools ? 'stream-tool-use.sse' : 'stream-text.sse'
      return { kind: 'chunks', headers: SSE_HEADERS, chunks: splitEvery(transcript('anthropic', name), 41) }
    }
    const name = tools ? 'message-tool-use.json' : 'message.json'
    return { kind: 'body', headers: JSON_HEADERS, body: transcript('anthropic', name) }
  })
}
