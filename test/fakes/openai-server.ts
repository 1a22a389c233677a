/**
 * A fake OpenAI-shaped server (OpenAI, Azure OpenAI, vLLM, any compatible server): chat
 * completions as JSON or SSE, embeddings and the models list / health route, answering from the
 * transcripts in test/fixtures/transcripts/openai (or a flavour's own folder), which follow the examples of OpenAI's API
 * reference. The dialect decides the paths and the credential header; bodies that OpenAI would
 * reject (missing model or messages, streams without `include_usage`) get its 400 error body.
 */
import { existsSync } from 'node:fs'
import {
  FakeUpstream,
  jsonReply,
  type RecordedRequest,
  type Reply,
  transcript as readTranscript,
  transcriptLines,
} from './fake-upstream'

/** The paths and authentication of one OpenAI-shaped server. */
export interface OpenAIServerDialect {
  /** Maps a request to the operation it names, or undefined for a 404. */
  operation(request: RecordedRequest): 'chat' | 'embeddings' | 'models' | 'health' | undefined
  /** Whether the request carries valid credentials. */
  authorized(request: RecordedRequest): boolean
}

/** OpenAI itself: `/v1/...` with `Authorization: Bearer <key>`. */
export function openaiDialect(apiKey: string | undefined): OpenAIServerDialect {
  return {
    operation: (request) => {
      const path = request.url.split('?')[0]
      if (path === '/v1/chat/completions' && request.method === 'POST') return 'chat'
      if (path === '/v1/embeddings' && request.method === 'POST') return 'embeddings'
      if (path === '/v1/models' && request.method === 'GET') return 'models'
      if (path === '/health' && request.method === 'GET') return 'health'
      return undefined
    },
    authorized: (request) => apiKey === undefined || request.headers.authorization === `Bearer ${apiKey}`,
  }
}

/** Azure OpenAI: `/openai/deployments/{deployment}/...?api-version=...` with an `api-key` header or bearer token. */
export function azureDialect(
  credential: { apiKey?: string; token?: string },
  deployments: string[],
): OpenAIServerDialect {
  return {
    operation: (request) => {
      const url = new URL(request.url, 'http://fake')
      if (url.searchParams.get('api-version') === null) return undefined
      if (url.pathname === '/openai/models' && request.method === 'GET') return 'models'
      const match = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|embeddings)$/.exec(url.pathname)
      if (
        match === null ||
        request.method !== 'POST' ||
        !deployments.includes(decodeURIComponent(match[1] ?? ''))
      ) {
        return undefined
      }
      return match[2] === 'embeddings' ? 'embeddings' : 'chat'
    },
    authorized: (request) =>
      (credential.apiKey !== undefined && request.headers['api-key'] === credential.apiKey) ||
      (credential.token !== undefined && request.headers.authorization === `Bearer ${credential.token}`),
  }
}

const JSON_HEADERS = { 'content-type': 'application/json' }
const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' }

/** An OpenAI error answer from a transcript. */
export function openaiErrorReply(
  status: 400 | 401 | 429 | 500 | 503,
  headers: Record<string, string> = {},
): Reply {
  return {
    kind: 'body',
    status,
    headers: { ...JSON_HEADERS, ...headers },
    body: readTranscript('openai', `error-${status}.json`),
  }
}

/** Starts a fake speaking `dialect`; `close()` it after the test. */
export function startOpenAIServer(
  dialect: OpenAIServerDialect = openaiDialect(undefined),
  flavour: 'openai' | 'azure-openai' | 'vllm' = 'openai',
): Promise<FakeUpstream> {
  // A flavour's own transcript wins; the rest of the wire format is OpenAI's.
  const transcript = (name: string): string =>
    existsSync(new URL(`../fixtures/transcripts/${flavour}/${name}`, import.meta.url))
      ? readTranscript(flavour, name)
      : readTranscript('openai', name)
  return FakeUpstream.start((request) => {
    const operation = dialect.operation(request)
    if (operation === undefined) {
      return jsonReply(
        { error: { message: 'Not found', type: 'invalid_request_error', param: null, code: null } },
        404,
      )
    }
    if (operation === 'health') return { kind: 'body', status: 200, body: '' }
    if (!dialect.authorized(request)) return openaiErrorReply(401)
    if (operation === 'models')
      return { kind: 'body', headers: JSON_HEADERS, body: transcript('models.json') }
    const body = request.json()
    if (request.headers['content-type'] !== 'application/json') return openaiErrorReply(400)
    if (operation === 'embeddings') {
      if (!Array.isArray(body.input) || body.encoding_format !== 'float') return openaiErrorReply(400)
      return { kind: 'body', headers: JSON_HEADERS, body: transcript('embeddings.json') }
    }
    if (typeof body.model !== 'string' || !Array.isArray(body.messages) || body.messages.length === 0) {
      return openaiErrorReply(400)
    }
    const tools = Array.isArray(body.tools) && body.tools.length > 0
    if (body.stream === true) {
      if (body.stream_options?.include_usage !== true) return openaiErrorReply(400)
      const name = tools ? 'chat-stream-tool-calls.sse' : 'chat-stream-text.sse'
      return { kind: 'chunks', headers: SSE_HEADERS, chunks: splitEvery(transcript(name), 37) }
    }
    const name = tools ? 'chat-completion-tool-calls.json' : 'chat-completion.json'
    return { kind: 'body', headers: JSON_HEADERS, body: transcript(name) }
  })
}

/**
 * Splits a transcript into pieces of `size` characters so events, lines and even multi-byte
 * characters straddle writes, as they do on a real network.
 */
export function splitEvery(text: string, size: number): Uint8Array[] {
  const bytes = Buffer.from(text, 'utf8')
  const pieces: Uint8Array[] = []
  for (let start = 0; start < bytes.length; start += size) pieces.push(bytes.subarray(start, start + size))
  return pieces
}

/** The transcript's SSE lines up to (not including) the first line that contains `marker`. */
export function transcriptUntil(protocol: string, name: string, marker: string): string[] {
  const lines = transcriptLines(readTranscript(protocol, name))
  const stop = lines.findIndex((line) => line.includes(marker))
  return stop === -1 ? lines : lines.slice(0, stop)
}
