/**
 * A fake Anthropic Messages API following its documented wire format: `/v1/messages` JSON
 * Message objects and the named-event SSE stream (`message_start`, `content_block_start`, `ping`,
 * `content_block_delta` with `text_delta` / `input_json_delta`, `content_block_stop`,
 * `message_delta`, `message_stop`), tool use, `/v1/messages/count_tokens`, and errors as
 * `{"type":"error","error":{type, message}}`. The model name switches behaviour: `cut-stream`
 * drops the connection mid-stream, `no-stop` ends cleanly without `message_stop`, `overloaded`
 * sends an `error` event mid-stream, `upstream-400` answers an error that echoes the prompt.
 */
import type { ServerResponse } from 'node:http'
import {
  cutConnection,
  type FakeUpstream,
  type RecordedRequest,
  sendJson,
  startFakeServer,
} from './fake-server'

interface Block {
  type: string
  text?: string
  content?: unknown
}

interface Message {
  role: string
  content: string | Block[]
}

/** The reply to a prompt, so tests can tell it came from the decrypted request. */
export function anthropicReplyFor(prompt: string): string {
  return `claude heard: ${prompt}`
}

/** The tool input the fake asks for: the prompt's last word as `location`. */
export function anthropicToolInputFor(prompt: string): Record<string, unknown> {
  return { location: prompt.split(' ').at(-1) ?? '', unit: 'celsius' }
}

export const TOOL_USE_ID = 'toolu_01A09q90qw90lq917835lq9'

function blockText(block: Block): string {
  if (typeof block.text === 'string') return block.text
  if (typeof block.content === 'string') return block.content
  if (Array.isArray(block.content)) return (block.content as Block[]).map(blockText).join('')
  return ''
}

function lastUser(body: Record<string, unknown>): { text: string; toolResult: boolean } {
  const messages = (body.messages as Message[] | undefined) ?? []
  const last = [...messages].reverse().find((message) => message.role === 'user')
  if (last === undefined) return { text: '', toolResult: false }
  if (typeof last.content === 'string') return { text: last.content, toolResult: false }
  return {
    text: last.content.map(blockText).join(''),
    toolResult: last.content.some((block) => block.type === 'tool_result'),
  }
}

function plan(body: Record<string, unknown>): { content: Record<string, unknown>[]; stopReason: string } {
  const { text, toolResult } = lastUser(body)
  const tools = (body.tools as { name: string }[] | undefined) ?? []
  if (tools.length > 0 && !toolResult) {
    return {
      content: [
        { type: 'text', text: 'Let me check.' },
        { type: 'tool_use', id: TOOL_USE_ID, name: tools[0]!.name, input: anthropicToolInputFor(text) },
      ],
      stopReason: 'tool_use',
    }
  }
  return { content: [{ type: 'text', text: anthropicReplyFor(text) }], stopReason: 'end_turn' }
}

const usage = { input_tokens: 25, output_tokens: 12 }

function event(response: ServerResponse, type: string, data: Record<string, unknown>): void {
  response.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`)
}

async function stream(response: ServerResponse, model: string, body: Record<string, unknown>): Promise<void> {
  const { content, stopReason } = plan(body)
  response.setHeader('content-type', 'text/event-stream; charset=utf-8')
  response.setHeader('cache-control', 'no-cache')
  event(response, 'message_start', {
    message: {
      id: 'msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY',
      type: 'message',
      role: 'assistant',
      content: [],
      model,
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 25, output_tokens: 1 },
    },
  })
  let deltas = 0
  for (const [index, block] of content.entries()) {
    if (block.type === 'text') {
      event(response, 'content_block_start', { index, content_block: { type: 'text', text: '' } })
      event(response, 'ping', {})
      for (const word of String(block.text).split(/(?<= )/)) {
        event(response, 'content_block_delta', { index, delta: { type: 'text_delta', text: word } })
        deltas++
        if (model === 'cut-stream' && deltas === 2) return cutConnection(response)
        if (model === 'overloaded' && deltas === 2) {
          event(response, 'error', { error: { type: 'overloaded_error', message: 'Overloaded' } })
          response.end()
          return
        }
      }
    } else {
      event(response, 'content_block_start', {
        index,
        content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
      })
      const json = JSON.stringify(block.input)
      const middle = Math.floor(json.length / 2)
      for (const part of [json.slice(0, middle), json.slice(middle)]) {
        event(response, 'content_block_delta', {
          index,
          delta: { type: 'input_json_delta', partial_json: part },
        })
      }
    }
    event(response, 'content_block_stop', { index })
  }
  event(response, 'message_delta', {
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: { output_tokens: 15 },
  })
  if (model !== 'no-stop') event(response, 'message_stop', {})
  response.end()
}

async function handle(request: RecordedRequest, response: ServerResponse): Promise<void> {
  const path = request.url.split('?')[0]
  if (request.method === 'GET' && path === '/v1/models') {
    return sendJson(response, 200, {
      data: [
        {
          type: 'model',
          id: 'claude-sonnet-4-20250514',
          display_name: 'Claude Sonnet 4',
          created_at: '2025-05-22T00:00:00Z',
        },
      ],
      has_more: false,
      first_id: 'claude-sonnet-4-20250514',
      last_id: 'claude-sonnet-4-20250514',
    })
  }
  const body = JSON.parse(request.body || '{}') as Record<string, unknown>
  const model = String(body.model ?? '')
  if (model === 'upstream-400') {
    return sendJson(response, 400, {
      type: 'error',
      error: { type: 'invalid_request_error', message: `prompt rejected: ${lastUser(body).text}` },
    })
  }
  if (path === '/v1/messages/count_tokens') {
    const words = lastUser(body).text.split(/\s+/).filter(Boolean).length
    return sendJson(response, 200, { input_tokens: words + 10 })
  }
  if (body.stream === true) return stream(response, model, body)
  const { content, stopReason } = plan(body)
  sendJson(response, 200, {
    id: 'msg_013Zva2CMHLNnXjNJJKqJ2EF',
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage,
  })
}

/** Starts the fake Anthropic API. */
export function startAnthropicUpstream(): Promise<FakeUpstream> {
  return startFakeServer(handle)
}
