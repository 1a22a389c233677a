/**
 * CORS stays the host's policy. docs/browser.md has the host answer CORS in front of the proxy,
 * for one allowed origin; the inference server behind often has a CORS layer of its own, and a
 * permissive one (vLLM allows every origin by default; TGI's and Ollama's layers add `Vary`). Its
 * headers relayed on plain routes and pass-through paths would answer for the origins the host
 * refused (any page could read `/metrics` or send a preflighted request to a pass-through path),
 * replace the host's own `Access-Control-Allow-Origin`, and drop its `Vary: Origin`, so a shared
 * cache would serve one origin's CORS answer to another. Runs on every binding: each writes the
 * core's headers over the ones the host already set.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FakeUpstream, type Reply } from '../kit/server'
import { frameworks, type RunningApp } from './frameworks'
import { sharedKeys } from './support'

const ALLOWED = 'https://app.example'
const EVIL = 'https://evil.example'

/** What Starlette's CORSMiddleware does with `allow_origins=["*"]` (vLLM's default), plus a gzip layer's Vary. */
function permissiveUpstream(): Promise<FakeUpstream> {
  return FakeUpstream.start((request): Reply => {
    const headers: Record<string, string> = { vary: 'accept-encoding' }
    if (request.headers.origin !== undefined) {
      headers['access-control-allow-origin'] = '*'
      headers['access-control-expose-headers'] = 'x-upstream-debug'
      if (request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined) {
        headers['access-control-allow-methods'] = 'DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT'
        headers['access-control-allow-headers'] = request.headers['access-control-request-headers'] ?? ''
        headers['access-control-max-age'] = '600'
        return { kind: 'body', status: 200, headers, body: 'OK' }
      }
    }
    const body = request.url.startsWith('/metrics')
      ? 'vllm:num_requests_running{model_name="internal-model"} 3\n'
      : JSON.stringify({ object: 'list', data: [{ id: 'internal-model', object: 'model' }] })
    return { kind: 'body', status: 200, headers, body }
  })
}

function corsHeaders(response: Response): Record<string, string> {
  const found: Record<string, string> = {}
  response.headers.forEach((value, name) => {
    if (name.startsWith('access-control-')) found[name] = value
  })
  return found
}

describe.each(frameworks)('CORS via $name', (harness) => {
  let upstream: FakeUpstream
  let app: RunningApp

  beforeAll(async () => {
    upstream = await permissiveUpstream()
    app = await harness.start(
      { upstream: upstream.url, keys: sharedKeys(), passThrough: ['/metrics'] },
      { allowedOrigin: ALLOWED },
    )
  })

  afterAll(async () => {
    await app.close()
    await upstream.close()
  })

  it.each([
    ['a pass-through path', '/metrics'],
    ['a plain adapter route', '/v1/models'],
  ])('gives an origin the host refused no CORS headers on %s', async (_label, path) => {
    const response = await fetch(`${app.url}${path}`, { headers: { origin: EVIL } })
    expect(response.status).toBe(200)
    await response.text()
    expect(corsHeaders(response)).toEqual({})
  })

  it('lets no upstream answer a preflight the host refused on a pass-through path', async () => {
    const response = await fetch(`${app.url}/metrics`, {
      method: 'OPTIONS',
      headers: {
        origin: EVIL,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    })
    await response.text()
    expect(corsHeaders(response)).toEqual({})
  })

  it.each([
    ['a pass-through path', '/metrics'],
    ['a plain adapter route', '/v1/models'],
  ])("keeps the host's CORS headers and its Vary: Origin on %s", async (_label, path) => {
    const response = await fetch(`${app.url}${path}`, { headers: { origin: ALLOWED } })
    expect(response.status).toBe(200)
    await response.text()
    expect(corsHeaders(response)).toEqual({
      'access-control-allow-origin': ALLOWED,
      'access-control-expose-headers': 'x-continuum-encrypted, x-continuum-seal',
    })
    const vary = (response.headers.get('vary') ?? '').split(',').map((name) => name.trim().toLowerCase())
    expect(vary).toContain('origin')
    expect(vary).toContain('accept-encoding')
  })
})
