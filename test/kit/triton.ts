/**
 * The fake Triton Inference Server, speaking its HTTP/REST protocol in the shapes of the
 * transcripts in test/fixtures/transcripts/triton (the KServe v2 protocol and Triton's generate
 * extension): health, server and model metadata and readiness, `infer` with JSON BYTES tensors,
 * `generate` (JSON) and `generate_stream` (`text/event-stream` `data:` events, no terminal
 * sentinel). Errors are `{"error": "..."}`. It echoes the decrypted prompt ({@link tritonReplyFor})
 * so proxy tests can tell the plaintext arrived; the model name `cut-stream` drops the connection
 * mid-stream, and `missing` is answered as an unknown model.
 */
import {
  behaviourOf,
  deliver,
  type Frame,
  jsonReply,
  sseFrame,
  sseJson,
  transcript,
  transcriptJson,
  words,
} from './replies'
import { FakeUpstream, type RecordedRequest, type Reply } from './server'

/** The generated text for a prompt, so tests can tell it came from the decrypted request. */
export function tritonReplyFor(prompt: string): string {
  return `triton says: ${prompt}`
}

const MODEL_PATH =
  /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/generate|\/generate_stream|\/infer|\/ready)?$/

type Body = Record<string, unknown>

function infer(model: string, version: string, body: Body): Reply {
  const inputs = (body.inputs as { name: string; shape: number[]; data: unknown[] }[] | undefined) ?? []
  const text = inputs.find((input) => input.name === 'text_input')
  if (text === undefined) return jsonReply({ error: "expected input 'text_input' for model" }, 400)
  const answer = transcriptJson('triton', 'infer.json')
  answer.model_name = model
  answer.model_version = version
  if (typeof body.id === 'string') answer.id = body.id
  else delete answer.id
  answer.outputs[0].shape = text.shape
  answer.outputs[0].data = text.data.map((item) => tritonReplyFor(String(item)))
  return jsonReply(answer)
}

function generate(model: string, version: string, body: Body, stream: boolean): Reply {
  const reply = tritonReplyFor(String(body.text_input ?? ''))
  if (!stream) {
    const answer = transcriptJson('triton', 'generate.json')
    Object.assign(answer, { model_name: model, model_version: version, text_output: reply })
    return jsonReply(answer)
  }
  const [template] = sseJson('triton', 'generate-stream.sse')
  const frames = words(reply).map(
    (word): Frame => ({
      text: sseFrame({ ...template!.data, model_name: model, model_version: version, text_output: word }),
      content: true,
    }),
  )
  const headers = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' }
  return deliver({ kind: 'stream', headers, frames }, behaviourOf(model))
}

function route(request: RecordedRequest): Reply {
  const path = request.url.split('?')[0] ?? ''
  if (path === '/v2/health/ready' || path === '/v2/health/live')
    return { kind: 'body', status: 200, body: '' }
  if (path === '/v2') {
    return {
      kind: 'body',
      headers: { 'content-type': 'application/json' },
      body: transcript('triton', 'server-metadata.json'),
    }
  }
  const match = MODEL_PATH.exec(path)
  if (match === null) return jsonReply({ error: 'Not Found' }, 404)
  const model = match[1]!
  const version = match[2] ?? '1'
  const action = match[3]
  if (model === 'missing') {
    const error = transcriptJson('triton', 'unknown-model.json')
    error.error = error.error.replace('llama9', model)
    return jsonReply(error, 400)
  }
  if (request.method === 'GET' && action === undefined) {
    const metadata = transcriptJson('triton', 'model-metadata.json')
    metadata.name = model
    return jsonReply(metadata)
  }
  if (request.method === 'GET' && action === '/ready') return { kind: 'body', status: 200, body: '' }
  const body = JSON.parse(request.body || '{}') as Body
  if (action === '/infer') return infer(model, version, body)
  return generate(model, version, body, action === '/generate_stream')
}

/** Starts the fake Triton server; `close()` it after the test. */
export function startTritonUpstream(): Promise<FakeUpstream> {
  return FakeUpstream.start(route)
}
