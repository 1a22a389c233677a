/**
 * Upstream response headers on encrypted routes (hardening item 6), on real sockets in every
 * framework. Headers travel in clear, and an upstream that echoed the prompt in a debug header
 * (or gave away its length in token-count headers) had it relayed to the client, readable by
 * anyone on the path. On encrypted exchanges only the media type and the retry hints cross;
 * plain exchanges keep relaying the upstream's headers. Also: an upstream body nested past any
 * sane depth is a coded 502, not a crash.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { frameworks, type RunningApp } from '../conformance/frameworks'
import { encryptRequest, expectRefusal, SECRET, secretChat, sharedKeys } from '../conformance/support'
import { jsonReply } from '../kit/replies'
import { FakeUpstream, type RecordedRequest, type Reply } from '../kit/server'

const CHAT = '/v1/chat/completions'

function leakyHeaders(prompt: string): Record<string, string> {
  return {
    'x-debug-prompt': encodeURIComponent(prompt),
    'x-ratelimit-remaining-tokens': String(100_000 - prompt.length),
    'openai-processing-ms': '212',
    'set-cookie': 'session=upstream',
    server: 'vllm/0.6',
    'retry-after': '3',
    'cache-control': `no-store, x-prompt="${encodeURIComponent(prompt)}", max-age=0`,
  }
}

/** An OpenAI-compatible upstream whose headers leak the prompt; `deep` answers 100,000 nested arrays. */
function handle(request: RecordedRequest): Reply {
  const body = JSON.parse(request.body) as {
    messages: { content: string }[]
    stream?: boolean
    model: string
  }
  const prompt = body.messages.at(-1)?.content ?? ''
  const headers = leakyHeaders(prompt)
  if (body.model === 'deep') {
    return {
      kind: 'body',
      headers: { ...headers, 'content-type': 'application/json' },
      body: `{"id":"x","choices":${'['.repeat(100_000)}${']'.repeat(100_000)}}`,
    }
  }
  const chunk = (content: string, finish: string | null) => ({
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1,
    model: body.model,
    choices: [{ index: 0, delta: { content }, finish_reason: finish }],
  })
  if (body.stream === true) {
    return {
      kind: 'chunks',
      headers: { ...headers, 'content-type': 'text/event-stream' },
      chunks: [
        `data: ${JSON.stringify(chunk('ok', null))}\n\n`,
        `data: ${JSON.stringify(chunk('', 'stop'))}\n\ndata: [DONE]\n\n`,
      ],
    }
  }
  return jsonReply(
    {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1,
      model: body.model,
      choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
    },
    200,
    headers,
  )
}

const UPSTREAM_ONLY = [
  'x-debug-prompt',
  'x-ratelimit-remaining-tokens',
  'openai-processing-ms',
  'set-cookie',
  'server',
]

describe.each(frameworks)('upstream headers via $name', (harness) => {
  let upstream: FakeUpstream
  let encrypted: RunningApp
  let plain: RunningApp

  beforeAll(async () => {
    upstream = await FakeUpstream.start(handle)
    encrypted = await harness.start({ upstream: upstream.url, keys: sharedKeys() })
    plain = await harness.start({ upstream: upstream.url })
  })
  afterAll(async () => {
    await encrypted.close()
    await plain.close()
    await upstream.close()
  })

  it.each([false, true])(
    'relays only the allow-list on an encrypted exchange (stream: %s)',
    async (stream) => {
      const built = encryptRequest(CHAT, secretChat({ stream }))
      const response = await fetch(encrypted.url + CHAT, {
        method: 'POST',
        headers: built.headers,
        body: JSON.stringify(built.body),
      })
      await response.text()
      expect(response.status).toBe(200)
      expect(response.headers.get('x-continuum-encrypted')).toBe('1')
      for (const name of UPSTREAM_ONLY) expect(response.headers.get(name)).toBeNull()
      expect(response.headers.get('retry-after')).toBe('3')
      // A stream's cache-control is the encoder's own; a JSON answer keeps the standard directives only.
      expect(response.headers.get('cache-control')).toBe(stream ? 'no-cache' : 'no-store, max-age=0')
      for (const [, value] of response.headers) {
        expect(value).not.toContain(encodeURIComponent(SECRET))
        expect(value).not.toContain(String(100_000 - SECRET.length))
      }
    },
  )

  it('keeps relaying upstream headers on a plain exchange', async () => {
    const response = await fetch(plain.url + CHAT, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(secretChat()),
    })
    await response.text()
    expect(response.status).toBe(200)
    expect(response.headers.get('x-debug-prompt')).toBe(encodeURIComponent(SECRET))
  })

  it('answers an upstream body nested 100,000 deep with a coded 502, not a crash', async () => {
    const built = encryptRequest(CHAT, secretChat({ model: 'deep' }))
    const response = await fetch(encrypted.url + CHAT, {
      method: 'POST',
      headers: built.headers,
      body: JSON.stringify(built.body),
    })
    expectRefusal(
      { status: response.status, headers: Object.fromEntries(response.headers), text: await response.text() },
      502,
      'CONTINUUM_UPSTREAM_PROTOCOL_ERROR',
    )
  })
})
