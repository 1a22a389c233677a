/**
 * Upstream failures reported inside a 200 answer must never be cached. Every streaming protocol
 * the cache serves reports a failure after the first token in-band: Anthropic's `event: error`
 * (`overloaded_error`), Ollama's `{"error": ...}` line, TGI's `{"error": ..., "error_type": ...}`
 * event, vLLM's `{"error": {...}}` chunk followed by `[DONE]`; and the adapters count such an event
 * as the stream's end, so the stream ends normally. Cached, one transient failure (an overload,
 * a CUDA OOM) would be replayed to every caller of that scope for the whole TTL, although the
 * upstream had recovered at once; so would a 200 JSON body that is an error. Here the fake
 * upstream fails the first two asks of the same request in-band, then answers it: both failures
 * must reach the upstream (two misses), and only the good answer is kept (the fourth ask hits),
 * on real sockets through the Express middleware.
 */
import { randomBytes } from 'node:crypto'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { builtinAdapters } from 'continuum-proxy/adapters'
import { CacheStage } from 'continuum-proxy/cache'
import { continuum } from 'continuum-proxy/express'
import express from 'express'
import { afterAll, describe, expect, it } from 'vitest'
import { encryptRequest, SECRET, sharedKeys } from '../conformance/support'
import { transcript, transcriptLines } from '../kit/replies'
import { FakeUpstream, type Reply } from '../kit/server'

const SSE = { 'content-type': 'text/event-stream' }
const NDJSON = { 'content-type': 'application/x-ndjson' }

/** The first `count` blank-line separated frames of an SSE transcript. */
function sseFrames(protocol: string, name: string, count: number): string[] {
  return transcript(protocol, name)
    .split(/\n\n/)
    .filter((frame) => frame.trim() !== '')
    .slice(0, count)
    .map((frame) => `${frame}\n\n`)
}

interface Case {
  name: string
  path: string
  body: object
  good: Reply
  failed: Reply
}

const CASES: Case[] = [
  {
    name: 'anthropic messages (event: error, overloaded_error)',
    path: '/v1/messages',
    body: {
      model: 'claude-sonnet-4',
      max_tokens: 64,
      stream: true,
      messages: [{ role: 'user', content: SECRET }],
    },
    good: { kind: 'chunks', headers: SSE, chunks: [transcript('anthropic', 'stream-text.sse')] },
    failed: { kind: 'chunks', headers: SSE, chunks: [transcript('anthropic', 'stream-overloaded.sse')] },
  },
  {
    name: 'ollama chat ({"error": ...} line)',
    path: '/api/chat',
    body: { model: 'llama3', messages: [{ role: 'user', content: SECRET }] },
    good: {
      kind: 'chunks',
      headers: NDJSON,
      chunks: transcriptLines(transcript('ollama', 'chat-stream.ndjson')),
    },
    failed: {
      kind: 'chunks',
      headers: NDJSON,
      chunks: transcriptLines(transcript('ollama', 'chat-stream-error.ndjson')),
    },
  },
  {
    name: 'tgi generate_stream ({"error": ..., "error_type": ...} event)',
    path: '/generate_stream',
    body: { inputs: SECRET, parameters: { max_new_tokens: 16 } },
    good: { kind: 'chunks', headers: SSE, chunks: transcriptLines(transcript('tgi', 'generate-stream.sse')) },
    failed: {
      kind: 'chunks',
      headers: SSE,
      chunks: [
        ...sseFrames('tgi', 'generate-stream.sse', 1),
        'data:{"error":"Request failed during generation: Server error: CUDA out of memory","error_type":"generation"}\n\n',
      ],
    },
  },
  {
    name: 'openai chat completions (vLLM: {"error": {...}} chunk, then [DONE])',
    path: '/v1/chat/completions',
    body: { model: 'llama-3-8b', stream: true, messages: [{ role: 'user', content: SECRET }] },
    good: {
      kind: 'chunks',
      headers: SSE,
      chunks: transcriptLines(transcript('openai', 'chat-stream-text.sse')),
    },
    failed: {
      kind: 'chunks',
      headers: SSE,
      chunks: [
        ...sseFrames('openai', 'chat-stream-text.sse', 2),
        'data: {"error": {"object": "error", "message": "CUDA out of memory", "type": "InternalServerError", "param": null, "code": 500}}\n\n',
        'data: [DONE]\n\n',
      ],
    },
  },
  {
    name: 'ollama chat without streaming (a 200 JSON {"error": ...} body)',
    path: '/api/chat',
    body: { model: 'llama3', stream: false, messages: [{ role: 'user', content: SECRET }] },
    good: {
      kind: 'body',
      headers: { 'content-type': 'application/json' },
      body: transcript('ollama', 'chat.json'),
    },
    failed: {
      kind: 'body',
      headers: { 'content-type': 'application/json' },
      body: '{"error":"an error was encountered while running the model: unexpected EOF"}',
    },
  },
]

describe('the response cache never keeps an upstream failure reported in-band', () => {
  const closers: (() => Promise<void>)[] = []

  afterAll(async () => {
    for (const close of closers.reverse()) await close()
  })

  it.each(CASES)('$name', async ({ path, body, good, failed }) => {
    const upstream = await FakeUpstream.start(() => good)
    closers.push(() => upstream.close())
    const results: string[] = []
    const app = express()
    app.use(
      continuum({
        upstream: upstream.url,
        adapters: builtinAdapters(),
        keys: sharedKeys(),
        stages: [new CacheStage({ onResult: (result) => results.push(result) })],
      }),
    )
    const server: Server = await new Promise((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening))
    })
    closers.push(async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    })
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const headers = { authorization: `Bearer sk-${randomBytes(4).toString('hex')}` }
    const ask = async () => {
      const built = encryptRequest(path, body, { headers })
      const response = await fetch(origin + path, {
        method: 'POST',
        headers: { ...headers, ...built.headers },
        body: JSON.stringify(built.body),
      })
      await response.arrayBuffer()
      expect(response.status).toBe(200)
    }
    upstream.queue(failed, failed)
    for (let round = 0; round < 4; round++) await ask()
    expect(results).toEqual(['miss', 'miss', 'miss', 'hit'])
    expect(upstream.requests.filter((request) => request.url === path)).toHaveLength(3)
  })
})
