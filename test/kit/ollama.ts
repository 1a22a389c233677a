/**
 * The fake Ollama server, speaking its native API (docs/api.md) in the shapes of the transcripts
 * in test/fixtures/transcripts/ollama: `/api/chat` and `/api/generate` stream
 * `application/x-ndjson` lines unless told `stream: false` (the last line has `done: true`,
 * `done_reason`, the timings and counts; `/api/generate` also the token `context`), `/api/embed`,
 * the legacy `/api/embeddings`, `/api/show`, `/api/tags`, `/api/ps` and `/api/version`. It refuses
 * bodies Ollama would (no model, messages that are not a list), answers an unknown model
 * (`llama9`, `missing`) with Ollama's 404, and errors are `{"error": "..."}`. Two presets:
 *
 * - {@link startOllamaServer} replays the transcripts verbatim (provider tests).
 * - {@link startOllamaUpstream} echoes the decrypted prompt for proxy tests
 *   ({@link ollamaReplyFor}, {@link ollamaContextFor}); `cut-stream` and `no-done` misbehave as
 *   replies.ts describes.
 */
import {
  type Answer,
  behaviourOf,
  deliver,
  type Frame,
  jsonReply,
  transcript,
  transcriptJson,
  transcriptLines,
  words,
} from './replies'
import { FakeUpstream, type RecordedRequest, type Reply } from './server'

const JSON_HEADERS = { 'content-type': 'application/json' }
const NDJSON = { 'content-type': 'application/x-ndjson' }
const UNKNOWN_MODELS = new Set(['llama9', 'missing'])

/** The generated text for a prompt, so tests can tell it came from the decrypted request. */
export function ollamaReplyFor(prompt: string): string {
  return `llama replies: ${prompt}`
}

/** The token context the echo server returns for a prompt. */
export function ollamaContextFor(prompt: string): number[] {
  return [...prompt].slice(0, 6).map((character) => character.charCodeAt(0))
}

type Body = Record<string, unknown>
// biome-ignore lint/suspicious/noExplicitAny: transcript lines are arbitrary protocol JSON
type Line = any

function file(name: string): Reply {
  return { kind: 'body', headers: JSON_HEADERS, body: transcript('ollama', name) }
}

/** What a preset answers once the request passed the checks both share. */
interface Answers {
  chat(body: Body): Reply
  generate(body: Body): Reply
  embed(body: Body): Reply
  embeddings(body: Body): Reply
}

function route(answers: Answers) {
  return (request: RecordedRequest): Reply => {
    const path = request.url.split('?')[0]
    if (request.method === 'GET') {
      if (path === '/api/version') return file('version.json')
      if (path === '/api/tags') return file('tags.json')
      if (path === '/api/ps') return file('ps.json')
      return jsonReply({ error: 'not found' }, 404)
    }
    if (request.method !== 'POST') return jsonReply({ error: 'method not allowed' }, 405)
    const body = request.json() as Body
    if (typeof body.model !== 'string') return jsonReply({ error: 'model is required' }, 400)
    if (UNKNOWN_MODELS.has(body.model)) {
      const error = transcriptJson('ollama', 'model-not-found.json')
      error.error = error.error.replace('llama9', body.model)
      return jsonReply(error, 404)
    }
    switch (path) {
      case '/api/show':
        return file('show.json')
      case '/api/embed':
        if (!Array.isArray(body.input) && typeof body.input !== 'string') {
          return jsonReply({ error: 'invalid input type' }, 400)
        }
        return answers.embed(body)
      case '/api/embeddings':
        return answers.embeddings(body)
      case '/api/generate':
        return answers.generate(body)
      case '/api/chat':
        if (!Array.isArray(body.messages)) return jsonReply({ error: 'messages must be an array' }, 400)
        return answers.chat(body)
      default:
        return jsonReply({ error: 'not found' }, 404)
    }
  }
}

function offersTools(body: Body): boolean {
  return Array.isArray(body.tools) && body.tools.length > 0
}

