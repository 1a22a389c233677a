/**
 * A fake Vertex AI endpoint for Gemini: `:generateContent`, `:streamGenerateContent` (SSE with
 * `alt=sse`, a JSON array without it, as Vertex does), `:predict` for text embeddings and
 * `:countTokens`, answering from test/fixtures/transcripts/vertex (shapes from the Vertex AI REST
 * reference). It checks the bearer token, the project/location path and the contents' roles, and
 * answers errors as google.rpc.Status bodies.
 */
import { jsonReply, transcript, transcriptLines } from './replies'
import { FakeUpstream, type Reply } from './server'

export const VERTEX_PROJECT = 'my-project'
export const VERTEX_LOCATION = 'us-central1'

function status(code: number, statusName: string, message: string): Reply {
  return jsonReply({ error: { code, message, status: statusName } }, code)
}

/** Starts the fake; requests must carry `Authorization: Bearer <token>`. */
export function startVertexServer(token: string): Promise<FakeUpstream> {
  return FakeUpstream.start((request) => {
    if (request.headers.authorization !== `Bearer ${token}`) {
      return status(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.')
    }
    const url = new URL(request.url, 'http://fake')
    const route =
      /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/google\/models\/([^/:]+):(\w+)$/.exec(
        url.pathname,
      )
    if (request.method !== 'POST' || route === null) return status(404, 'NOT_FOUND', 'Not found')
    const [, project, location, model, method] = route
    if (project !== VERTEX_PROJECT || location !== VERTEX_LOCATION) {
      return status(403, 'PERMISSION_DENIED', 'Permission denied on resource project.')
    }
    const body = request.json()
    if (method === 'predict') {
      if (!Array.isArray(body.instances)) return status(400, 'INVALID_ARGUMENT', 'instances is required')
      const predictions = JSON.parse(transcript('vertex', 'predict.json')).predictions
      return jsonReply({
        predictions: body.instances.map(
          (_: unknown, index: number) => predictions[index % predictions.length],
        ),
      })
    }
    const contents = body.contents
    const valid =
      Array.isArray(contents) &&
      contents.length > 0 &&
      contents.every(
        (content: { role?: string; parts?: unknown[] }) =>
          (content.role === 'user' || content.role === 'model') &&
          Array.isArray(content.parts) &&
          content.parts.length > 0,
      )
    if (!valid)
      return status(
        400,
        'INVALID_ARGUMENT',
        'Please ensure that contents is a non-empty array of user and model turns.',
      )
    if (method === 'countTokens') {
      return {
        kind: 'body',
        headers: { 'content-type': 'application/json' },
        body: transcript('vertex', 'count-tokens.json'),
      }
    }
    if (model === 'blocked-model') {
      return {
        kind: 'body',
        headers: { 'content-type': 'application/json' },
        body: transcript('vertex', 'blocked-prompt.json'),
      }
    }
    const tools = Array.isArray(body.tools) && body.tools.length > 0
    if (method === 'generateContent') {
      const name = tools ? 'generate-content-tools.json' : 'generate-content.json'
      return {
        kind: 'body',
        headers: { 'content-type': 'application/json' },
        body: transcript('vertex', name),
      }
    }
    if (method === 'streamGenerateContent') {
      const name = tools ? 'stream-generate-content-tools.sse' : 'stream-generate-content.sse'
      const events = transcriptLines(transcript('vertex', name))
      if (url.searchParams.get('alt') !== 'sse') {
        const objects = events.filter((line) => line.startsWith('data: ')).map((line) => line.slice(6).trim())
        return {
          kind: 'body',
          headers: { 'content-type': 'application/json' },
          body: `[${objects.join(',')}]`,
        }
      }
      return { kind: 'chunks', headers: { 'content-type': 'text/event-stream' }, chunks: events }
    }
    return status(404, 'NOT_FOUND', 'Unknown method')
  })
}
