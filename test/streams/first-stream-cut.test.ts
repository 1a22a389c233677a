/**
 * The first stream of a process, cut by the upstream at once. The stream path loads on a
 * process's first decoded stream; while it loaded, the upstream's answer used to wait unread, and
 * an upstream that sent its first events and cut the connection within those milliseconds lost
 * them (Node drops a destroyed stream's buffer): the client got the sealed failure with no event
 * before it. From a fresh module graph (`vi.resetModules`, so no other file loaded the path), the
 * official OpenAI SDK over the encrypting fetch, with and without batch frames, must get the
 * events the upstream sent, then CONTINUUM_UPSTREAM_STREAM_ABORTED.
 */
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FreshProxy, startFreshProxy } from './fresh-proxy'

let proxy: FreshProxy

beforeAll(async () => {
  proxy = await startFreshProxy()
})

afterAll(async () => {
  await proxy.close()
})

async function drain(streamBatches: boolean): Promise<{ text: string; error: unknown }> {
  const client = new OpenAI({
    baseURL: `${proxy.url}/v1`,
    apiKey: 'sk-test',
    maxRetries: 0,
    fetch: proxy.createEncryptedFetch({ keyId: 'k1', key: proxy.key, streamBatches }),
  })
  // `cut-stream`: the fake upstream writes two chunks of its answer, then destroys the socket.
  const events = await client.chat.completions.create({
    model: 'cut-stream',
    stream: true,
    messages: [{ role: 'user', content: 'tell me a story' }],
  })
  let text = ''
  try {
    for await (const part of events) text += part.choices[0]?.delta.content ?? ''
  } catch (error) {
    return { text, error }
  }
  return { text, error: undefined }
}

describe("a process's first stream, cut by the upstream straight away", () => {
  it('reaches the SDK with the events sent before the cut, then the sealed failure', async () => {
    expect(proxy.streamPathLoaded()).toBe(false)
    const [batched, perEvent] = await Promise.all([drain(true), drain(false)])
    for (const outcome of [batched, perEvent]) {
      expect(outcome.error).toMatchObject({ code: 'CONTINUUM_UPSTREAM_STREAM_ABORTED' })
      expect(outcome.text).toBe('echo: tell ')
    }
    expect(proxy.streamPathLoaded()).toBe(true)
  })
})
