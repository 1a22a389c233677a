/**
 * A fake Text Generation Inference server: the Messages API (`/v1/chat/completions`, JSON or SSE),
 * the native `/generate` and `/generate_stream` routes, and `/health`, answering from the
 * transcripts in test/fixtures/transcripts/tgi (shapes from TGI's API reference). Like TGI it
 * answers 422 to invalid parameters, and it checks the bearer token when one is configured.
 */
import { FakeUpstream, jsonReply, transcript, transcriptLines } from './fake-upstream'

const SSE = { 'content-type': 'text/event-stream' }

/** Starts the fake; `token` makes it demand `Authorization: Bearer <token>`. */
export function startTgiServer(token?: string): Promise<FakeUpstream> {
  return FakeUpstream.start((request) => {
    if (token !== undefined && request.headers.authorization !== `Bearer ${token}`) {
      return jsonReply({ error: 'Authorization header is invalid', error_type: 'authentication' }, 401)
    }
    if (request.method === 'GET' && request.url === '/health') return { kind: 'body', status: 200, body: '' }
    if (request.method !== 'POST') return jsonReply({ error: 'method not allowed' }, 405)
    const body = request.json()
    if (request.url === '/v1/chat/completions') {
      if (!Array.isArray(body.messages) || body.messages.length === 0) {
        return jsonReply({ error: 'Input validation error: messages', error_type: 'validation' }, 422)
      }
      const tools = Array.isArray(body.tools) && body.tools.length > 0
      if (body.stream === true) {
        const name = tools ? 'chat-tools-stream.sse' : 'chat-stream.sse'
        return { kind: 'chunks', headers: SSE, chunks: transcriptLines(transcript('tgi', name)) }
      }
      return {
        kind: 'body',
        headers: { 'content-type': 'application/json' },
        body: transcript('tgi', tools ? 'chat-tools.json' : 'chat.json'),
      }
    }
    if (request.url === '/generate' || request.url === '/generate_stream') {
      if (typeof body.inputs !== 'string' || body.parameters?.temperature === 0) {
        return {
          kind: 'body',
          status: 422,
          headers: { 'content-type': 'application/json' },
          body: transcript('tgi', 'validation-error.json'),
        }
      }
      if (request.url === '/generate_stream') {
        return {
          kind: 'chunks',
          headers: { ...SSE, 'x-prompt-tokens': '7' },
          chunks: transcriptLines(transcript('tgi', 'generate-stream.sse')),
        }
      }
      return {
        kind: 'body',
        headers: { 'content-type': 'application/json', 'x-prompt-tokens': '7', 'x-generated-tokens': '10' },
        body: transcript('tgi', 'generate.json'),
      }
    }
    return jsonReply({ error: 'not found' }, 404)
  })
}
