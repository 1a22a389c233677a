/**
 * Path tricks before routing (hardening item 2), on real sockets in every framework, at the root
 * and under `/llm`. With `passThrough: ['/metrics']`, a path that names `/metrics` here but that
 * the upstream normalises into `/v1/chat/completions` (the fake OpenAI server resolves dot
 * segments and percent-encoding as most servers do) carried a plaintext prompt past
 * `encryption: 'required'`. Every such path is refused with 400 CONTINUUM_INVALID_PATH before any
 * routing and nothing reaches the upstream; a malformed percent-encoding in a Triton model path
 * gets the same code (it was a 500 on Express and Koa, Fastify's own body on Fastify); and a
 * canonical pass-through path is forwarded exactly as it was matched.
 */
import { request as httpRequest } from 'node:http'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { APP_FALLBACK_STATUS, frameworks, type RunningApp } from '../conformance/frameworks'
import { expectRefusal, SECRET, secretChat, sharedKeys } from '../conformance/support'
import { startOpenAIUpstream } from '../kit/openai-echo'
import { FakeUpstream } from '../kit/server'

interface RawAnswer {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
}

/** Sends a request with the path exactly as given (fetch and supertest would resolve dot segments). */
function sendRaw(origin: string, path: string, body: string, method = 'POST'): Promise<RawAnswer> {
  const { hostname, port } = new URL(origin)
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      { hostname, port, path, method, headers: { 'content-type': 'application/json' } },
      (response) => {
        let text = ''
        response.setEncoding('utf8')
        response.on('data', (part: string) => {
          text += part
        })
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, text }),
        )
      },
    )
    outgoing.on('error', reject)
    outgoing.end(body)
  })
}

/** Paths that name `/metrics` to a prefix match and `/v1/chat/completions` to a normalising server. */
const BYPASSES: [string, string][] = [
  ['a dot-dot segment', '/metrics/../v1/chat/completions'],
  ['an encoded dot-dot', '/metrics/%2e%2e/v1/chat/completions'],
  ['an upper-case encoded dot-dot', '/metrics/%2E%2E/v1/chat/completions'],
  ['a dot-dot with an encoded slash', '/metrics/..%2fv1/chat/completions'],
  ['a fully encoded tail', '/metrics%2f..%2fv1%2fchat%2fcompletions'],
  ['a half-encoded dot', '/metrics/.%2e/v1/chat/completions'],
  ['a dot-dot with a path parameter', '/metrics/..;/v1/chat/completions'],
  ['an encoded backslash', '/metrics/..%5cv1/chat/completions'],
  ['a double encoding', '/metrics/%252e%252e/v1/chat/completions'],
  ['an empty segment', '/metrics//../v1/chat/completions'],
  ['a single-dot segment', '/metrics/./../v1/chat/completions'],
  ['an encoded unreserved letter', '/metrics/../v1/%63hat/completions'],
  ['a trailing slash', '/metrics/'],
]

