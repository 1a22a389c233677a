/**
 * Forwarding (issue item 4): an upstream on a Unix socket, hop-by-hop headers stripped both ways,
 * pass-through paths forwarded untouched, HEAD, bodies a host body parser already read, a client
 * that goes away aborting the upstream request, and a 200 MB plain response streamed with
 * backpressure instead of buffered (the process's RSS must grow far less than the body).
 *
 * Every scenario here runs per binding (six harnesses), because each turns on what the binding
 * translates: the request's headers, path and query under a mount prefix, its method (HEAD), its
 * body as a stream, parsed or raw bytes, the response headers it writes, and the socket closing
 * (aborts). The Unix socket upstream is per binding as well, as the end-to-end check that each
 * binding's proxy reaches one. The two large-body scenarios (backpressure on a stalled reader, a
 * 200 MB answer within bounded memory) run once per framework: they turn on how the binding writes
 * to its socket, which a mount prefix does not change, and each moves hundreds of megabytes.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { get, request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { replyFor, startOpenAIUpstream, UPSTREAM_COOKIES } from '../kit/openai-echo'
import { transcript, transcriptJson } from '../kit/replies'
import type { FakeUpstream } from '../kit/server'
import { frameworks, type RunningApp, rootFrameworks } from './frameworks'
import { encryptRequest, openaiClient, SECRET, secretChat, sharedKeys } from './support'

const HOP_REQUEST_HEADERS = ['x-secret-hop', 'te', 'proxy-authorization', 'keep-alive', 'upgrade']
const BIG = 200 * 1024 * 1024

/** Downloads a URL, counting bytes without keeping them; samples the RSS while it runs. */
function download(url: string): Promise<{ status: number; bytes: number; peakRss: number }> {
  return new Promise((resolve, reject) => {
    let peakRss = process.memoryUsage.rss()
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage.rss())
    }, 20)
    get(url, (response) => {
      let bytes = 0
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length
      })
      response.on('end', () => {
        clearInterval(sampler)
        resolve({
          status: response.statusCode ?? 0,
          bytes,
          peakRss: Math.max(peakRss, process.memoryUsage.rss()),
        })
      })
      response.on('error', reject)
    }).on('error', (error) => {
      clearInterval(sampler)
      reject(error)
    })
  })
}

/** Posts a body the way curl does for large ones: `Expect: 100-continue`, the body once the server says continue. */
function sendExpecting(
  base: string,
  path: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; text: string }> {
  const url = new URL(base)
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        hostname: url.hostname,
        port: url.port,
        path: `${url.pathname.replace(/\/$/, '')}${path}`,
        method: 'POST',
        headers: { ...headers, expect: '100-continue', 'content-length': String(Buffer.byteLength(body)) },
      },
      (response) => {
        let text = ''
        response.setEncoding('utf8')
        response.on('data', (part: string) => {
          text += part
        })
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }))
      },
    )
    outgoing.on('continue', () => outgoing.end(body))
    outgoing.on('error', reject)
  })
}

