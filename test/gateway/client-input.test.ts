/**
 * Client input at the edge of what the official SDKs send, through the gateway on a real Express
 * socket to a provider of the other dialect. Parameters the SDK's types allow as `null` ask for
 * the default and are served.
 */
import type { InferenceRouter } from 'continuum-proxy/router'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningApp, rootFrameworks } from '../conformance/frameworks'
import { type Fakes, fakeRouter, openaiClient, startFakes } from './support'

const express = rootFrameworks.find((harness) => harness.name === 'express')!

describe('client input through the gateway', () => {
  let fakes: Fakes
  let router: InferenceRouter
  let app: RunningApp

  beforeAll(async () => {
    fakes = await startFakes()
    router = fakeRouter(fakes)
    app = await express.start({ router })
  })

  afterAll(async () => {
    await app.close()
    await router.close()
    await fakes.close()
  })

  it("serves the OpenAI SDK's nullable parameters sent as null, as their defaults", async () => {
    const openai = openaiClient(app.url, false)
    const answer = await openai.chat.completions.create({
      model: 'claude',
      messages: [{ role: 'user', content: 'Hi' }],
      temperature: null,
      top_p: null,
      max_tokens: null,
      max_completion_tokens: null,
      n: null,
      stream: null,
    })
    expect(answer.choices[0]?.message.content).toBe('Hi! My name is Claude.')
    const sent = fakes.anthropic.requests.at(-1)?.json()
    expect(sent).not.toHaveProperty('temperature')
    expect(sent).not.toHaveProperty('top_p')
    expect(sent).not.toHaveProperty('stream')

    const response = await openai.responses.create({
      model: 'claude',
      input: 'Hi',
      max_output_tokens: null,
      stream: null,
    })
    expect(response.output_text).toBe('Hi! My name is Claude.')
  })
})
