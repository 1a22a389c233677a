import { describe, expect, it } from 'vitest'
import { startTgiUpstream, tgiReplyFor } from '../kit/tgi'
import { recordWire, useEncryptedProxy, wireText } from './harness'

const fixture = useEncryptedProxy(startTgiUpstream)
const { post } = fixture

interface StreamEvent {
  index: number
  token: { id: number; text: string; special: boolean }
  generated_text: string | null
  details: { finish_reason: string } | null
}

function sseEvents(text: string): StreamEvent[] {
  return text
    .split('\n\n')
    .filter((frame) => frame.startsWith('data: '))
    .map((frame) => JSON.parse(frame.slice(6)) as StreamEvent)
}

describe('TGI adapter through Express', () => {
  it('generates with encrypted inputs, stop and grammar, details counts plain', async () => {
    const recorder = recordWire()
    const response = await post(recorder, '/generate', {
      inputs: 'salary of employee 5512 is',
      parameters: {
        max_new_tokens: 20,
        temperature: 0.5,
        details: true,
        stop: ['payroll'],
        grammar: { type: 'regex', value: 'ledger[0-9]+' },
      },
    })
    expect(response.status).toBe(200)
    const answer = (await response.json()) as {
      generated_text: string
      details: { finish_reason: string; generated_tokens: number; tokens: { text: string }[] }
    }
    const reply = tgiReplyFor('salary of employee 5512 is')
    expect(answer.generated_text).toBe(reply)
    expect(answer.details.tokens.map((token) => token.text).join('')).toBe(reply)
    const generated = answer.details.tokens.length
    expect(answer.details).toMatchObject({ finish_reason: 'eos_token', generated_tokens: generated })
    const received = JSON.parse(fixture.upstream.requests.at(-1)!.body)
    expect(received).toMatchObject({
      inputs: 'salary of employee 5512 is',
      parameters: {
        stop: ['payroll'],
        grammar: { type: 'regex', value: 'ledger[0-9]+' },
        max_new_tokens: 20,
      },
    })
    const sent = JSON.parse(recorder.requests[0]!) as { parameters: Record<string, unknown> }
    expect(sent.parameters.max_new_tokens).toBe(20)
    expect(sent.parameters.temperature).toBe(0.5)
    expect(String(sent.parameters.stop)).toMatch(/^cp2\./)
    const [sealed] = await recorder.responses()
    expect(JSON.parse(sealed!).details).toMatchObject({
      finish_reason: 'eos_token',
      generated_tokens: generated,
    })
    const wire = await wireText(recorder)
    for (const secret of ['5512', 'payroll', 'ledger', 'tgi continues']) expect(wire).not.toContain(secret)
  })

  it('streams generate_stream token events encrypted, decrypted by the client', async () => {
    const recorder = recordWire()
    const response = await post(recorder, '/generate_stream', {
      inputs: 'the acquisition target is',
      parameters: { max_new_tokens: 16 },
    })
    const events = sseEvents(await response.text())
    const reply = tgiReplyFor('the acquisition target is')
    expect(events.map((event) => event.token.text).join('')).toBe(reply)
    expect(events.at(-1)).toMatchObject({ generated_text: reply, details: { finish_reason: 'eos_token' } })
    expect(events.slice(0, -1).every((event) => event.generated_text === null)).toBe(true)
    const wire = await wireText(recorder)
    expect(wire).toContain('"index":1')
    expect(wire).toContain('"finish_reason":"eos_token"')
    for (const secret of ['acquisition', 'tgi continues']) expect(wire).not.toContain(secret)
  })

  it('surfaces a connection cut mid-stream as an error', async () => {
    const response = await post(undefined, '/generate_stream', { inputs: 'CUT one two three four' })
    await expect(response.text()).rejects.toMatchObject({ code: 'CONTINUUM_UPSTREAM_STREAM_ABORTED' })
  })

  it('treats a stream that ends before the generated_text event as cut', async () => {
    const response = await post(undefined, '/generate_stream', { inputs: 'NOEND one two three' })
    await expect(response.text()).rejects.toMatchObject({ code: 'CONTINUUM_UPSTREAM_STREAM_ABORTED' })
  })

  it('relays a validation error encrypted, error_type plain', async () => {
    const recorder = recordWire()
    const response = await post(recorder, '/generate', { inputs: 'OVERLONG private memo' })
    expect(response.status).toBe(422)
    expect(await response.json()).toMatchObject({
      error_type: 'validation',
      error: expect.stringContaining('private memo'),
    })
    const wire = await wireText(recorder)
    expect(wire).toContain('"error_type":"validation"')
    expect(wire).not.toContain('private memo')
  })

  it('answers 400 CONTINUUM_SCHEMA_VIOLATION with the failing path', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ parameters: {} }, '/'],
      [{ inputs: '' }, '/inputs'],
      [{ inputs: 'x', parameters: { temperature: 0 } }, '/parameters/temperature'],
      [{ inputs: 'x', parameters: { stop: ['a', 'b', 'c', 'd', 'e'] } }, '/parameters/stop'],
    ]
    for (const [body, at] of cases) {
      const response = await post(undefined, '/generate', body)
      expect(response.status).toBe(400)
      const error = ((await response.json()) as { error: { code: string; path: string } }).error
      expect(error).toMatchObject({ code: 'CONTINUUM_SCHEMA_VIOLATION', path: at })
    }
  })

  it('passes health, info and metrics through', async () => {
    expect((await fetch(`${fixture.proxy.url}/health`)).status).toBe(200)
    expect(await (await fetch(`${fixture.proxy.url}/info`)).json()).toMatchObject({
      model_id: 'bigscience/bloom-560m',
    })
    const metrics = await fetch(`${fixture.proxy.url}/metrics`)
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/)
    expect(await metrics.text()).toContain('tgi_request_count 3')
  })
})
