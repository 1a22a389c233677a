/**
 * The capped model label slots, attacked through a router gateway on a real socket: without a
 * `models` list a name takes one of `maxModelLabels` slots, so a caller sending model names no
 * server knows (each refused with a cheap 404, or failed by the provider) must not spend them,
 * or every real model would be counted as `other` until the process restarts, blinding the
 * per-model dashboards and alerts. A name gets its slot once a request for it was served, and
 * keeps it when it fails later.
 */
import { ContinuumError } from 'continuum-proxy'
import { InferenceRouter } from 'continuum-proxy/router'
import { Telemetry } from 'continuum-proxy/telemetry'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { completingProvider, type RunningApp, type Sample, sampleValue, scrape, startApp } from './helpers'

const JUNK = ['junk-1', 'junk-2', 'junk-3', 'junk-4']

async function startGateway(router: (telemetry: Telemetry) => InferenceRouter): Promise<RunningApp> {
  const telemetry = new Telemetry({ tracing: false, meterProvider: false, maxModelLabels: 2 })
  return startApp({ router: router(telemetry), stages: [telemetry] })
}

async function chat(app: RunningApp, model: string): Promise<number> {
  const response = await fetch(`${app.origin}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
  })
  await response.arrayBuffer()
  return response.status
}

/** Every model label value of the scrape, GenAI metrics included. */
function modelLabels(samples: readonly Sample[]): Set<string> {
  return new Set(
    samples.flatMap((sample) =>
      [sample.labels.model, sample.labels.gen_ai_request_model].filter((value) => value !== undefined),
    ),
  )
}

describe('model names the router refuses', () => {
  let app: RunningApp
  beforeAll(async () => {
    app = await startGateway(
      (telemetry) =>
        new InferenceRouter({
          providers: [completingProvider('local', { models: ['llama-3-8b'] })],
          policy: { type: 'local_only' },
          onEvent: telemetry.onRouterEvent,
        }),
    )
  })
  afterAll(() => app.close())

  it('take no label slot, so the served model keeps its own label', async () => {
    for (const model of JUNK) expect(await chat(app, model)).toBe(404)
    expect(await chat(app, 'llama-3-8b')).toBe(200)
    const { samples } = await scrape(`${app.origin}/metrics`)
    expect([...modelLabels(samples)].filter((label) => label.startsWith('junk'))).toEqual([])
    expect(sampleValue(samples, 'inference_requests_total', { model: 'llama-3-8b', status: '200' })).toBe(1)
    expect(sampleValue(samples, 'inference_requests_total', { model: 'other', status: '404' })).toBe(
      JUNK.length,
    )
  })
})

describe('model names a provider fails', () => {
  const refused = new Set(JUNK)
  let app: RunningApp
  beforeAll(async () => {
    const any = completingProvider('any')
    const provider = {
      ...any,
      async complete(...args: Parameters<typeof any.complete>) {
        // What an upstream that knows no such model answers (404), as the provider kit maps it.
        if (refused.has(args[0].model))
          throw new ContinuumError('CONTINUUM_PROVIDER_ERROR', 'Provider any answered with status 404', {
            isRetryable: false,
          })
        return any.complete(...args)
      },
    }
    app = await startGateway(
      (telemetry) =>
        new InferenceRouter({
          providers: [provider],
          policy: { type: 'local_only' },
          onEvent: telemetry.onRouterEvent,
        }),
    )
  })
  afterAll(() => app.close())

  it('take no label slot in the attempt or request metrics; a served name keeps its label when it fails', async () => {
    for (const model of JUNK) expect(await chat(app, model)).toBe(502)
    expect(await chat(app, 'gpt-x')).toBe(200)
    refused.add('gpt-x')
    expect(await chat(app, 'gpt-x')).toBe(502)
    const { samples } = await scrape(`${app.origin}/metrics`)
    expect([...modelLabels(samples)].filter((label) => label.startsWith('junk'))).toEqual([])
    expect(sampleValue(samples, 'router_attempts_total', { model: 'gpt-x', outcome: 'success' })).toBe(1)
    expect(sampleValue(samples, 'router_attempts_total', { model: 'gpt-x', outcome: 'error' })).toBe(1)
    expect(sampleValue(samples, 'router_attempts_total', { model: 'other', outcome: 'error' })).toBe(
      JUNK.length,
    )
    expect(sampleValue(samples, 'inference_requests_total', { model: 'gpt-x', status: '502' })).toBe(1)
  })
})