describe.each(frameworks)('forwarding via $name', (harness) => {
  let upstream: FakeUpstream
  let app: RunningApp

  beforeAll(async () => {
    upstream = await startOpenAIUpstream()
    app = await harness.start({
      upstream: upstream.url,
      keys: sharedKeys(),
      passThrough: ['/metrics', '/download', '/raw'],
      unknownRoutes: 'reject',
    })
  })

  afterAll(async () => {
    await app.close()
    await upstream.close()
  })

  it('forwards to an upstream listening on a Unix socket', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'continuum-conformance-'))
    const socketPath = join(directory, 'vllm.sock')
    const onSocket = await startOpenAIUpstream({ socketPath })
    const socketApp = await harness.start({ upstream: { socketPath }, keys: sharedKeys() })
    try {
      const answer = await openaiClient(socketApp).chat.completions.create({
        model: 'llama-3-8b',
        messages: [{ role: 'user', content: SECRET }],
      })
      expect(answer.choices[0]?.message.content).toBe(replyFor(SECRET))
      expect(onSocket.requests).toHaveLength(1)
      expect(onSocket.requests[0]?.url).toBe('/v1/chat/completions')
      expect(JSON.parse(onSocket.requests[0]!.body).messages[0].content).toBe(SECRET)
      const models = await request(socketApp.url).get('/v1/models')
      expect(models.body).toEqual(transcriptJson('vllm', 'models.json'))
    } finally {
      await socketApp.close()
      await onSocket.close()
      await rm(directory, { recursive: true, force: true })
    }
  })

  it('strips hop-by-hop request headers on plain and encrypted routes', async () => {
    const hop = {
      connection: 'x-secret-hop',
      'x-secret-hop': 'hop-secret-value',
      te: 'trailers',
      'proxy-authorization': 'Basic cHJveHk6c2VjcmV0',
      'keep-alive': 'timeout=5',
      'x-kept': 'kept-value',
    }
    const before = upstream.requests.length
    expect((await request(app.url).get('/v1/models').set(hop)).status).toBe(200)
    // On the encrypted route only sealed headers reach the upstream: the client seals x-kept.
    const built = encryptRequest('/v1/chat/completions', secretChat(), {
      headers: { 'x-kept': 'kept-value' },
    })
    const encrypted = await request(app.url)
      .post('/v1/chat/completions')
      .set(hop)
      .set(built.headers)
      .send(built.body)
    expect(encrypted.status).toBe(200)
    const received = upstream.requests.slice(before)
    expect(received.map((entry) => entry.url)).toEqual(['/v1/models', '/v1/chat/completions'])
    for (const entry of received) {
      for (const name of HOP_REQUEST_HEADERS) expect(entry.headers[name]).toBeUndefined()
      expect(entry.headers.connection ?? '').not.toContain('x-secret-hop')
      expect(JSON.stringify(entry.headers)).not.toContain('hop-secret-value')
      expect(entry.headers['x-kept']).toBe('kept-value')
    }
    expect(Object.keys(received[1]!.headers).filter((name) => name.startsWith('x-continuum-'))).toEqual([])
  })

  it('answers a body sent with Expect: 100-continue (as curl sends large ones), not a 502', async () => {
    // The expectation is the next hop's to meet, and the binding's server already met it; passed
    // on, undici refuses the header and the proxy answered 502 CONTINUUM_UPSTREAM_UNAVAILABLE.
    const before = upstream.requests.length
    const upload = await sendExpecting(
      app.url,
      '/raw',
      { 'content-type': 'application/octet-stream' },
      'plain',
    )
    expect(upload).toEqual({
      status: 200,
      text: JSON.stringify({ bytes: 5, contentType: 'application/octet-stream' }),
    })
    // A client that lists every header it sends seals this one too.
    const built = encryptRequest('/v1/chat/completions', secretChat(), {
      headers: { expect: '100-continue' },
    })
    const { expect: _sealed, ...headers } = built.headers
    const encrypted = await sendExpecting(
      app.url,
      '/v1/chat/completions',
      headers,
      JSON.stringify(built.body),
    )
    expect(encrypted.status).toBe(200)
    const received = upstream.requests.slice(before)
    expect(received.map((entry) => entry.url)).toEqual(['/raw', '/v1/chat/completions'])
    for (const entry of received) expect(entry.headers.expect).toBeUndefined()
  })

  it('strips hop-by-hop response headers', async () => {
    const response = await request(app.url).get('/v1/models')
    expect(response.status).toBe(200)
    expect(response.headers['x-upstream-kept']).toBe('yes')
    expect(response.headers['x-upstream-hop']).toBeUndefined()
    expect(response.headers['proxy-authenticate']).toBeUndefined()
    expect(response.headers.connection ?? '').not.toContain('x-upstream-hop')
  })

  it.each([
    ['an adapter plain route', '/v1/models'],
    ['a passThrough path', '/metrics'],
  ])('relays each upstream set-cookie as its own header line on %s', async (_label, path) => {
    const response = await request(app.url).get(path)
    expect(response.status).toBe(200)
    expect(response.headers['set-cookie']).toEqual(UPSTREAM_COOKIES)
  })

  it('forwards passThrough paths untouched, with their query', async () => {
    const before = upstream.requests.length
    const response = await request(app.url).get('/metrics?name=vllm').set('accept', 'text/plain')
    expect(response.status).toBe(200)
    expect(response.headers['content-type']).toBe('text/plain; version=0.0.4')
    expect(response.headers['x-continuum-encrypted']).toBeUndefined()
    expect(response.text).toBe(transcript('vllm', 'metrics.txt'))
    expect(upstream.requests.slice(before).map((entry) => entry.url)).toEqual(['/metrics?name=vllm'])
    // A path that merely starts with the same letters is not passed through.
    expect((await request(app.url).get('/metricsx')).status).toBe(501)
  })

  it.each([
    ['JSON with its own spacing', 'application/json', '{ "b" : 1,\n  "a": [1.0, 2e3] }'],
    ['plain text', 'text/plain; charset=utf-8', 'tokens please: 1 2 3'],
    ['form data', 'application/x-www-form-urlencoded', 'a=1&b=two'],
  ])('forwards a passThrough request body byte for byte: %s', async (_label, type, body) => {
    const before = upstream.requests.length
    const response = await request(app.url).post('/raw').set('content-type', type).send(body)
    expect(response.status).toBe(200)
    expect(response.body).toEqual({ bytes: Buffer.byteLength(body), contentType: type })
    expect(upstream.requests[before]?.body).toBe(body)
  })

  it('serves HEAD on plain GET routes instead of refusing it, and 405 on a method no route has', async () => {
    const before = upstream.requests.length
    const head = await fetch(`${app.url}/v1/models`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(await head.text()).toBe('')
    expect(upstream.requests.slice(before).map((entry) => entry.method)).toEqual(['HEAD'])
    const deleted = await fetch(`${app.url}/v1/models`, { method: 'DELETE' })
    expect(deleted.status).toBe(405)
    expect(upstream.requests.length).toBe(before + 1)
  })

  it.each(['json', 'raw', 'text'] as const)(
    'takes bodies a host %s body parser already read: encrypted routes and pass-through',
    async (bodyParser) => {
      const parsed = await harness.start(
        { upstream: upstream.url, keys: sharedKeys(), passThrough: ['/raw'] },
        { bodyParser },
      )
      try {
        const answer = await openaiClient(parsed).chat.completions.create({
          model: 'llama-3-8b',
          messages: [{ role: 'user', content: SECRET }],
        })
        expect(answer.choices[0]?.message.content).toBe(replyFor(SECRET))
        expect(upstream.requests.at(-1)!.json().messages[0].content).toBe(SECRET)
        const body = '{"b":1,"a":[1,2000]}'
        const raw = await request(parsed.url).post('/raw').set('content-type', 'application/json').send(body)
        expect(raw.status).toBe(200)
        expect(upstream.requests.at(-1)!.body).toBe(body)
      } finally {
        await parsed.close()
      }
    },
  )

  it('forwards a pass-through upload a host JSON parser left unread, not the {} it put in its place', async () => {
    const parsed = await harness.start(
      { upstream: upstream.url, keys: sharedKeys(), passThrough: ['/raw'] },
      { bodyParser: 'json-only' },
    )
    try {
      const body = 'name,score\nada,3\n'
      const before = upstream.requests.length
      const raw = await request(parsed.url).post('/raw').set('content-type', 'text/csv').send(body)
      expect(raw.status).toBe(200)
      expect(upstream.requests[before]?.body).toBe(body)
      // JSON the parser did read still goes as it was parsed, encrypted or not.
      const answer = await openaiClient(parsed).chat.completions.create({
        model: 'llama-3-8b',
        messages: [{ role: 'user', content: SECRET }],
      })
      expect(answer.choices[0]?.message.content).toBe(replyFor(SECRET))
    } finally {
      await parsed.close()
    }
  })

  it('aborts the upstream request when the SDK client stops reading a stream', async () => {
    const stream = await openaiClient(app).chat.completions.create({
      model: 'hang-stream',
      stream: true,
      messages: [{ role: 'user', content: SECRET }],
    })
    const recorded = upstream.requests.at(-1)!
    expect(recorded.url).toBe('/v1/chat/completions')
    let parts = 0
    for await (const _ of stream) {
      parts++
      if (parts === 2) break
    }
    expect(parts).toBe(2)
    await vi.waitFor(() => expect(recorded.aborted).toBe(true))
  })

  it('cuts a plain download the upstream cut, never ending it cleanly', async () => {
    const outcome = await new Promise<{ bytes: number; ended: boolean; failed: boolean }>((resolve) => {
      let bytes = 0
      get(`${app.url}/download?bytes=${4 * 1024 * 1024}&cut`, (response) => {
        response.on('data', (chunk: Buffer) => {
          bytes += chunk.length
        })
        response.on('end', () => resolve({ bytes, ended: true, failed: false }))
        response.on('error', () => resolve({ bytes, ended: false, failed: true }))
      }).on('error', () => resolve({ bytes, ended: false, failed: true }))
    })
    expect(outcome).toMatchObject({ ended: false, failed: true })
  })

  it('aborts the upstream request when a plain download is dropped', async () => {
    const before = upstream.requests.length
    await new Promise<void>((resolve, reject) => {
      const outgoing = get(`${app.url}/download?bytes=${BIG}`, (response) => {
        response.once('data', () => {
          outgoing.destroy()
          resolve()
        })
      })
      outgoing.on('error', (error) => {
        if (!outgoing.destroyed) reject(error)
      })
    })
    const recorded = upstream.requests[before]!
    expect(recorded.url).toBe(`/download?bytes=${BIG}`)
    await vi.waitFor(() => expect(recorded.aborted).toBe(true))
  })
})

