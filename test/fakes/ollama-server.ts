/**
 * A fake Ollama server: `/api/chat` (JSON or NDJSON stream, with or without tools), `/api/embed`
 * and `/api/version`, answering from the transcripts in test/fixtures/transcripts/ollama, which
 * follow the examples of Ollama's docs/api.md. It rejects bodies that are not what Ollama accepts.
 */
import { FakeUpstream, jsonReply, transcript, transcriptLines } from './fake-upstream'

const NDJSON = { 'content-type': 'application/x-ndjson' }

/** Starts the fake; `close()` it after the test. */
export function startOllamaServer(): Promise<FakeUpstream> {
  return FakeUpstream.start((request) => {
    if (request.method === 'GET' && request.url === '/api/version') {
      return {
        kind: 'body',
        headers: { 'content-type': 'application/json' },
        body: transcript('ollama', 'version.json'),
      }
    }
    if (request.method !== 'POST') return jsonReply({ error: 'method not allowed' }, 405)
    const body = request.json()
    if (typeof body.model !== 'string') return jsonReply({ error: 'model is required' }, 400)
    if (body.model === 'llama9') {
      return {
        kind: 'body',
        status: 404,
        headers: { 'content-type': 'application/json' },
        body: transcript('ollama', 'model-not-found.json'),
      }
    }
    if (request.url === '/api/embed') {
      if (!Array.isArray(body.input)) return jsonReply({ error: 'input must be an array' }, 400)
      return {
        kind: 'body',
        headers: { 'content-type': 'application/json' },
        body: transcript('ollama', 'embed.json'),
      }
    }
    if (request.url !== '/api/chat') return jsonReply({ error: 'not found' }, 404)
    if (!Array.isArray(body.messages)) return jsonReply({ error: 'messages must be an array' }, 400)
    const tools = Array.isArray(body.tools) && body.tools.length > 0
    // Ollama streams unless told otherwise.
    if (body.stream === false) {
      const name = tools ? 'chat-tools.json' : 'chat.json'
      return {
        kind: 'body',
        headers: { 'content-type': 'application/json' },
        body: transcript('ollama', name),
      }
    }
    const name = tools ? 'chat-tools-stream.ndjson' : 'chat-stream.ndjson'
    return { kind: 'chunks', headers: NDJSON, chunks: transcriptLines(transcript('ollama', name)) }
  })
}
