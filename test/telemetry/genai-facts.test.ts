/**
 * GenAI facts from the wire shapes of the built-in protocols (OpenAI chat and Responses, Anthropic
 * messages and stream events, Ollama, TGI), bounded model labels, and the instrumentation version.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { INSTRUMENTATION_VERSION } from '../../src/telemetry'
import {
  operationOf,
  type ResponseFacts,
  readRequestFacts,
  readResponseFacts,
} from '../../src/telemetry/genai'
import { ModelLabels } from '../../src/telemetry/label-bounds'

function facts(...events: Record<string, unknown>[]): ResponseFacts {
  const result: ResponseFacts = { finishReasons: [] }
  for (const event of events) readResponseFacts(result, event)
  return result
}

describe('GenAI facts', () => {
  it('names operations by route', () => {
    expect(
      ['chat-completions', 'messages', 'responses', 'chat'].map((name) => operationOf({ name })),
    ).toEqual(['chat', 'chat', 'chat', 'chat'])
    expect(operationOf({ name: 'completions' })).toBe('text_completion')
    expect(operationOf({ name: 'generate-stream' })).toBe('text_completion')
    expect(operationOf({ name: 'embed' })).toBe('embeddings')
    expect(operationOf({ name: 'count-tokens' })).toBe('count-tokens')
  })

  it('reads request parameters of each dialect, numbers only', () => {
    expect(readRequestFacts({ model: 'm', max_completion_tokens: 10, temperature: 0.5 }, {})).toEqual({
      model: 'm',
      maxTokens: 10,
      temperature: 0.5,
    })
    expect(readRequestFacts({ model: 'o', options: { num_predict: 7, temperature: 1 } }, {})).toEqual({
      model: 'o',
      maxTokens: 7,
      temperature: 1,
    })
    expect(readRequestFacts({ parameters: { max_new_tokens: 20 } }, { model: 'triton-model' })).toEqual({
      model: 'triton-model',
      maxTokens: 20,
      temperature: undefined,
    })
    expect(readRequestFacts({ model: 42, max_tokens: 'lots' }, {}).maxTokens).toBeUndefined()
  })

  it('reads Anthropic stream events', () => {
    expect(
      facts(
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
      facts({
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
      facts({ model: 'llama3', done: true, done_reason: 'stop', prompt_eval_count: 26, eval_count: 290 }),
    ).toEqual({
      model: 'llama3',
      finishReasons: ['stop'],
      inputTokens: 26,
      outputTokens: 290,
    })
    expect(
      facts({ generated_text: 'x', details: { finish_reason: 'length', generated_tokens: 20 } }),
    ).toEqual({
      finishReasons: ['length'],
      outputTokens: 20,
    })
  })

  it('bounds model labels: allow-list, safe alphabet, cap', () => {
    const listed = new ModelLabels({ models: ['llama-3-8b'], maxModels: 10 })
    expect(listed.label('llama-3-8b')).toBe('llama-3-8b')
    expect(listed.label('anything else')).toBe('other')
    expect(listed.label(undefined)).toBe('unknown')
    const capped = new ModelLabels({ models: undefined, maxModels: 2 })
    expect(capped.label('a"b\nc{d}')).toBe('a_b_c_d_')
    expect(capped.label('x'.repeat(100))).toHaveLength(64)
    expect(capped.label('third')).toBe('other')
    expect(capped.label('a"b\nc{d}')).toBe('a_b_c_d_')
  })

  it('reports the package version as the instrumentation version', () => {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string
    }
    expect(INSTRUMENTATION_VERSION).toBe(manifest.version)
  })
})
