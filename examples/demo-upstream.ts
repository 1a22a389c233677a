/**
 * DEMO ONLY: a tiny stand-in for an inference server, speaking the OpenAI protocol (what vLLM,
 * TGI's Messages API and Ollama's /v1 serve). It "generates" by echoing the last user message word
 * by word, so the example gateway runs on a machine with no GPU and no model. Never use it for
 * anything but trying the proxy out.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

const MODEL = 'demo-echo'

function lastUserText(body: { messages?: { role: string; content: unknown }[] }): string {
  const message = [...(body.messages ?? [])].reverse().find((candidate) => candidate.role === 'user')
  if (message === undefined) return ''
  if (typeof message.content === 'string') return message.content
  return (message.content as { text?: string }[]).map((part) => part.text ?? '').join(' ')
}

/** Starts the demo upstream on 127.0.0.1 and resolves its base URL. */
export async function startDemoUpstream(): Promise<{ url: string; server: Server }> {
  const server = createServer(async (request, response) => {
    let text = ''
    for await (const chunk of request) text += chunk
    const created = Math.floor(Date.now() / 1000)
    if (request.method === 'GET' && request.url === '/v1/models') {
      response.setHeader('content-type', 'application/json')
      response.end(
        JSON.stringify({ object: 'list', data: [{ id: MODEL, object: 'model', created, owned_by: 'demo' }] }),
      )
      return
    }
    if (request.method !== 'POST' || request.url !== '/v1/chat/completions') {
      response.statusCode = 404
      response.setHeader('content-type', 'application/json')
      response.end(
        JSON.stringify({
          error: { message: 'The demo upstream serves only chat completions', type: 'not_found' },
        }),
      )
      return
    }
    const body = JSON.parse(text) as {
      stream?: boolean
      model?: string
      messages?: { role: string; content: unknown }[]
    }
    const reply = `You said: ${lastUserText(body)}`
    const model = body.model ?? MODEL
    if (body.stream === true) {
      response.setHeader('content-type', 'text/event-stream')
      for (const word of reply.split(/(?<= )/)) {
        const chunk = {
          id: 'chatcmpl-demo',
          object: 'chat.completion.chunk',
          created,
          model,
          choices: [{ index: 0, delta: { content: word }, finish_reason: null }],
        }
        response.write(`data: ${JSON.stringify(chunk)}\n\n`)
      }
      const last = {
        id: 'chatcmpl-demo',
        object: 'chat.completion.chunk',
        created,
        model,
        choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
      }
      response.end(`data: ${JSON.stringify(last)}\n\ndata: [DONE]\n\n`)
      return
    }
    response.setHeader('content-type', 'application/json')
    response.end(
      JSON.stringify({
        id: 'chatcmpl-demo',
        object: 'chat.completion',
        created,
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: reply }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
      }),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }
}
