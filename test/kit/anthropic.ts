/**
 * The fake Anthropic Messages API: `POST /v1/messages` (a Message object, or the named-event SSE
 * stream `message_start`, `content_block_start`, `ping`, `content_block_delta` with `text_delta` /
 * `input_json_delta`, `content_block_stop`, `message_delta`, `message_stop`; with or without tool
 * use), `POST /v1/messages/count_tokens` and `GET /v1/models`, in the shapes of the transcripts in
 * test/fixtures/transcripts/anthropic, which follow Anthropic's API reference. Errors are
 * `{"type":"error","error":{type, message}}`. Two presets:
 *
 * - {@link startAnthropicServer} replays the transcripts verbatim and is as strict as the real API:
 *   the key (`x-api-key`, or a bearer token as newer SDKs send it), `anthropic-version`, a
 *   `max_tokens` and user/assistant roles only. Provider and gateway tests use it.
 * - {@link startAnthropicUpstream} takes any request and echoes the decrypted prompt for proxy tests
 *   ({@link anthropicReplyFor}, tool input {@link anthropicToolInputFor} under {@link TOOL_USE_ID}).
 *   Model names misbehave: `cut-stream` and `no-stop` (see replies.ts), `overloaded` sends the
 *   transcript's `error` event mid-stream, `upstream-400` answers an error quoting the prompt.
 */
import {
  type Answer,
  behaviourOf,
  deliver,
  type Frame,
  jsonReply,
  splitEvery,
  sseFrame,
  sseJson,
  transcript,
  transcriptJson,
  words,
} from './replies'
import { FakeUpstream, type RecordedRequest, type Reply } from './server'

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

/** The reply to a prompt, so tests can tell it came from the decrypted request. */
export function anthropicReplyFor(prompt: string): string {
  return `claude heard: ${prompt}`
}

/** The tool input the echo server asks for: the prompt's last word as `location`. */
export function anthropicToolInputFor(prompt: string): Record<string, unknown> {
  return { location: prompt.split(' ').at(-1) ?? '', unit: 'celsius' }
}

/** The id of the echo server's tool_use block (the transcript's). */
export const TOOL_USE_ID = 'toolu_01A09q90qw90lq917835lq9'

type Body = Record<string, unknown>
interface Block {
  type: string
  text?: string
  content?: unknown
}

/** Whether the body is a Messages request the real API would take (undefined), or its error. */
function invalid(body: Body): Reply | undefined {
  const messages = body.messages
  const valid =
    typeof body.model === 'string' &&
    typeof body.max_tokens === 'number' &&
    Array.isArray(messages) &&
    messages.length > 0 &&
    messages.every((message: { role?: unknown }) => message.role === 'user' || message.role === 'assistant')
  return valid ? undefined : anthropicErrorReply(400)
}

/**
 * Routes shared by both presets; `messages` answers a Messages request. `check` refuses a request
 * the preset will not take (a wrong key, a missing `anthropic-version`, a body the API refuses).
 */
function route(
  check: (request: RecordedRequest) => Reply | undefined,
  messages: (body: Body) => Reply,
  countTokens: (body: Body) => Reply,
  strict: boolean,
) {
  return (request: RecordedRequest): Reply => {
    const refused = check(request)
    if (refused !== undefined) return refused
    if (strict && request.headers['anthropic-version'] === undefined) return anthropicErrorReply(400)
    const path = request.url.split('?')[0]
    if (request.method === 'GET' && path === '/v1/models') {
      return { kind: 'body', headers: JSON_HEADERS, body: transcript('anthropic', 'models.json') }
    }
    if (request.method !== 'POST' || (path !== '/v1/messages' && path !== '/v1/messages/count_tokens')) {
      return jsonReply({ type: 'error', error: { type: 'not_found_error', message: 'Not found' } }, 404)
    }
    const body = request.json() as Body
    if (path === '/v1/messages/count_tokens') return countTokens(body)
    return (strict ? invalid(body) : undefined) ?? messages(body)
  }
}

function transcriptMessages(body: Body): Reply {
  const tools = Array.isArray(body.tools) && body.tools.length > 0
  if (body.stream === true) {
    const name = tools ? 'stream-tool-use.sse' : 'stream-text.sse'
    return { kind: 'chunks', headers: SSE_HEADERS, chunks: splitEvery(transcript('anthropic', name), 41) }
  }
  const name = tools ? 'message-tool-use.json' : 'message.json'
  return { kind: 'body', headers: JSON_HEADERS, body: transcript('anthropic', name) }
}

/** Starts the transcript server for `apiKey`; `close()` it after the test. */
export function startAnthropicServer(apiKey: string): Promise<FakeUpstream> {
  return FakeUpstream.start(
    route(
      (request) => {
        const key = request.headers['x-api-key'] ?? request.headers.authorization?.replace(/^Bearer /, '')
        return key === apiKey ? undefined : anthropicErrorReply(401)
      },
      transcriptMessages,
      () => ({ kind: 'body', headers: JSON_HEADERS, body: transcript('anthropic', 'count-tokens.json') }),
      true,
    ),
  )
}

