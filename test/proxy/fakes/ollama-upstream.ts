/**
 * A fake Ollama server speaking its documented native API (docs/api.md): `/api/chat` and
 * `/api/generate` stream `application/x-ndjson` lines by default and answer one JSON object with
 * `stream: false`; the last line has `done: true`, `done_reason` and the timings and counts;
 * `/api/generate` returns the token `context`. Also `/api/embed`, legacy `/api/embeddings`,
 * `/api/tags`, `/api/version`, `/api/ps` and `/api/show`; errors are `{"error": "..."}`. The model
 * name switches behaviour: `cut-stream` drops the connection mid-stream, `no-done` ends cleanly
 * before the `done` line, `missing` answers 404 like an unknown model.
 */
import type { ServerResponse } from 'node:http'
import {
  cutConnection,
  type FakeUpstream,
  type RecordedRequest,
  sendJson,
  startFakeServer,
} from './fake-server'

/** The generated text for a prompt, so tests can tell it came from the decrypted request. */
export function ollamaReplyFor(prompt: string): string {
  return `llama replies: ${prompt}`
}

/** The token context the fake returns for a prompt. */
export function ollamaContextFor(prompt: string): number[] {
  return [...prompt].slice(0, 6).map((character) => character.charCodeAt(0))
}

const CREATED_AT = '2023-08-04T19:22:45.499127Z'

const STATISTICS = {
  total_duration: 4883583458,
  load_duration: 1334875,
  prompt_eval_count: 26,
  prompt_eval_duration: 342546000,
  eval_count: 282,
  eval_duration: 4535599000,
}

interface Message {
  role: string
  content?: string
  images?: string[]
}

function lastUser(body: Record<string, unknown>): Message {
  const messages = (body.messages as Message[] | undefined) ?? []
  return [...messages].reverse().find((message) => message.role === 'user') ?? { role: 'user' }
}

type Piece = (text: string, done: boolean) => Record<string, unknown>

async function respond(
  response: ServerResponse,
  body: Record<string, unknown>,
  reply: string,
  piece: Piece,
  final: Record<string, unknown>,
): Promise<void> {
  const model = String(body.model)
  const head = { model, created_at: CREATED_AT }
  if (body.stream === false) {
    return sendJson(response, 200, {
      ...head,
      ...piece(reply, true),
      done: true,
      done_reason: 'stop',
      ...final,
      ...STATISTICS,
    })
  }
  response.setHeader('content-type', 'application/x-ndjson')
  for (const [index, word] of reply.split(/(?<= )/).entries()) {
    response.write(`${JSON.stringify({ ...head, ...piece(word, false), done: false })}\n`)
    if (model === 'cut-stream' && index === 1) return cutConnection(response)
  }
  if (model !== 'no-done') {
    response.write(
      `${JSON.stringify({ ...head, ...piece('', true), done: true, done_reason: 'stop', ...final, ...STATISTICS })}\n`,
    )
  }
  response.end()
}

async function handle(request: RecordedRequest, response: ServerResponse): Promise<void> {
  const path = request.url.split('?')[0]
  if (request.method === 'GET') {
    if (path === '/api/version') return sendJson(response, 200, { version: '0.5.1' })
    if (path === '/api/tags' || path === '/api/ps') {
      return sendJson(response, 200, {
        models: [
          { name: 'llama3.2:latest', model: 'llama3.2:latest', size: 2019393189, digest: 'a80c4f17acd5' },
        ],
      })
    }
    return sendJson(response, 404, { error: 'not found' })
  }
  const body = JSON.parse(request.body || '{}') as Record<string, unknown>
  const model = String(body.model ?? '')
  if (model === 'missing')
    return sendJson(response, 404, { error: `model "${model}" not found, try pulling it first` })
  if (path === '/api/show') {
    return sendJson(response, 200, {
      modelfile: '# Modelfile',
      parameters: 'num_ctx 4096',
      details: { family: 'llama' },
    })
  }
  if (path === '/api/embed') {
    const inputs = Array.isArray(body.input) ? body.input : [body.input]
    return sendJson(response, 200, {
      model,
      embeddings: inputs.map((input) => [String(input).length / 100, 0.25, -0.5]),
      total_duration: 14143917,
      load_duration: 1019500,
      prompt_eval_count: 8,
    })
  }
  if (path === '/api/embeddings') {
    return sendJson(response, 200, { embedding: [String(body.prompt).length / 100, 0.5] })
  }
  if (path === '/api/generate') {
    const prompt = String(body.prompt ?? '')
    const reply = ollamaReplyFor(`${typeof body.system === 'string' ? `[${body.system}] ` : ''}${prompt}`)
    return respond(response, body, reply, (text) => ({ response: text }), {
      context: ollamaContextFor(prompt),
    })
  }
  const user = lastUser(body)
  const tools = (body.tools as { function: { name: string } }[] | undefined) ?? []
  if (tools.length > 0) {
    const call = { function: { name: tools[0]!.function.name, arguments: { city: user.content ?? '' } } }
    return respond(
      response,
      body,
      '',
      (text, done) => ({
        message: { role: 'assistant', content: text, ...(done ? {} : { tool_calls: [call] }) },
      }),
      {},
    )
  }
  const seen = (user.images ?? []).length > 0 ? ` (saw ${user.images!.length} image)` : ''
  const reply = ollamaReplyFor(`${user.content ?? ''}${seen}`)
  return respond(response, body, reply, (text) => ({ message: { role: 'assistant', content: text } }), {})
}

/** Starts the fake Ollama server. */
export function startOllamaUpstream(): Promise<FakeUpstream> {
  return startFakeServer(handle)
}