/** Starts the transcript server; `close()` it after the test. */
export function startOllamaServer(): Promise<FakeUpstream> {
  const streamed = (name: string): Reply => ({
    kind: 'chunks',
    headers: NDJSON,
    chunks: transcriptLines(transcript('ollama', name)),
  })
  return FakeUpstream.start(
    route({
      // Ollama streams unless told otherwise.
      chat: (body) =>
        body.stream === false
          ? file(offersTools(body) ? 'chat-tools.json' : 'chat.json')
          : streamed(offersTools(body) ? 'chat-tools-stream.ndjson' : 'chat-stream.ndjson'),
      generate: (body) =>
        body.stream === false ? file('generate.json') : streamed('generate-stream.ndjson'),
      embed: () => file('embed.json'),
      embeddings: () => file('embeddings.json'),
    }),
  )
}

function ndjson(line: Line, content = false, terminal = false): Frame {
  return { text: `${JSON.stringify(line)}\n`, content, terminal }
}

/**
 * An answer in the transcripts' shapes: one line per word of `reply` (each made by `piece` from the
 * first line), then the done line; or, with `stream: false`, the JSON answer with the whole reply.
 */
function answer(
  body: Body,
  json: string,
  stream: string,
  piece: (line: Line, text: string) => void,
  reply: string,
): Answer {
  const model = String(body.model)
  if (body.stream === false) {
    const whole = transcriptJson('ollama', json)
    whole.model = model
    piece(whole, reply)
    return { kind: 'json', value: whole }
  }
  const lines: Line[] = transcriptLines(transcript('ollama', stream)).map((line) => JSON.parse(line))
  for (const line of lines) line.model = model
  const done = lines.find((line) => line.done === true)
  const parts = words(reply).map((word) => {
    const line = structuredClone(lines[0])
    piece(line, word)
    return ndjson(line, true)
  })
  piece(done, '')
  return { kind: 'stream', headers: NDJSON, frames: [...parts, ndjson(done, false, true)] }
}

function lastUser(body: Body): { content?: string; images?: string[] } {
  const messages = (body.messages as { role: string; content?: string; images?: string[] }[]) ?? []
  return [...messages].reverse().find((message) => message.role === 'user') ?? {}
}

function echoChat(body: Body): Reply {
  const user = lastUser(body)
  if (offersTools(body)) {
    const name = (body.tools as { function: { name: string } }[])[0]!.function.name
    const call = { function: { name, arguments: { city: user.content ?? '' } } }
    const tooled = answer(
      body,
      'chat-tools.json',
      'chat-tools-stream.ndjson',
      (line, text) => {
        line.message.content = text
        if (line.message.tool_calls !== undefined) line.message.tool_calls = [call]
      },
      '',
    )
    return deliver(tooled, behaviourOf(body.model))
  }
  const seen = (user.images ?? []).length > 0 ? ` (saw ${user.images!.length} image)` : ''
  const reply = ollamaReplyFor(`${user.content ?? ''}${seen}`)
  const chat = answer(
    body,
    'chat.json',
    'chat-stream.ndjson',
    (line, text) => {
      line.message = { role: 'assistant', content: text }
    },
    reply,
  )
  return deliver(chat, behaviourOf(body.model))
}

function echoGenerate(body: Body): Reply {
  const prompt = String(body.prompt ?? '')
  const reply = ollamaReplyFor(`${typeof body.system === 'string' ? `[${body.system}] ` : ''}${prompt}`)
  const generated = answer(
    body,
    'generate.json',
    'generate-stream.ndjson',
    (line, text) => {
      line.response = text
      if (line.done === true) line.context = ollamaContextFor(prompt)
    },
    reply,
  )
  return deliver(generated, behaviourOf(body.model))
}

/** Starts the echo server; `close()` it after the test. */
export function startOllamaUpstream(): Promise<FakeUpstream> {
  return FakeUpstream.start(
    route({
      chat: echoChat,
      generate: echoGenerate,
      embed: (body) => {
        const embedded = transcriptJson('ollama', 'embed.json')
        const inputs = Array.isArray(body.input) ? body.input : [body.input]
        embedded.model = body.model
        embedded.embeddings = inputs.map((input) => [String(input).length / 100, 0.25, -0.5])
        return jsonReply(embedded)
      },
      embeddings: (body) => {
        const embedded = transcriptJson('ollama', 'embeddings.json')
        embedded.embedding = [String(body.prompt).length / 100, 0.5]
        return jsonReply(embedded)
      },
    }),
  )
}
