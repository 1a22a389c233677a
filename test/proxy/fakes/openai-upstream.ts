/**
 * A fake OpenAI-compatible inference server (what vLLM serves), speaking the documented wire
 * format: chat completions JSON and SSE chunks ending in `data: [DONE]`, embeddings, models. It
 * records what it received so tests can check that decrypted content, and only that, arrived.
 * Behaviour switches on the model name: `cut-stream` drops the connection mid-stream, `no-done`
 * ends a stream without [DONE], `upstream-400` answers an OpenAI error body, `text-500` a plain-text 500.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface RecordedRequest {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
}

export interface FakeUpstream {
  url: string
  server: Server
  requests: RecordedRequest[]
  close(): Promise<void>
}

const created = 1_700_000_000

function chatCompletion(model: string, content: string): Record<string, unknown> {
  return {
    id: 'chatcmpl-abc123',
    object: 'chat.completion',
    created,
    model,
    system_fingerprint: 'fp_44709d6fcb',
    choices: [{ index: 0, message: { role: 'assistant', content }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 9, completion_tokens: 12, total_tokens: 21 },
  }
}

function chunk(model: string, delta: Record<string, unknown>, finish: string | null): string {
  const body = {
    id: 'chatcmpl-123',
    object: 'chat.completion.chunk',
    created,
    model,
    system_fingerprint: 'fp_44709d6fcb',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  }
  return `data: ${JSON.stringify(body)}\n\n`
}

/** The reply text: the last user message reversed, so tests can tell it came from the decrypted prompt. */
export function replyFor(prompt: string): string {
  return `echo: ${prompt}`
}

function lastUserText(body: Record<string, unknown>): string {
  const messages = (body.messages as { role: string; content: unknown }[] | undefined) ?? []
  const last = [...messages].reverse().find((message) => message.role === 'user')
  if (last === undefined) return ''
  if (typeof last.content === 'string') return last.content
  return (last.content as { type: string; text?: string }[]).map((part) => part.text ?? '').join('')
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  requests: RecordedRequest[],
): Promise<void> {
  let text = ''
  for await (const part of request) text += part
  requests.push({
    method: request.method ?? '',
    url: request.url ?? '',
    headers: request.headers,
    body: text,
  })
  const url = request.url ?? ''
  if (request.method === 'GET' && url.startsWith('/v1/models')) {
    response.setHeader('content-type', 'application/json')
    response.end(
      JSON.stringify({
        object: 'list',
        data: [{ id: 'llama-3-8b', object: 'model', created, owned_by: 'vllm' }],
      }),
    )
    return
  }
  const body = JSON.parse(text || '{}') as Record<string, unknown>
  const model = String(body.model ?? '')
  if (model === 'upstream-400') {
    response.statusCode = 400
    response.setHeader('content-type', 'application/json')
    response.end(
      JSON.stringify({
        error: {
          message: `bad request about ${lastUserText(body)}`,
          type: 'invalid_request_error',
          param: 'messages',
          code: null,
        },
      }),
    )
    return
  }
  if (model === 'text-500') {
    response.statusCode = 500
    response.end(`Internal error while processing ${lastUserText(body)}`)
    return
  }
  if (url.startsWith('/v1/embeddings')) {
    const inputs = Array.isArray(body.input) ? body.input : [body.input]
    response.setHeader('content-type', 'application/json')
    response.end(
      JSON.stringify({
        object: 'list',
        data: inputs.map((input, index) => ({
          object: 'embedding',
          index,
          embedding: [String(input).length / 10, 0.5, -0.25],
        })),
        model,
        usage: { prompt_tokens: 8, total_tokens: 8 },
      }),
    )
    return
  }
  const reply = replyFor(lastUserText(body))
  if (body.stream === true) {
    response.setHeader('content-type', 'text/event-stream')
    response.setHeader('cache-control', 'no-cache')
    response.write(chunk(model, { role: 'assistant', content: '' }, null))
    const words = reply.split(/(?<= )/)
    for (const [index, word] of words.entries()) {
      response.write(chunk(model, { content: word }, null))
      if (model === 'cut-stream' && index === 1) {
        await new Promise((resolve) => setTimeout(resolve, 20))
        response.socket?.destroy()
        return
      }
    }
    response.write(chunk(model, {}, 'stop'))
    if (model !== 'no-done') response.write('data: [DONE]\n\n')
    response.end()
    return
  }
  response.setHeader('content-type', 'application/json')
  response.end(JSON.stringify(chatCompletion(model, reply)))
}

/** Starts the fake on 127.0.0.1, port 0. */
export async function startOpenAIUpstream(): Promise<FakeUpstream> {
  const requests: RecordedRequest[] = []
  const server = createServer((request, response) => {
    handle(request, response, requests).catch(() => response.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
