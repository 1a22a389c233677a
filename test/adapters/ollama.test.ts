import { describe, expect, it } from 'vitest'
import { ollamaContextFor, ollamaReplyFor, startOllamaUpstream } from '../kit/ollama'
import { recordWire, startExpressProxy, useEncryptedProxy, wireText } from './harness'

const fixture = useEncryptedProxy(startOllamaUpstream)
const { post } = fixture

function lines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
}

function lastUpstreamBody(): Record<string, unknown> {
  return JSON.parse(fixture.upstream.requests.at(-1)!.body) as Record<string, unknown>
}

describe('Ollama adapter through Express', () => {
  it('streams /api/chat as NDJSON by default, content encrypted, counts plain', async () => {
    const recorder = recordWire()
    const response = await post(recorder, '/api/chat', {
      model: 'llama3.2',
      options: { temperature: 0.1, num_ctx: 4096, stop: ['classified'] },
      messages: [
        { role: 'system', content: 'you are a discreet assistant' },
        { role: 'user', content: 'summarise the board minutes', images: ['aW1hZ2UtYnl0ZXM='] },
      ],
    })
    expect(response.headers.get('content-type')).toMatch(/^application\/x-ndjson/)
    const parts = lines(await response.text())
    const reply = ollamaReplyFor('summarise the board minutes (saw 1 image)')
    expect(parts.map((part) => (part.message as { content: string }).content).join('')).toBe(reply)
    expect(parts.at(-1)).toMatchObject({
      done: true,
      done_reason: 'stop',
      eval_count: 282,
      model: 'llama3.2',
    })
    expect(lastUpstreamBody()).toMatchObject({
      options: { temperature: 0.1, num_ctx: 4096, stop: ['classified'] },
      messages: [
        { role: 'system', content: 'you are a discreet assistant' },
        { role: 'user', content: 'summarise the board minutes', images: ['aW1hZ2UtYnl0ZXM='] },
      ],
    })
    const sent = JSON.parse(recorder.requests[0]!) as {
      options: Record<string, unknown>
      messages: unknown[]
    }
    expect(sent.options).toMatchObject({ temperature: 0.1, num_ctx: 4096 })
    expect(String(sent.options.stop)).toMatch(/^cp2\./)
    const wire = await wireText(recorder)
    expect(wire).toContain('"done":true')
    expect(wire).toContain('"eval_count":282')
    for (const secret of ['discreet', 'board minutes', 'aW1hZ2Ut', 'classified', 'llama replies']) {
      expect(wire).not.toContain(secret)
    }
  })

  it('answers one JSON object with stream: false', async () => {
    const response = await post(undefined, '/api/chat', {
      model: 'llama3.2',
      stream: false,
      messages: [{ role: 'user', content: 'quiet please' }],
    })
    expect(response.headers.get('content-type')).toMatch(/^application\/json/)
    expect(await response.json()).toMatchObject({
      message: { role: 'assistant', content: ollamaReplyFor('quiet please') },
      done: true,
    })
  })

  it('carries tools and tool calls encrypted', async () => {
    const recorder = recordWire()
    const response = await post(recorder, '/api/chat', {
      model: 'llama3.2',
      stream: false,
      messages: [{ role: 'user', content: 'Toronto' }],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_current_weather',
            description: 'Get the current weather for a city',
            parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
          },
        },
      ],
    })
    const answer = (await response.json()) as { message: { tool_calls?: unknown } }
    expect(answer.message.tool_calls).toEqual([
      { function: { name: 'get_current_weather', arguments: { city: 'Toronto' } } },
    ])
    const streamed = lines(
      await (
        await post(recorder, '/api/chat', {
          model: 'llama3.2',
          messages: [{ role: 'user', content: 'Toronto' }],
          tools: [{ type: 'function', function: { name: 'get_current_weather', parameters: {} } }],
        })
      ).text(),
    )
    expect((streamed[0]!.message as { tool_calls: unknown }).tool_calls).toEqual([
      { function: { name: 'get_current_weather', arguments: { city: 'Toronto' } } },
    ])
    const wire = await wireText(recorder)
    for (const secret of ['Toronto', 'get_current_weather', 'current weather for'])
      expect(wire).not.toContain(secret)
  })

  it('generates with prompt, system and context encrypted, context returned encrypted', async () => {
    const recorder = recordWire()
    const response = await post(recorder, '/api/generate', {
      model: 'llama3.2',
      prompt: 'draft the layoff notice',
      system: 'hr confidential',
      context: [101, 202, 303],
      stream: false,
    })
    const answer = (await response.json()) as Record<string, unknown>
    expect(answer).toMatchObject({
      response: ollamaReplyFor('[hr confidential] draft the layoff notice'),
      context: ollamaContextFor('draft the layoff notice'),
      done: true,
    })
    expect(lastUpstreamBody()).toMatchObject({ context: [101, 202, 303], system: 'hr confidential' })
    const wire = await wireText(recorder)
    expect(wire).not.toContain('101,202,303')
    expect(wire).not.toContain(JSON.stringify(ollamaContextFor('draft the layoff notice')))
    for (const secret of ['layoff', 'hr confidential', 'llama replies']) expect(wire).not.toContain(secret)
  })

  it('streams /api/generate with the context on the done line', async () => {
    const parts = lines(
      await (await post(undefined, '/api/generate', { model: 'llama3.2', prompt: 'go on' })).text(),
    )
    expect(parts.map((part) => part.response).join('')).toBe(ollamaReplyFor('go on'))
    expect(parts.at(-1)).toMatchObject({ done: true, context: ollamaContextFor('go on') })
  })

  it('embeds with input and embeddings encrypted', async () => {
    const recorder = recordWire()
    const response = await post(recorder, '/api/embed', {
      model: 'all-minilm',
      input: ['why is the sky blue?', 'ok'],
    })
    expect(await response.json()).toMatchObject({
      model: 'all-minilm',
      embeddings: [
        [0.2, 0.25, -0.5],
        [0.02, 0.25, -0.5],
      ],
      prompt_eval_count: 8,
    })
    const legacy = await post(recorder, '/api/embeddings', { model: 'all-minilm', prompt: 'sky' })
    expect(await legacy.json()).toEqual({ embedding: [0.03, 0.5] })
    const wire = await wireText(recorder)
    for (const secret of ['sky', '0.25', '0.03']) expect(wire).not.toContain(secret)
  })

  it('surfaces a connection cut mid-stream as an error', async () => {
    const response = await post(undefined, '/api/chat', {
      model: 'cut-stream',
      messages: [{ role: 'user', content: 'one two three four' }],
    })
    await expect(response.text()).rejects.toMatchObject({ code: 'CONTINUUM_UPSTREAM_STREAM_ABORTED' })
  })

  it('treats a stream that ends before done: true as cut', async () => {
    const response = await post(undefined, '/api/generate', { model: 'no-done', prompt: 'one two three' })
    await expect(response.text()).rejects.toMatchObject({ code: 'CONTINUUM_UPSTREAM_STREAM_ABORTED' })
  })

  it('writes the NDJSON error line for plain clients of an optional proxy', async () => {
    const optional = await startExpressProxy({ upstream: fixture.upstream.url, encryption: 'optional' })
    try {
      const response = await fetch(`${optional.url}/api/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'cut-stream',
          messages: [{ role: 'user', content: 'one two three four' }],
        }),
      })
      const parts = lines(await response.text())
      expect(parts.at(-1)).toEqual({
        error: expect.any(String),
        code: 'CONTINUUM_UPSTREAM_STREAM_ABORTED',
      })
    } finally {
      await optional.close()
    }
  })

  it('relays an upstream error encrypted with its status', async () => {
    const recorder = recordWire()
    const response = await post(recorder, '/api/chat', {
      model: 'missing',
      stream: false,
      messages: [{ role: 'user', content: 'x' }],
    })
    expect(response.status).toBe(404)
    expect(await response.json()).toEqual({ error: 'model "missing" not found, try pulling it first' })
    expect(await wireText(recorder)).not.toContain('not found')
  })

  it('answers 400 CONTINUUM_SCHEMA_VIOLATION with the failing path', async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['/api/chat', { model: 'llama3.2', messages: [{ role: 'robot', content: 'x' }] }, '/messages/0/role'],
      ['/api/chat', { model: 'llama3.2', messages: [{ role: 'user', content: 42 }] }, '/messages/0/content'],
      ['/api/generate', { model: 'llama3.2', prompt: 'x', context: ['a'] }, '/context/0'],
      ['/api/embed', { model: 'all-minilm' }, '/'],
    ]
    for (const [path, body, at] of cases) {
      const response = await post(undefined, path, body)
      expect(response.status).toBe(400)
      const error = ((await response.json()) as { error: { code: string; path: string } }).error
      expect(error).toMatchObject({ code: 'CONTINUUM_SCHEMA_VIOLATION', path: at })
    }
  })

  it('passes tags, version, ps and show through', async () => {
    expect(await (await fetch(`${fixture.proxy.url}/api/version`)).json()).toEqual({ version: '0.5.1' })
    expect(await (await fetch(`${fixture.proxy.url}/api/tags`)).json()).toMatchObject({
      models: [{ name: 'llama3.2:latest' }],
    })
    expect((await fetch(`${fixture.proxy.url}/api/ps`)).status).toBe(200)
    const show = await fetch(`${fixture.proxy.url}/api/show`, {
      method: 'POST',
      body: JSON.stringify({ model: 'llama3.2' }),
    })
    expect(await show.json()).toMatchObject({ details: { family: 'llama' } })
    expect(fixture.upstream.requests.at(-1)).toMatchObject({
      method: 'POST',
      url: '/api/show',
      body: '{"model":"llama3.2"}',
    })
  })
})