describe.each(rootFrameworks)('large pass-through bodies via $name', (harness) => {
  let upstream: FakeUpstream
  let app: RunningApp

  beforeAll(async () => {
    upstream = await startOpenAIUpstream()
    app = await harness.start({
      upstream: upstream.url,
      keys: sharedKeys(),
      passThrough: ['/download', '/raw'],
    })
  })

  afterAll(async () => {
    await app.close()
    await upstream.close()
  })

  it('passes a 32 MB upload through whole, sent in pieces with pauses', async () => {
    const total = 32 * 1024 * 1024
    const piece = Buffer.alloc(256 * 1024, 7)
    const before = upstream.requests.length
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const outgoing = httpRequest(
        `${app.url}/raw`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/octet-stream', 'content-length': String(total) },
        },
        (response) => {
          let body = ''
          response.setEncoding('utf8')
          response.on('data', (chunk: string) => {
            body += chunk
          })
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body }))
        },
      )
      outgoing.on('error', reject)
      let sent = 0
      const next = (): void => {
        while (sent < total) {
          sent += piece.length
          // Now and then a pause well under the idle timeout, so the upload arrives in bursts.
          const more = outgoing.write(piece)
          if (sent % (8 * 1024 * 1024) === 0 && sent < total) {
            setTimeout(next, 20)
            return
          }
          if (!more) {
            outgoing.once('drain', next)
            return
          }
        }
        outgoing.end()
      }
      next()
    })
    expect(answer.status).toBe(200)
    expect(JSON.parse(answer.body)).toEqual({ bytes: total, contentType: 'application/octet-stream' })
    expect(upstream.requests[before]?.bytes.length).toBe(total)
  })

  it('applies backpressure to a slow reader without piling up listeners', async () => {
    const total = 96 * 1024 * 1024
    const warnings: string[] = []
    const onWarning = (warning: Error) => warnings.push(warning.name)
    process.on('warning', onWarning)
    const before = upstream.requests.length
    try {
      const received = await new Promise<number>((resolve, reject) => {
        get(`${app.url}/download?bytes=${total}`, (response) => {
          let bytes = 0
          let pauses = 0
          response.on('data', (chunk: Buffer) => {
            bytes += chunk.length
            // Stall the reader now and then, long enough for every buffer on the way to fill.
            if (bytes > (pauses + 1) * 8 * 1024 * 1024) {
              pauses++
              response.pause()
              setTimeout(() => response.resume(), pauses === 1 ? 400 : 20)
            }
          })
          response.on('end', () => resolve(bytes))
          response.on('error', reject)
        }).on('error', reject)
        // While the reader is stalled the first time, the upstream must be stalled too.
        setTimeout(() => {
          const sent = upstream.requests[before]?.sent ?? 0
          if (sent > 48 * 1024 * 1024)
            reject(new Error(`upstream ran ${sent} bytes ahead of a stalled reader`))
        }, 350)
      })
      expect(received).toBe(total)
    } finally {
      process.off('warning', onWarning)
    }
    expect(warnings).toEqual([])
  })

  it('streams a 200 MB pass-through response while RSS grows far less than the body', async () => {
    // Warm up sockets, pools and JIT so the baseline holds what a steady state holds.
    expect((await download(`${app.url}/download?bytes=${8 * 1024 * 1024}`)).bytes).toBe(8 * 1024 * 1024)
    const baseline = process.memoryUsage.rss()
    const result = await download(`${app.url}/download?bytes=${BIG}`)
    expect(result.status).toBe(200)
    expect(result.bytes).toBe(BIG)
    expect(result.peakRss - baseline).toBeLessThan(100 * 1024 * 1024)
  })
})
