/**
 * A host that answers first. Apps put a request timeout in front of everything
 * (connect-timeout, koa-timeout, a Fastify hook with a timer) that answers 503 itself while the
 * proxy still waits on the inference server. The client has its answer then, so the upstream
 * request must stop (the GPU would go on generating for nobody, and a client that sends long
 * generations one after another piles them up), and the proxy's own answer, when it comes, must
 * not be written over the host's: Express turned that ERR_HTTP_HEADERS_SENT into an unhandled
 * rejection, which ends a Node process.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { FakeUpstream, type RecordedRequest } from '../kit/server'
import { frameworks, HOST_TIMEOUT_STATUS, type RunningApp } from './frameworks'
import { encryptRequest, secretChat, sharedKeys } from './support'

describe.each(frameworks)('a host that answers first via $name', (harness) => {
  let upstream: FakeUpstream
  let app: RunningApp
  let release: () => void = () => {}
  let reached: (request: RecordedRequest) => void = () => {}
  let upstreamReached: Promise<RecordedRequest>

  const arm = (): void => {
    upstreamReached = new Promise((resolve) => {
      reached = resolve
    })
  }

  beforeAll(async () => {
    // The inference server: takes the request, then answers only when the test lets it.
    upstream = await FakeUpstream.start(async (request) => {
      const released = new Promise<void>((resolve) => {
        release = resolve
      })
      reached(request)
      await released
      return {
        kind: 'chunks',
        headers: { 'content-type': 'text/event-stream' },
        chunks: ['data: {"choices":[]}\n\n', 'data: [DONE]\n\n'],
      }
    })
  })

  afterAll(async () => {
    release()
    await upstream.close()
  })

  it.each([
    ['an encrypted route', '/v1/chat/completions'],
    ['a pass-through path', '/raw'],
  ])('stops the upstream request and leaves the host answer alone on %s', async (_label, path) => {
    arm()
    app = await harness.start(
      { upstream: upstream.url, keys: sharedKeys(), passThrough: ['/raw'] },
      { answersFirst: upstreamReached },
    )
    try {
      const built = encryptRequest('/v1/chat/completions', secretChat({ stream: true }))
      const response = await fetch(`${app.url}${path}`, {
        method: 'POST',
        headers: path === '/raw' ? { 'content-type': 'application/json' } : built.headers,
        body: JSON.stringify(path === '/raw' ? { stream: true } : built.body),
      })
      expect(response.status).toBe(HOST_TIMEOUT_STATUS)
      expect(await response.json()).toEqual({ handledBy: 'host-timeout' })
      const recorded = await upstreamReached
      await vi.waitFor(() => expect(recorded.aborted).toBe(true))
    } finally {
      // Whatever the upstream still sends now reaches a proxy whose client has its answer.
      release()
      await app.close()
    }
  })
})
