import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { createEncryptedFetch } from 'continuum-proxy/client'
import { continuum } from 'continuum-proxy/express'
import express from 'express'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FakeUpstream, replyFor, startOpenAIUpstream } from './fakes/openai-upstream'

const key = randomBytes(32)
let upstream: FakeUpstream
let server: import('node:http').Server
let baseURL: string

beforeAll(async () => {
  upstream = await startOpenAIUpstream()
  const app = express()
  app.use(continuum({ upstream: upstream.url, keys: { keys: [{ id: 'k1', key }] } }))
  server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening))
  })
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
  await upstream.close()
})

describe('express + openai SDK', () => {
  it('completes a chat with encrypted fields end to end', async () => {
    const seen: string[] = []
    const recording = (async (input: RequestInfo | URL, init?: RequestInit) => {
      seen.push(String(init?.body ?? ''))
      return globalThis.fetch(input, init)
    }) as typeof fetch
    const wrapped = new OpenAI({
      baseURL,
      apiKey: 'sk-test',
      fetch: createEncryptedFetch({ keyId: 'k1', key, fetch: recording }),
    })
    const answer = await wrapped.chat.completions.create({
      model: 'llama-3-8b',
      messages: [{ role: 'user', content: 'top secret prompt' }],
    })
    expect(answer.choices[0]?.message.content).toBe(replyFor('top secret prompt'))
    expect(seen).toHaveLength(1)
    expect(seen[0]).toContain('cp2.k1.')
    expect(seen[0]).not.toContain('top secret')
    expect(upstream.requests.at(-1)?.body).toContain('top secret prompt')
  })

  it('streams', async () => {
    const client = new OpenAI({
      baseURL,
      apiKey: 'sk-test',
      fetch: createEncryptedFetch({ keyId: 'k1', key }),
    })
    const stream = await client.chat.completions.create({
      model: 'llama-3-8b',
      stream: true,
      messages: [{ role: 'user', content: 'stream me please' }],
    })
    let text = ''
    for await (const part of stream) text += part.choices[0]?.delta.content ?? ''
    expect(text).toBe(replyFor('stream me please'))
  })

  it('raises on a cut stream', async () => {
    const client = new OpenAI({
      baseURL,
      apiKey: 'sk-test',
      fetch: createEncryptedFetch({ keyId: 'k1', key }),
    })
    const stream = await client.chat.completions.create({
      model: 'cut-stream',
      stream: true,
      messages: [{ role: 'user', content: 'one two three four five' }],
    })
    await expect(
      (async () => {
        for await (const _ of stream) {
          // drain
        }
      })(),
    ).rejects.toThrow()
  })

  it('serves HEAD on plain GET routes instead of refusing it', async () => {
    const head = await fetch(`${baseURL}/models`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(upstream.requests.at(-1)?.method).toBe('HEAD')
    const post = await fetch(`${baseURL}/models`, { method: 'DELETE' })
    expect(post.status).toBe(405)
  })
})
