/**
 * The fake Text Generation Inference server, in the shapes of the transcripts in
 * test/fixtures/transcripts/tgi (TGI's OpenAPI spec): the Messages API
 * (`/v1/chat/completions`, JSON or SSE), the native `POST /generate` (`{generated_text, details}`,
 * details only when asked) and `POST /generate_stream` (SSE `data:` token events, the last with
 * `generated_text` and `details`, no terminal sentinel), and `GET /health`, `/info`, `/metrics`.
 * Like TGI it answers invalid parameters with 422 `{error, error_type}`, and it checks the bearer
 * token when one is configured. Two presets:
 *
 * - {@link startTgiServer} replays the transcripts verbatim (provider tests).
 * - {@link startTgiUpstream} echoes the decrypted prompt ({@link tgiReplyFor}) for proxy tests.
 *   TGI takes no model in the body, so the prompt picks misbehaviours: `CUT ...` drops the
 *   connection mid-stream, `NOEND ...` ends cleanly before the last event, `OVERLONG ...` answers
 *   a 422 validation error that quotes the input.
 */
import {
  type Answer,
  type Behaviour,
  deliver,
  type Frame,
  jsonReply,
  sseFrame,
  sseJson,
  transcript,
  transcriptJson,
  transcriptLines,
} from './replies'
import { FakeUpstream, type RecordedRequest, type Reply } from './server'

const SSE = { 'content-type': 'text/event-stream' }
const JSON_HEADERS = { 'content-type': 'application/json' }

type Body = {
  inputs?: unknown
  parameters?: { details?: boolean; temperature?: number }
  [key: string]: unknown
}

/** The generated text for a prompt, so tests can tell it came from the decrypted request. */
export function tgiReplyFor(prompt: string): string {
  return ` tgi continues ${prompt}`
}

function route(
  chat: (body: Body) => Reply,
  generate: (body: Body, stream: boolean) => Reply,
  token?: string,
) {
  return (request: RecordedRequest): Reply => {
    if (token !== undefined && request.headers.authorization !== `Bearer ${token}`) {
      return jsonReply({ error: 'Authorization header is invalid', error_type: 'authentication' }, 401)
    }
    const path = request.url.split('?')[0]
    if (request.method === 'GET') {
      if (path === '/health') return { kind: 'body', status: 200, body: '' }
      if (path === '/info')
        return { kind: 'body', headers: JSON_HEADERS, body: transcript('tgi', 'info.json') }
      if (path === '/metrics') {
        return {
          kind: 'body',
          headers: { 'content-type': 'text/plain; version=0.0.4' },
          body: transcript('tgi', 'metrics.txt'),
        }
      }
      return jsonReply({ error: 'not found' }, 404)
    }
    if (request.method !== 'POST') return jsonReply({ error: 'method not allowed' }, 405)
    const body = request.json() as Body
    if (path === '/v1/chat/completions') {
      if (!Array.isArray(body.messages) || body.messages.length === 0) {
        return jsonReply({ error: 'Input validation error: messages', error_type: 'validation' }, 422)
      }
      return chat(body)
    }
    if (path === '/generate' || path === '/generate_stream') {
      if (typeof body.inputs !== 'string' || body.parameters?.temperature === 0) {
        return {
          kind: 'body',
          status: 422,
          headers: JSON_HEADERS,
          body: transcript('tgi', 'validation-error.json'),
        }
      }
      return generate(body, path === '/generate_stream')
    }
    return jsonReply({ error: 'not found' }, 404)
  }
}

/** Starts the transcript server; `token` makes it demand `Authorization: Bearer <token>`. */
export function startTgiServer(token?: string): Promise<FakeUpstream> {
  const chat = (body: Body): Reply => {
    const tools = Array.isArray(body.tools) && body.tools.length > 0
    if (body.stream === true) {
      const name = tools ? 'chat-tools-stream.sse' : 'chat-stream.sse'
      return { kind: 'chunks', headers: SSE, chunks: transcriptLines(transcript('tgi', name)) }
    }
    return {
      kind: 'body',
      headers: JSON_HEADERS,
      body: transcript('tgi', tools ? 'chat-tools.json' : 'chat.json'),
    }
  }
  const generate = (_body: Body, stream: boolean): Reply =>
    stream
      ? {
          kind: 'chunks',
          headers: { ...SSE, 'x-prompt-tokens': '7' },
          chunks: transcriptLines(transcript('tgi', 'generate-stream.sse')),
        }
      : {
          kind: 'body',
          headers: { ...JSON_HEADERS, 'x-prompt-tokens': '7', 'x-generated-tokens': '10' },
          body: transcript('tgi', 'generate.json'),
        }
  return FakeUpstream.start(route(chat, generate, token))
}

/** The reply as TGI tokens in the transcript's shape, one per word. */
function tokens(reply: string): { id: number; text: string; logprob: number; special: boolean }[] {
  return reply
    .split(/(?= )/)
    .map((text, index) => ({ id: 1000 + index, text, logprob: -0.25, special: false }))
}

function echoGenerate(body: Body, stream: boolean): Reply {
  const prompt = String(body.inputs)
  if (prompt.startsWith('OVERLONG')) {
    return jsonReply(
      {
        error: `Input validation error: \`inputs\` must have less than 1024 tokens. Given: ${prompt}`,
        error_type: 'validation',
      },
      422,
    )
  }
  const reply = tgiReplyFor(prompt)
  const pieces = tokens(reply)
  const behaviour: Behaviour | undefined = prompt.startsWith('CUT')
    ? 'cut-stream'
    : prompt.startsWith('NOEND')
      ? 'no-terminal'
      : undefined
  if (!stream) {
    const generated = transcriptJson('tgi', 'generate.json')
    generated.generated_text = reply
    if (body.parameters?.details === true) {
      generated.details = { ...generated.details, generated_tokens: pieces.length, tokens: pieces }
    } else {
      delete generated.details
    }
    const answer: Answer = {
      kind: 'json',
      headers: { 'x-prompt-tokens': '7', 'x-generated-tokens': String(pieces.length) },
      value: generated,
    }
    return deliver(answer, behaviour)
  }
  const events = sseJson('tgi', 'generate-stream.sse').map((event) => event.data)
  const last = events.at(-1)
  const frames = pieces.map((token, index): Frame => {
    const final = index === pieces.length - 1
    const event = {
      ...events[0],
      index: index + 1,
      token,
      generated_text: final ? reply : null,
      details: final ? { ...last.details, generated_tokens: pieces.length } : null,
    }
    return { text: sseFrame(event, undefined, false), content: true, terminal: final }
  })
  return deliver({ kind: 'stream', headers: { ...SSE, 'x-prompt-tokens': '7' }, frames }, behaviour)
}

/** Starts the echo server; `close()` it after the test. */
export function startTgiUpstream(): Promise<FakeUpstream> {
  const chat = (body: Body): Reply =>
    body.stream === true
      ? { kind: 'chunks', headers: SSE, chunks: transcriptLines(transcript('tgi', 'chat-stream.sse')) }
      : { kind: 'body', headers: JSON_HEADERS, body: transcript('tgi', 'chat.json') }
  return FakeUpstream.start(route(chat, echoGenerate))
}
