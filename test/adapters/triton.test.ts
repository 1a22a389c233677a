import { describe, expect, it } from 'vitest'
import { startTritonUpstream, tritonReplyFor } from '../kit/triton'
import { recordWire, useEncryptedProxy, wireText } from './harness'

const fixture = useEncryptedProxy(startTritonUpstream)
const { post } = fixture

function lastUpstreamBody(): Record<string, unknown> {
  return JSON.parse(fixture.upstream.requests.at(-1)!.body) as Record<string, unknown>
}

describe('Triton adapter through Express', () => {
  it('generates with encrypted text_input and text_output, knobs plain', async () => {
    const recorder = recordWire()
    const response = await post(recorder, '/v2/models/ensemble/generate', {
      text_input: 'diagnosis for patient 4471',
      max_tokens: 20,
      stop_words: ['confidential'],
      parameters: { temperature: 0.2, stream: false },
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({
      model_name: 'ensemble',
      model_version: '1',
      text_output: tritonReplyFor('diagnosis for patient 4471'),
    })
    expect(lastUpstreamBody()).toEqual({
      text_input: 'diagnosis for patient 4471',
      max_tokens: 20,
      stop_words: ['confidential'],
      parameters: { temperature: 0.2, stream: false },
    })
    expect(fixture.upstream.requests.at(-1)?.url).toBe('/v2/models/ensemble/generate')
    const wire = await wireText(recorder)
    expect(recorder.requests[0]).toContain('"max_tokens":20')
    expect(recorder.requests[0]).toContain('"temperature":0.2')
    for (const secret of ['patient 4471', 'confidential', 'triton says']) expect(wire).not.toContain(secret)
  })

  it('serves the versioned generate path', async () => {
    const response = await post(undefined, '/v2/models/llama/versions/3/generate', {
      text_input: 'hello there',
    })
    expect(await response.json()).toMatchObject({
      model_version: '3',
      text_output: tritonReplyFor('hello there'),
    })
    expect(fixture.upstream.requests.at(-1)?.url).toBe('/v2/models/llama/versions/3/generate')
  })

  it('streams generate_stream events encrypted, decrypted by the client', async () => {
    const recorder = recordWire()
    const response = await post(recorder, '/v2/models/ensemble/generate_stream', {
      text_input: 'stream the merger terms',
      parameters: { max_tokens: 32 },
    })
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/)
    const text = await response.text()
    const events = text
      .split('\n\n')
      .filter((frame) => frame.startsWith('data: '))
      .map((frame) => JSON.parse(frame.slice(6)) as { model_name: string; text_output: string })
    expect(events.length).toBeGreaterThan(1)
    expect(events.every((event) => event.model_name === 'ensemble')).toBe(true)
    expect(events.map((event) => event.text_output).join('')).toBe(tritonReplyFor('stream the merger terms'))
    const wire = await wireText(recorder)
    expect(wire).toContain('"model_name":"ensemble"')
    for (const secret of ['merger', 'triton says']) expect(wire).not.toContain(secret)
  })

  it('surfaces a cut generate_stream as an error to the client', async () => {
    const response = await post(undefined, '/v2/models/cut-stream/generate_stream', {
      text_input: 'one two three four five',
    })
    await expect(response.text()).rejects.toMatchObject({ code: 'CONTINUUM_UPSTREAM_STREAM_ABORTED' })
  })

  it('infers with BYTES tensors: metadata plain, data encrypted', async () => {
    const recorder = recordWire()
    const response = await post(recorder, '/v2/models/preprocess/versions/2/infer', {
      id: 'req-42',
      inputs: [{ name: 'text_input', shape: [2], datatype: 'BYTES', data: ['account 9911', 'pin 0042'] }],
      outputs: [{ name: 'text_output' }],
    })
    expect(await response.json()).toEqual({
      model_name: 'preprocess',
      model_version: '2',
      id: 'req-42',
      outputs: [
        {
          name: 'text_output',
          datatype: 'BYTES',
          shape: [2],
          data: [tritonReplyFor('account 9911'), tritonReplyFor('pin 0042')],
        },
      ],
    })
    expect((lastUpstreamBody().inputs as { data: string[] }[])[0]?.data).toEqual(['account 9911', 'pin 0042'])
    const sent = JSON.parse(recorder.requests[0]!) as { inputs: Record<string, unknown>[] }
    expect(sent.inputs[0]).toMatchObject({ name: 'text_input', shape: [2], datatype: 'BYTES' })
    expect(String(sent.inputs[0]?.data)).toMatch(/^cp2\.k1\./)
    const wire = await wireText(recorder)
    for (const secret of ['9911', '0042', 'triton says']) expect(wire).not.toContain(secret)
  })

  it('relays an upstream error encrypted with its status', async () => {
    const recorder = recordWire()
    const response = await post(recorder, '/v2/models/missing/generate', { text_input: 'x' })
    expect(response.status).toBe(400)
    expect(await response.json()).toEqual({ error: "Request for unknown model: 'missing' is not found" })
    expect(await wireText(recorder)).not.toContain('unknown model')
  })

  it('answers 400 CONTINUUM_SCHEMA_VIOLATION with the failing path', async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['/v2/models/m/generate', { parameters: {} }, '/'],
      ['/v2/models/m/generate_stream', { text_input: 42 }, '/text_input'],
      [
        '/v2/models/m/infer',
        { inputs: [{ name: 'x', shape: [1], datatype: 'STRING', data: ['a'] }] },
        '/inputs/0/datatype',
      ],
      [
        '/v2/models/m/infer',
        { inputs: [{ name: 'x', shape: ['one'], datatype: 'BYTES', data: ['a'] }] },
        '/inputs/0/shape/0',
      ],
    ]
    for (const [path, body, at] of cases) {
      const response = await post(undefined, path, body)
      expect(response.status).toBe(400)
      const error = ((await response.json()) as { error: { code: string; path: string } }).error
      expect(error).toMatchObject({ code: 'CONTINUUM_SCHEMA_VIOLATION', path: at })
    }
  })

  it('passes health, server and model metadata and readiness through', async () => {
    for (const path of [
      '/v2/health/ready',
      '/v2/health/live',
      '/v2/models/ensemble/ready',
      '/v2/models/ensemble/versions/1/ready',
    ]) {
      const response = await fetch(`${fixture.proxy.url}${path}`)
      expect(response.status).toBe(200)
      expect(fixture.upstream.requests.at(-1)?.url).toBe(path)
    }
    expect(await (await fetch(`${fixture.proxy.url}/v2`)).json()).toMatchObject({ name: 'triton' })
    const metadata = await (await fetch(`${fixture.proxy.url}/v2/models/ensemble`)).json()
    expect(metadata).toMatchObject({ name: 'ensemble' })
    expect(metadata.inputs).toContainEqual({ name: 'text_input', datatype: 'BYTES', shape: [-1] })
  })

  it('refuses an unencrypted generate request', async () => {
    const response = await fetch(`${fixture.proxy.url}/v2/models/m/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text_input: 'plain secret' }),
    })
    expect(response.status).toBe(400)
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      'CONTINUUM_ENCRYPTION_REQUIRED',
    )
    expect(fixture.upstream.requests.some((request) => request.body.includes('plain secret'))).toBe(false)
  })
})
