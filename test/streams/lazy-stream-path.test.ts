/**
 * The stream path (stream decoders, frame writer, event-stream body) is loaded on the first
 * response that streams, not with the proxy. The test starts from a fresh module graph
 * (`vi.resetModules`), so nothing another file ran has loaded it: a proxy that only answers JSON,
 * or relays a plain stream byte for byte, never loads it; on an encrypted proxy a burst of first
 * streamed requests (with JSON ones among them) all wait on the one load and all get their whole,
 * sealed stream.
 */
import { randomBytes } from 'node:crypto'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { replyFor, startOpenAIUpstream } from '../kit/openai-echo'
import type { FakeUpstream } from '../kit/server'

vi.resetModules()
const { continuum } = await import('continuum-proxy/express')
const { createEncryptedFetch } = await import('continuum-proxy/client')
const { streamPathLoaded } = await import('../../src/proxy/stream-path-loader')

const key = randomBytes(32).toString('base64')
let upstream: FakeUpstream
const servers: { url: string; close(): Promise<void> }[] = []

async function serve(options: Parameters<typeof continuum>[0]): Promise<string> {
  const middleware = continuum(options)
  const app = express()
  app.use(middleware)
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening))
  })
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  servers.push({
    url,
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await middleware.proxy.close()
    },
  })
  return url
}

beforeAll(async () => {
  upstream = await startOpenAIUpstream()
})

afterAll(async () => {
  for (const server of servers) await server.close()
  await upstream.close()
})

const chat = (prompt: string, stream: boolean) =>
  JSON.stringify({ model: 'llama-3-8b', stream, messages: [{ role: 'user', content: prompt }] })

/** The text of a decrypted chat stream, and whether it ended with `[DONE]`. */
function streamedText(body: string): { text: string; done: boolean } {
  const data = body
    .split('\n\n')
    .filter((frame) => frame.startsWith('data: '))
    .map((frame) => frame.slice(6))
  const text = data
    .filter((item) => item !== '[DONE]')
    .map(
      (item) =>
        (JSON.parse(item) as { choices: { delta?: { content?: string } }[] }).choices[0]?.delta?.content ??
        '',
    )
    .join('')
  return { text, done: data.at(-1) === '[DONE]' }
}

describe('the stream path, loaded on the first streamed response', () => {
  it('is not loaded by a proxy that answers JSON, or relays a plain stream byte for byte', async () => {
    const sealed = await serve({ upstream: upstream.url, keys: { keys: [{ id: 'k1', key }] } })
    const plain = await serve({ upstream: upstream.url })
    expect(streamPathLoaded()).toBe(false)
    const encrypted = createEncryptedFetch({ keyId: 'k1', key })
    const answer = await encrypted(`${sealed}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: chat('json only', false),
    })
    expect(answer.status).toBe(200)
    const relayed = await fetch(`${plain}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: chat('plain stream', true),
    })
    expect(relayed.status).toBe(200)
    expect(streamedText(await relayed.text())).toEqual({ text: replyFor('plain stream'), done: true })
    expect(streamPathLoaded()).toBe(false)
  })

  it('serves a burst of first streamed requests on a fresh encrypted proxy, each its whole sealed stream', async () => {
    const url = await serve({ upstream: upstream.url, keys: { keys: [{ id: 'k1', key }] } })
    expect(streamPathLoaded()).toBe(false)
    const post = (prompt: string, stream: boolean, streamBatches: boolean) =>
      createEncryptedFetch({ keyId: 'k1', key, streamBatches })(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: chat(prompt, stream),
      })
    const prompts = Array.from({ length: 16 }, (_, index) => `burst ${index}`)
    const responses = await Promise.all([
      ...prompts.map((prompt, index) => post(prompt, true, index % 2 === 0)),
      post('json among them', false, false),
    ])
    expect(responses.map((response) => response.status)).toEqual(responses.map(() => 200))
    for (const [index, prompt] of prompts.entries()) {
      const response = responses[index]!
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/)
      expect(streamedText(await response.text())).toEqual({ text: replyFor(prompt), done: true })
    }
    const json = (await responses.at(-1)!.json()) as { choices: { message: { content: string } }[] }
    expect(json.choices[0]?.message.content).toBe(replyFor('json among them'))
    expect(streamPathLoaded()).toBe(true)
  })
})