describe.each(frameworks)('path tricks via $name', (harness) => {
  let upstream: FakeUpstream
  let app: RunningApp
  let before = 0

  beforeAll(async () => {
    upstream = await startOpenAIUpstream()
    app = await harness.start({
      upstream: upstream.url,
      keys: sharedKeys(),
      passThrough: ['/metrics', '/V1'],
    })
  })
  afterAll(async () => {
    await app.close()
    await upstream.close()
  })
  beforeEach(() => {
    before = upstream.requests.length
  })

  it.each(BYPASSES)('refuses %s before routing and forwards nothing', async (_name, path) => {
    const answer = await sendRaw(app.url, `${harness.prefix}${path}`, JSON.stringify(secretChat()))
    const error = expectRefusal(answer, 400, 'CONTINUUM_INVALID_PATH')
    expect(error.message).not.toContain('metrics')
    expect(upstream.requests.length).toBe(before)
    expect(upstream.requests.some((request) => request.body.includes(SECRET))).toBe(false)
  })

  it('refuses an absolute-form target naming an encrypted route instead of leaving it to the host app', async () => {
    // `POST http://host/v1/chat/completions HTTP/1.1` (RFC 9112 §3.2.2): Express, Koa and
    // Fastify route it by its path, so a host app with a catch-all forwarder would send the
    // plaintext prompt on to the inference server, which reads the target the same way.
    const target = `http://evil.example${harness.prefix}/v1/chat/completions`
    const answer = await sendRaw(app.url, target, JSON.stringify(secretChat()))
    expectRefusal(answer, 400, 'CONTINUUM_INVALID_PATH')
    expect(upstream.requests.length).toBe(before)
  })

  it('leaves an absolute-form target that is none of its paths to the host app', async () => {
    const answer = await sendRaw(app.url, `http://evil.example${harness.prefix}/elsewhere`, '{}')
    expect(answer.status).toBe(APP_FALLBACK_STATUS)
    expect(upstream.requests.length).toBe(before)
  })

  it('refuses a pass-through path that is a case variant of an encrypted route', async () => {
    const answer = await sendRaw(
      app.url,
      `${harness.prefix}/V1/chat/completions`,
      JSON.stringify(secretChat()),
    )
    expectRefusal(answer, 400, 'CONTINUUM_INVALID_PATH')
    expect(upstream.requests.length).toBe(before)
  })

  it.each([
    ['%zz', '/v2/models/%zz/infer'],
    ['a lone %', '/v2/models/llama%/infer'],
    ['bytes that are not UTF-8', '/v2/models/%ff%fe/infer'],
  ])(
    'answers %s in a Triton model path with our 400, not a 500 or the framework body',
    async (_name, path) => {
      const answer = await sendRaw(app.url, `${harness.prefix}${path}`, '{"inputs":[]}')
      expectRefusal(answer, 400, 'CONTINUUM_INVALID_PATH')
      expect(upstream.requests.length).toBe(before)
    },
  )

  it('forwards a canonical pass-through path and its query exactly as matched', async () => {
    await sendRaw(app.url, `${harness.prefix}/metrics/sub%20set?format=text&x=%2e`, 'plain', 'POST')
    expect(upstream.requests.slice(before).map((request) => request.url)).toEqual([
      '/metrics/sub%20set?format=text&x=%2e',
    ])
  })

  it('still serves an encoded space in a Triton model name', async () => {
    const answer = await sendRaw(app.url, `${harness.prefix}/v2/models/my%20model/infer`, '{}')
    // Refused for want of encryption, which means the path itself was accepted and routed.
    expectRefusal(answer, 400, 'CONTINUUM_ENCRYPTION_REQUIRED')
  })
})

/**
 * A servlet-style upstream (Tomcat, Jetty, Spring MVC): it drops path parameters (`;name=value`
 * in a segment) before routing, so `/v1/chat/completions;jsessionid=1` is its chat route. It
 * echoes the prompt it received there, so a test sees a plaintext prompt arrive.
 */
function servletUpstream(): Promise<FakeUpstream> {
  return FakeUpstream.start((request) => {
    const path = new URL(request.url, 'http://upstream').pathname
      .split('/')
      .map((segment) => segment.split(';')[0])
      .join('/')
    if (request.method !== 'POST' || path !== '/v1/chat/completions') {
      return { kind: 'body', status: 404, headers: { 'content-type': 'application/json' }, body: '{}' }
    }
    const prompt = (request.json() as { messages: { content: string }[] }).messages.at(-1)?.content
    return {
      kind: 'body',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ choices: [{ message: { content: `echo: ${prompt}` } }] }),
    }
  })
}

describe.each(frameworks)('path parameters behind a pass-through prefix via $name', (harness) => {
  let upstream: FakeUpstream
  let app: RunningApp
  let before = 0

  beforeAll(async () => {
    upstream = await servletUpstream()
    app = await harness.start({ upstream: upstream.url, keys: sharedKeys(), passThrough: ['/v1'] })
  })
  afterAll(async () => {
    await app.close()
    await upstream.close()
  })
  beforeEach(() => {
    before = upstream.requests.length
  })

  it.each([
    ['a session parameter', '/v1/chat/completions;jsessionid=1'],
    ['an empty parameter', '/v1/chat/completions;'],
    ['a parameter mid-path', '/v1/chat;x=1/completions'],
    ['a parameter on a case variant', '/v1/Chat/completions;x'],
  ])('refuses %s on an encrypted route instead of passing it through in clear', async (_name, path) => {
    const answer = await sendRaw(app.url, `${harness.prefix}${path}`, JSON.stringify(secretChat()))
    expectRefusal(answer, 400, 'CONTINUUM_INVALID_PATH')
    expect(upstream.requests.length).toBe(before)
  })

  it('still passes through a path parameter on a path no reading of which is encrypted', async () => {
    const answer = await sendRaw(app.url, `${harness.prefix}/v1/files/report;v=2`, '{}')
    expect(answer.status).toBe(404)
    expect(upstream.requests.slice(before).map((request) => request.url)).toEqual(['/v1/files/report;v=2'])
  })
})
