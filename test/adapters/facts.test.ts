/**
 * The GenAI facts each built-in adapter declares for telemetry and audit, read from the wire shapes
 * of its protocol (OpenAI chat and Responses, Anthropic messages and stream events, Ollama, TGI,
 * Triton's path parameter), and the operation names of the routes. Counts, ids and names only.
 */
import { AdapterRegistry, addAnswerFacts, type ResponseFacts } from 'continuum-proxy'
import { builtinAdapters } from 'continuum-proxy/adapters'
import { describe, expect, it } from 'vitest'

const registry = new AdapterRegistry(builtinAdapters())

function routeOf(method: string, path: string) {
  const lookup = registry.lookup(method, path)
  if (lookup.kind !== 'match') throw new Error(`no route ${method} ${path}`)
  return lookup.match
}

function requestFacts(path: string, body: Record<string, unknown>) {
  const match = routeOf('POST', path)
  return match.route.facts?.request(body, match.params) ?? { model: match.params.model, maxTokens: undefined }
}

function facts(path: string, ...events: Record<string, unknown>[]): ResponseFacts {
  const reader = routeOf('POST', path).route.facts!
  const result: ResponseFacts = { finishReasons: [] }
  for (const event of events) reader.response(result, event)
  return result
}

describe('adapter facts', () => {
  it('names operations by route', () => {
    const operation = (path: string) => routeOf('POST', path).route.operation
    expect(['/v1/chat/completions', '/v1/messages', '/v1/responses', '/api/chat'].map(operation)).toEqual([
      'chat',
      'chat',
      'responses',
      'chat',
    ])
    expect(operation('/v1/completions')).toBe('text_completion')
    expect(operation('/generate_stream')).toBe('text_completion')
    expect(operation('/api/embed')).toBe('embeddings')
    expect(operation('/v1/messages/count_tokens')).toBe('count-tokens')
    expect(operation('/v2/models/m/infer')).toBe('infer')
  })

  it('reads request parameters of each protocol, numbers only', () => {
    expect(
      requestFacts('/v1/chat/completions', { model: 'm', max_completion_tokens: 10, temperature: 0.5 }),
    ).toEqual({
      model: 'm',
      maxTokens: 10,
      temperature: 0.5,
    })
    expect(
      requestFacts('/api/generate', { model: 'o', options: { num_predict: 7, temperature: 1 } }),
    ).toEqual({
      model: 'o',
      maxTokens: 7,
      temperature: 1,
    })
    expect(requestFacts('/generate', { parameters: { max_new_tokens: 20 } })).toEqual({
      model: undefined,
      maxTokens: 20,
      temperature: undefined,
    })
    expect(requestFacts('/v2/models/triton-model/generate', { text_input: 'x' })).toEqual({
      model: 'triton-model',
      maxTokens: undefined,
    })
    expect(requestFacts('/v1/chat/completions', { model: 42, max_tokens: 'lots' }).maxTokens).toBeUndefined()
  })

  it('reads Anthropic stream events', () => {
    expect(
      facts(
        '/v1/messages',
        {
          type: 'message_start',
          message: { id: 'msg_1', model: 'claude', usage: { input_tokens: 25, output_tokens: 1 } },
        },
        { type: 'content_block_delta', delta: { type: 'text_delta', text: 'hello' } },
        { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 15 } },
      ),
    ).toEqual({
      id: 'msg_1',
      model: 'claude',
      finishReasons: ['end_turn'],
      inputTokens: 25,
      outputTokens: 15,
    })
  })

  it('reads the Responses API, Ollama and TGI', () => {
    expect(
      facts('/v1/responses', {
        type: 'response.completed',
        response: {
          id: 'resp_1',
          object: 'response',
          status: 'completed',
          model: 'gpt',
          usage: { input_tokens: 4, output_tokens: 2 },
        },
      }),
    ).toEqual({ id: 'resp_1', model: 'gpt', finishReasons: ['completed'], inputTokens: 4, outputTokens: 2 })
    expect(
      facts('/api/chat', {
        model: 'llama3',
        done: true,
        done_reason: 'stop',
        prompt_eval_count: 26,
        eval_count: 290,
      }),
    ).toEqual({
      model: 'llama3',
      finishReasons: ['stop'],
      inputTokens: 26,
      outputTokens: 290,
    })
    expect(
      facts('/generate', { generated_text: 'x', details: { finish_reason: 'length', generated_tokens: 20 } }),
    ).toEqual({
      finishReasons: ['length'],
      outputTokens: 20,
    })
  })

  it('addAnswerFacts keeps what earlier events said when a later one names nothing usable', () => {
    const result: ResponseFacts = { finishReasons: [] }
    addAnswerFacts(result, { id: 'msg_1', model: 'm'.repeat(300), inputTokens: 12, outputTokens: 1 })
    addAnswerFacts(result, { id: '', model: 42, inputTokens: -1, outputTokens: 7 })
    addAnswerFacts(result, { inputTokens: 1.5, outputTokens: '9' })
    expect(result).toEqual({
      id: 'msg_1',
      model: 'm'.repeat(128),
      finishReasons: [],
      inputTokens: 12,
      outputTokens: 7,
    })
  })
})
