/**
 * A fake Triton Inference Server speaking its documented HTTP/REST protocol: KServe v2 health,
 * server and model metadata and readiness, `infer` with JSON BYTES tensors, and the generate
 * extension (`generate` JSON; `generate_stream` as `text/event-stream` `data:` events with no
 * terminal sentinel). Errors are `{"error": "..."}`. The model name switches behaviour:
 * `cut-stream` drops the connection mid-stream, `missing` answers 400 like an unknown model.
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
export function tritonReplyFor(prompt: string): string {
  return `triton says: ${prompt}`
}

const MODEL_PATH =
  /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/generate|\/generate_stream|\/infer|\/ready)?$/

function generateStream(
  response: ServerResponse,
  model: string,
  version: string,
  prompt: string,
): Promise<void> | void {
  response.setHeader('content-type', 'text/event-stream')
  response.setHeader('cache-control', 'no-cache')
  const words = tritonReplyFor(prompt).split(/(?<= )/)
  for (const [index, word] of words.entries()) {
    response.write(
      `data: ${JSON.stringify({ model_name: model, model_version: version, text_output: word })}\n\n`,
    )
    if (model === 'cut-stream' && index === 1) return cutConnection(response)
  }
  response.end()
}

function infer(
  response: ServerResponse,
  model: string,
  version: string,
  body: Record<string, unknown>,
): void {
  const inputs = (body.inputs as { name: string; shape: number[]; data: unknown[] }[] | undefined) ?? []
  const text = inputs.find((input) => input.name === 'text_input')
  if (text === undefined) {
    sendJson(response, 400, { error: "expected input 'text_input' for model" })
    return
  }
  sendJson(response, 200, {
    model_name: model,
    model_version: version,
    ...(typeof body.id === 'string' ? { id: body.id } : {}),
    outputs: [
      {
        name: 'text_output',
        datatype: 'BYTES',
        shape: text.shape,
        data: text.data.map((item) => tritonReplyFor(String(item))),
      },
    ],
  })
}

function handle(request: RecordedRequest, response: ServerResponse): Promise<void> | void {
  const path = request.url.split('?')[0] ?? ''
  if (path === '/v2/health/ready' || path === '/v2/health/live') {
    response.statusCode = 200
    response.end()
    return
  }
  if (path === '/v2') {
    return sendJson(response, 200, {
      name: 'triton',
      version: '2.48.0',
      extensions: ['classification', 'sequence', 'model_repository', 'schedule_policy', 'generate'],
    })
  }
  const match = MODEL_PATH.exec(path)
  if (match === null) return sendJson(response, 404, { error: 'Not Found' })
  const model = match[1]!
  const version = match[2] ?? '1'
  const action = match[3]
  if (model === 'missing') {
    return sendJson(response, 400, { error: `Request for unknown model: '${model}' is not found` })
  }
  if (request.method === 'GET' && action === undefined) {
    return sendJson(response, 200, {
      name: model,
      versions: ['1'],
      platform: 'ensemble',
      inputs: [{ name: 'text_input', datatype: 'BYTES', shape: [-1] }],
      outputs: [{ name: 'text_output', datatype: 'BYTES', shape: [-1] }],
    })
  }
  if (request.method === 'GET' && action === '/ready') {
    response.statusCode = 200
    response.end()
    return
  }
  const body = JSON.parse(request.body || '{}') as Record<string, unknown>
  if (action === '/infer') return infer(response, model, version, body)
  const prompt = String(body.text_input ?? '')
  if (action === '/generate_stream') return generateStream(response, model, version, prompt)
  sendJson(response, 200, { model_name: model, model_version: version, text_output: tritonReplyFor(prompt) })
}

/** Starts the fake Triton server. */
export function startTritonUpstream(): Promise<FakeUpstream> {
  return startFakeServer(handle)
}