function blockText(block: Block): string {
  if (typeof block.text === 'string') return block.text
  if (typeof block.content === 'string') return block.content
  if (Array.isArray(block.content)) return (block.content as Block[]).map(blockText).join('')
  return ''
}

function lastUser(body: Body): { text: string; toolResult: boolean } {
  const messages = (body.messages as { role: string; content: string | Block[] }[] | undefined) ?? []
  const last = [...messages].reverse().find((message) => message.role === 'user')
  if (last === undefined) return { text: '', toolResult: false }
  if (typeof last.content === 'string') return { text: last.content, toolResult: false }
  return {
    text: last.content.map(blockText).join(''),
    toolResult: last.content.some((block) => block.type === 'tool_result'),
  }
}

// biome-ignore lint/suspicious/noExplicitAny: transcript events are arbitrary protocol JSON
type Event = { event?: string; data: any }

function frame({ event, data }: Event, content = false): Frame {
  return { text: sseFrame(data, event), content, terminal: event === 'message_stop' }
}

/** A text stream in the transcript's shape, one `text_delta` per word; `overloaded` fails after two. */
function textStream(model: string, reply: string, overloaded: boolean): Frame[] {
  const events: Event[] = sseJson('anthropic', 'stream-text.sse')
  events[0]!.data.message.model = model
  const isDelta = (event: Event) => event.event === 'content_block_delta'
  const template = events.find(isDelta)!
  const deltas = words(reply).map((word) => {
    const delta = structuredClone(template)
    delta.data.delta.text = word
    return frame(delta, true)
  })
  const head = events.slice(0, events.findIndex(isDelta)).map((event) => frame(event))
  if (overloaded) {
    const error = sseJson('anthropic', 'stream-overloaded.sse').find((event) => event.event === 'error')!
    return [...head, ...deltas.slice(0, 2), frame(error)]
  }
  const tail = events.slice(events.findLastIndex(isDelta) + 1).map((event) => frame(event))
  return [...head, ...deltas, ...tail]
}

/** A tool-use stream in the transcript's shape: its text block, then one tool_use block with `input`. */
function toolStream(model: string, name: string, input: unknown): Frame[] {
  const events: Event[] = sseJson('anthropic', 'stream-tool-use.sse')
  events[0]!.data.message.model = model
  const toolStart = events.findIndex((event) => event.data.content_block?.type === 'tool_use')
  const json = JSON.stringify(input)
  const middle = Math.floor(json.length / 2)
  const start = events[toolStart]!
  start.data.content_block.id = TOOL_USE_ID
  start.data.content_block.name = name
  const template = events[toolStart + 1]!
  const parts = [json.slice(0, middle), json.slice(middle)].map((part) => {
    const delta = structuredClone(template)
    delta.data.delta.partial_json = part
    return frame(delta, true)
  })
  const stop = events.find(
    (event) => event.event === 'content_block_stop' && event.data.index === start.data.index,
  )!
  const ending = events.filter((event) => event.event === 'message_delta' || event.event === 'message_stop')
  return [
    ...events.slice(0, toolStart).map((event) => frame(event, event.event === 'content_block_delta')),
    frame(start),
    ...parts,
    frame(stop),
    ...ending.map((event) => frame(event)),
  ]
}

function echoMessages(body: Body): Reply {
  const model = String(body.model)
  const { text, toolResult } = lastUser(body)
  if (model === 'upstream-400') {
    const error = transcriptJson('anthropic', 'error-400.json')
    error.error.message = `prompt rejected: ${text}`
    return jsonReply(error, 400)
  }
  const tools = (body.tools as { name: string }[] | undefined) ?? []
  const stream = body.stream === true
  let answer: Answer
  if (tools.length > 0 && !toolResult) {
    const name = tools[0]!.name
    const input = anthropicToolInputFor(text)
    if (stream) {
      answer = { kind: 'stream', headers: SSE_HEADERS, frames: toolStream(model, name, input) }
    } else {
      const message = transcriptJson('anthropic', 'message-tool-use.json')
      message.model = model
      message.content[1] = { type: 'tool_use', id: TOOL_USE_ID, name, input }
      answer = { kind: 'json', headers: JSON_HEADERS, value: message }
    }
  } else if (stream) {
    const frames = textStream(model, anthropicReplyFor(text), model === 'overloaded')
    answer = { kind: 'stream', headers: SSE_HEADERS, frames }
  } else {
    const message = transcriptJson('anthropic', 'message.json')
    message.model = model
    message.content = [{ type: 'text', text: anthropicReplyFor(text) }]
    answer = { kind: 'json', headers: JSON_HEADERS, value: message }
  }
  return deliver(answer, behaviourOf(model))
}

function echoCountTokens(body: Body): Reply {
  const counted = transcriptJson('anthropic', 'count-tokens.json')
  // Ten more than the prompt's words, so the count shows the decrypted prompt arrived.
  counted.input_tokens = lastUser(body).text.split(/\s+/).filter(Boolean).length + 10
  return jsonReply(counted, 200, JSON_HEADERS)
}

/** Starts the echo server (any key); `close()` it after the test. */
export function startAnthropicUpstream(): Promise<FakeUpstream> {
  return FakeUpstream.start(route(() => undefined, echoMessages, echoCountTokens, false))
}
