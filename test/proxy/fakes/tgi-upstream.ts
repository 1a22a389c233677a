/**
 * A fake Text Generation Inference server speaking TGI's native API as documented in its OpenAPI
 * spec: `POST /generate` (`{generated_text, details}`), `POST /generate_stream` (SSE `data:`
 * events `{index, token:{id,text,logprob,special}, generated_text, details, top_tokens}`, the last
 * with `generated_text` and `details`, no terminal sentinel), errors `{error, error_type}`, and
 * `GET /health`, `/info`, `/metrics`. TGI takes no model in the body, so behaviour switches on
 * the prompt: `CUT ...` drops the connection mid-stream, `NOEND ...` ends cleanly before the last
 * event, `OVERLONG ...` answers a 422 validation error that echoes the input.
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
export function tgiReplyFor(prompt: string): string {
  return ` tgi continues ${prompt}`
}

interface Token {
  id: number
  text: string
  logprob: number
  special: boolean
}

function tokens(text: string): Token[] {
  return text
    .split(/(?= )/)
    .map((piece, index) => ({ id: 1000 + index, text: piece, logprob: -0.25, special: false }))
}

function generateStream(response: ServerResponse, prompt: string, reply: string): Promise<void> | void {
  response.setHeader('content-type', 'text/event-stream')
  response.setHeader('cache-control', 'no-cache')
  const pieces = tokens(reply)
  for (const [index, token] of pieces.entries()) {
    const last = index === pieces.length - 1
    if (last && prompt.startsWith('NOEND')) {
      response.end()
      return
    }
    const event = {
      index: index + 1,
      token,
      top_tokens: null,
      generated_text: last ? reply : null,
      details: last
        ? { finish_reason: 'eos_token', generated_tokens: pieces.length, seed: null, input_length: 7 }
        : null,
    }
    response.write(`data:${JSON.stringify(event)}\n\n`)
    if (prompt.startsWith('CUT') && index === 1) return cutConnection(response)
  }
  response.end()
}

function handle(request: RecordedRequest, response: ServerResponse): Promise<void> | void {
  const path = request.url.split('?')[0]
  if (request.method === 'GET' && path === '/health') {
    response.statusCode = 200
    response.end()
    return
  }
  if (request.method === 'GET' && path === '/info') {
    return sendJson(response, 200, {
      model_id: 'bigscience/bloom-560m',
      model_dtype: 'torch.float16',
      model_device_type: 'cuda',
      max_input_tokens: 1024,
      max_total_tokens: 2048,
      router: 'text-generation-router',
      version: '3.0.0',
    })
  }
  if (request.method === 'GET' && path === '/metrics') {
    response.setHeader('content-type', 'text/plain; version=0.0.4')
    response.end('# TYPE tgi_request_count counter\ntgi_request_count 3\n')
    return
  }
  const body = JSON.parse(request.body || '{}') as { inputs?: string; parameters?: { details?: boolean } }
  const prompt = String(body.inputs ?? '')
  if (prompt.startsWith('OVERLONG')) {
    return sendJson(response, 422, {
      error: `Input validation error: \`inputs\` must have less than 1024 tokens. Given: ${prompt}`,
      error_type: 'validation',
    })
  }
  const reply = tgiReplyFor(prompt)
  if (path === '/generate_stream') return generateStream(response, prompt, reply)
  const pieces = tokens(reply)
  sendJson(response, 200, {
    generated_text: reply,
    ...(body.parameters?.details === true
      ? {
          details: {
            finish_reason: 'length',
            generated_tokens: pieces.length,
            seed: 42,
            prefill: [{ id: 9, text: prompt, logprob: null }],
            tokens: pieces,
            top_tokens: [],
            best_of_sequences: null,
          },
        }
      : {}),
  })
}

/** Starts the fake TGI server. */
export function startTgiUpstream(): Promise<FakeUpstream> {
  return startFakeServer(handle)
}
