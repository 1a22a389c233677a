/**
 * The cache in front of the router gateway (`continuum({ router, stages: [new CacheStage(cache)] })`): an encrypted
 * OpenAI-format request routed to the vLLM provider is answered once by the provider and then
 * from the cache, JSON and stream alike, each time re-encrypted for the requester.
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { CacheStage, ResponseCache } from 'continuum-proxy/cache'
import { continuum } from 'continuum-proxy/express'
import type { InferenceRouter } from 'continuum-proxy/router'
import express from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Fakes, fakeRouter, gatewayKeys, openaiClient, startFakes } from '../gateway/support'

describe('response cache in front of the router gateway', () => {
  let fakes: Fakes
  let router: InferenceRouter
  let server: Server
  let origin: string
  const cache = new ResponseCache()

  beforeAll(async () => {
    fakes = await startFakes()
    router = fakeRouter(fakes)
    const app = express()
    app.use(continuum({ router, keys: gatewayKeys(), stages: [new CacheStage(cache)] }))
    server = await new Promise((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening))
    })
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })

  afterAll(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    await router.close()
    await fakes.close()
  })

  it('serves a repeated routed chat from the cache, JSON and stream', async () => {
    const before = fakes.vllm.requests.length
    const answers: string[] = []
    for (let round = 0; round < 2; round++) {
      const client = openaiClient(origin, true)
      const answer = await client.chat.completions.create({
        model: 'llama',
        messages: [{ role: 'user', content: 'routed and cached' }],
      })
      answers.push(answer.choices[0]?.message.content ?? '')
      const stream = await client.chat.completions.create({
        model: 'llama',
        stream: true,
        messages: [{ role: 'user', content: 'routed stream' }],
      })
      let text = ''
      for await (const part of stream) text += part.choices[0]?.delta.content ?? ''
      answers.push(text)
    }
    expect(fakes.vllm.requests.length - before).toBe(2)
    expect(answers[0]).not.toBe('')
    expect(answers[1]).not.toBe('')
    expect(answers[2]).toBe(answers[0])
    expect(answers[3]).toBe(answers[1])
    expect(cache.size).toBe(2)
  })
})
