/**
 * The fake OpenAI server of the gateway tests that forward verbatim: it speaks both dialects the
 * gateway passes through, Chat Completions and the Responses API (`POST /v1/responses`, JSON or its
 * named-event SSE stream), as OpenAI's API reference shows them. Unlike the transcript server in
 * openai.ts it answers by what is asked: a function call when tools are offered, the JSON of
 * {@link STRUCTURED_ANSWER} when a JSON schema is asked for, and text otherwise. It checks only
 * what the protocol requires (a model, and messages on Chat Completions) and records every body,
 * so tests see exactly what a provider was sent.
 */
import { jsonReply, splitEvery } from './replies'
import { FakeUpstream, type RecordedRequest, type Reply } from './server'

// biome-ignore lint/suspicious/noExplicitAny: fakes read arbitrary JSON bodies
type Json = any

/** The object a structured-output request gets, as JSON text. */
export const STRUCTURED_ANSWER = { city: 'Paris', temperature: 21 }
/** The text answer. */
export const TEXT_ANSWER = 'Hello from the fake.'

const SSE = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' }

function sse(events: Array<{ name?: string; data: unknown }>, done: boolean): Reply {
  let text = ''
  for (const event of events) {
    if (event.name !== undefined) text += `event: ${event.name}\n`
    text += `data: ${JSON.stringify(event.data)}\n\n`
  }
  if (done) text += 'data: [DONE]\n\n'
  return { kind: 'chunks', headers: SSE, chunks: splitEvery(text, 53) }
}

function wantsStructured(body: Record<string, Json>): boolean {
  return body.response_format?.type === 'json_schema' || body.text?.format?.type === 'json_schema'
}

function chat(body: Record<string, Json>): Reply {
  const usage = {
    prompt_tokens: 11,
    completion_tokens: 7,
    total_tokens: 18,
    prompt_tokens_details: { cached_tokens: 4 },
  }
  const tools = Array.isArray(body.tools) && body.tools.length > 0
  const text = wantsStructured(body) ? JSON.stringify(STRUCTURED_ANSWER) : TEXT_ANSWER
  const base = { id: 'chatcmpl-fake', created: 1700000000, model: body.model, system_fingerprint: 'fp_fake' }
  const call = {
    id: 'call_1',
    type: 'function',
    function: { name: body.tools?.[0]?.function?.name, arguments: '{"location":"Paris"}' },
  }
  if (body.stream !== true) {
    return jsonReply({
      ...base,
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          message: tools
            ? { role: 'assistant', content: null, tool_calls: [call], refusal: null }
            : { role: 'assistant', content: text, refusal: null },
          logprobs:
            body.logprobs === true
              ? { content: [{ token: 'Hello', logprob: -0.1, bytes: [72], top_logprobs: [] }] }
              : null,
          finish_reason: tools ? 'tool_calls' : 'stop',
        },
      ],
      usage,
    })
  }
  const chunk = (delta: unknown, finish: string | null = null) => ({
    data: {
      ...base,
      object: 'chat.completion.chunk',
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...(body.stream_options?.include_usage ? { usage: null } : {}),
    },
  })
  const events: Array<{ name?: string; data: unknown }> = tools
    ? [
        chunk({
          role: 'assistant',
          content: null,
          tool_calls: [{ index: 0, ...call, function: { name: call.function.name, arguments: '' } }],
        }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: call.function.arguments } }] }),
        chunk({}, 'tool_calls'),
      ]
    : [
        chunk({ role: 'assistant', content: '' }),
        chunk({ content: text.slice(0, 6) }),
        chunk({ content: text.slice(6) }),
        chunk({}, 'stop'),
      ]
  if (body.stream_options?.include_usage === true) {
    events.push({ data: { ...base, object: 'chat.completion.chunk', choices: [], usage } })
  }
  return sse(events, true)
}

function responses(body: Record<string, Json>): Reply {
  const tools = Array.isArray(body.tools) && body.tools.some((tool: Json) => tool.type === 'function')
  const text = wantsStructured(body) ? JSON.stringify(STRUCTURED_ANSWER) : TEXT_ANSWER
  const usage = {
    input_tokens: 12,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: 8,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: 20,
  }
  const message = {
    type: 'message',
    id: 'msg_fake',
    status: 'completed',
    role: 'assistant',
    content: [{ type: 'output_text', text, annotations: [], logprobs: [] }],
  }
  const name = body.tools?.find((tool: Json) => tool.type === 'function')?.name
  const call = {
    type: 'function_call',
    id: 'fc_fake',
    call_id: 'call_1',
    name,
    arguments: '{"location":"Paris"}',
    status: 'completed',
  }
  const output = tools ? [call] : [message]
  const response = (status: string, items: unknown[], withUsage: boolean) => ({
    id: 'resp_fake',
    object: 'response',
    created_at: 1700000000,
    status,
    error: null,
    incomplete_details: null,
    model: body.model,
    output: items,
    parallel_tool_calls: true,
    tool_choice: body.tool_choice ?? 'auto',
    tools: body.tools ?? [],
    usage: withUsage ? usage : null,
  })
  if (body.stream !== true) return jsonReply(response('completed', output, true))
  let sequence = 0
  const event = (type: string, data: Record<string, unknown>) => ({
    name: type,
    data: { type, sequence_number: sequence++, ...data },
  })
  const events = [event('response.created', { response: response('in_progress', [], false) })]
  if (tools) {
    events.push(
      event('response.output_item.added', {
        output_index: 0,
        item: { ...call, arguments: '', status: 'in_progress' },
      }),
      event('response.function_call_arguments.delta', {
        item_id: 'fc_fake',
        output_index: 0,
        delta: call.arguments,
      }),
      event('response.function_call_arguments.done', {
        item_id: 'fc_fake',
        output_index: 0,
        arguments: call.arguments,
      }),
      event('response.output_item.done', { output_index: 0, item: call }),
    )
  } else {
    const where = { item_id: 'msg_fake', output_index: 0, content_index: 0 }
    events.push(
      event('response.output_item.added', {
        output_index: 0,
        item: { ...message, status: 'in_progress', content: [] },
      }),
      event('response.content_part.added', {
        ...where,
        part: { type: 'output_text', text: '', annotations: [] },
      }),
      event('response.output_text.delta', { ...where, delta: text.slice(0, 6), logprobs: [] }),
      event('response.output_text.delta', { ...where, delta: text.slice(6), logprobs: [] }),
      event('response.output_text.done', { ...where, text, logprobs: [] }),
      event('response.content_part.done', { ...where, part: message.content[0] }),
      event('response.output_item.done', { output_index: 0, item: message }),
    )
  }
  events.push(event('response.completed', { response: response('completed', output, true) }))
  return sse(events, false)
}

/** Starts the fake (paths under `/v1`); `close()` it after the test. */
export function startOpenAIDialectServer(): Promise<FakeUpstream> {
  return FakeUpstream.start((request: RecordedRequest) => {
    const path = request.url.split('?')[0]
    if (request.method === 'GET' && path === '/v1/models') return jsonReply({ object: 'list', data: [] })
    if (request.method !== 'POST') return jsonReply({ error: { message: 'Not found' } }, 404)
    const body = request.json()
    if (typeof body.model !== 'string') return jsonReply({ error: { message: 'model is required' } }, 400)
    if (path === '/v1/chat/completions') {
      if (!Array.isArray(body.messages)) return jsonReply({ error: { message: 'messages is required' } }, 400)
      return chat(body)
    }
    if (path === '/v1/responses') return responses(body)
    return jsonReply({ error: { message: 'Not found' } }, 404)
  })
}
