/**
 * An upstream that streams an answer to a request that did not ask for a stream, and cuts the
 * connection at once, as the process's first decoded stream. The stream path is preloaded only for
 * requests that ask for a stream; here it loads when the answer arrives, and the upstream body
 * waits unread meanwhile. The cut destroyed it in those milliseconds, and the relay then waited on
 * a body that had sent its `error` and `close` already: the client's answer never ended. From a
 * fresh module graph (`vi.resetModules`, so no other file loaded the path), the encrypting fetch
 * must now get the sealed CONTINUUM_UPSTREAM_STREAM_ABORTED. (What the upstream sent before the
 * cut is lost with the destroyed body's buffer: a known gap, see docs/security.md.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FreshProxy, startFreshProxy } from './fresh-proxy'

let proxy: FreshProxy

beforeAll(async () => {
  proxy = await startFreshProxy()
})

afterAll(async () => {
  await proxy.close()
})

const chunk = (content: string) =>
  `data: ${JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'm',
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
  })}\n\n`

describe('a first stream the request did not ask for, cut by the upstream straight away', () => {
  it('ends the answer with the sealed failure instead of hanging', async () => {
    expect(proxy.streamPathLoaded()).toBe(false)
    proxy.upstream.queue({
      kind: 'chunks',
      headers: { 'content-type': 'text/event-stream' },
      chunks: [chunk('first ') + chunk('second')],
      ending: 'destroy',
    })
    const encryptedFetch = proxy.createEncryptedFetch({ keyId: 'k1', key: proxy.key })
    const response = await encryptedFetch(`${proxy.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hello' }] }),
    })
    expect(response.status).toBe(200)
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
    let failure: unknown
    try {
      for (;;) {
        const { done } = await reader.read()
        if (done) break
      }
    } catch (error) {
      failure = error
    }
    expect(failure).toMatchObject({ code: 'CONTINUUM_UPSTREAM_STREAM_ABORTED' })
    expect(proxy.streamPathLoaded()).toBe(true)
  })
})
