/**
 * The fake OpenAI-shaped server (OpenAI, Azure OpenAI, vLLM, any compatible server): chat
 * completions as JSON or SSE (text and tool calls), legacy completions, the Responses API (JSON and
 * named SSE events), embeddings, the models list and health, all in the shapes of the transcripts
 * in test/fixtures/transcripts/openai (or a flavour's own folder), which follow OpenAI's API
 * reference and vLLM's answers. This module has the dialects and {@link startOpenAIServer}, which
 * replays the transcripts verbatim and is as strict as a provider client must be held to: the
 * dialect's paths and credentials, a JSON content type, the body OpenAI requires,
 * `stream_options.include_usage` on streams (provider and gateway tests). Its echoing sibling for
 * proxy tests is `startOpenAIUpstream` in openai-echo.ts.
 */
import { existsSync } from 'node:fs'
import { jsonReply, transcript as readTranscript, splitEvery } from './replies'
import { FakeUpstream, type FakeUpstreamOptions, type RecordedRequest, type Reply } from './server'

/** What an OpenAI-shaped request asks for. */
export type OpenAIOperation = 'chat' | 'completions' | 'responses' | 'embeddings' | 'models' | 'health'

/** The paths and authentication of one OpenAI-shaped server. */
export interface OpenAIServerDialect {
  /** Maps a request to the operation it names, or undefined for a 404. */
  operation(request: RecordedRequest): OpenAIOperation | undefined
  /** Whether the request carries valid credentials. */
  authorized(request: RecordedRequest): boolean
}

const OPENAI_PATHS: Record<string, [string, OpenAIOperation]> = {
  '/v1/chat/completions': ['POST', 'chat'],
  '/v1/completions': ['POST', 'completions'],
  '/v1/responses': ['POST', 'responses'],
  '/v1/embeddings': ['POST', 'embeddings'],
  '/v1/models': ['GET', 'models'],
  '/health': ['GET', 'health'],
}

/** OpenAI itself (and vLLM): `/v1/...` with `Authorization: Bearer <key>` when a key is given. */
export function openaiDialect(apiKey: string | undefined): OpenAIServerDialect {
  return {
    operation: (request) => {
      const entry = OPENAI_PATHS[request.url.split('?')[0] ?? '']
      return entry !== undefined && entry[0] === request.method ? entry[1] : undefined
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

/** A transcript server's folder: its own transcripts win, the rest of the wire format is OpenAI's. */
export type OpenAIFlavour = 'openai' | 'azure-openai' | 'vllm'

export const JSON_HEADERS = { 'content-type': 'application/json' }
export const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' }
export const NOT_FOUND = {
  error: { message: 'Not found', type: 'invalid_request_error', param: null, code: null },
}

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

function flavoured(flavour: OpenAIFlavour): (name: string) => string {
  return (name) =>
    existsSync(new URL(`../fixtures/transcripts/${flavour}/${name}`, import.meta.url))
      ? readTranscript(flavour, name)
      : readTranscript('openai', name)
}

/** Whether a chat request offers tools. */
export function offersTools(body: Record<string, unknown>): boolean {
  return Array.isArray(body.tools) && body.tools.length > 0
}

/** Replays the transcripts verbatim: the strict server of the provider tests. */
function transcriptRoute(dialect: OpenAIServerDialect, flavour: OpenAIFlavour) {
  const transcript = flavoured(flavour)
  return (request: RecordedRequest): Reply => {
    const operation = dialect.operation(request)
    if (operation === undefined) return jsonReply(NOT_FOUND, 404)
    if (operation === 'health') return { kind: 'body', status: 200, body: '' }
    if (!dialect.authorized(request)) return openaiErrorReply(401)
    if (operation === 'models')
      return { kind: 'body', headers: JSON_HEADERS, body: transcript('models.json') }
    if (request.headers['content-type'] !== 'application/json') return openaiErrorReply(400)
    const body = request.json()
    if (operation === 'embeddings') {
      if (!Array.isArray(body.input) || body.encoding_format !== 'float') return openaiErrorReply(400)
      return { kind: 'body', headers: JSON_HEADERS, body: transcript('embeddings.json') }
    }
    if (operation === 'completions' || operation === 'responses') {
      const name = operation === 'completions' ? 'completion' : 'responses'
      if (body.stream === true) {
        return {
          kind: 'chunks',
          headers: SSE_HEADERS,
          chunks: splitEvery(transcript(`${name}-stream.sse`), 37),
        }
      }
      return { kind: 'body', headers: JSON_HEADERS, body: transcript(`${name}.json`) }
    }
    if (typeof body.model !== 'string' || !Array.isArray(body.messages) || body.messages.length === 0) {
      return openaiErrorReply(400)
    }
    const tools = offersTools(body)
    if (body.stream === true) {
      if (body.stream_options?.include_usage !== true) return openaiErrorReply(400)
      const name = tools ? 'chat-stream-tool-calls.sse' : 'chat-stream-text.sse'
      return { kind: 'chunks', headers: SSE_HEADERS, chunks: splitEvery(transcript(name), 37) }
    }
    const name = tools ? 'chat-completion-tool-calls.json' : 'chat-completion.json'
    return { kind: 'body', headers: JSON_HEADERS, body: transcript(name) }
  }
}

/**
 * Starts the transcript server speaking `dialect`; `close()` it after the test.
 * @see the module comment
 */
export function startOpenAIServer(
  dialect: OpenAIServerDialect = openaiDialect(undefined),
  flavour: OpenAIFlavour = 'openai',
  options: FakeUpstreamOptions = {},
): Promise<FakeUpstream> {
  return FakeUpstream.start(transcriptRoute(dialect, flavour), options)
}
