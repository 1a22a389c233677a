/**
 * "No input gives a 5xx" (hardening item 10), as a property: random methods, paths (every route
 * of every built-in adapter, its parameters and mutations of it, and noise), queries, headers
 * (the protocol's own with random values, content types, lengths, credentials) and bodies (empty,
 * random bytes, random JSON as bytes or as a framework-parsed value, deep nesting, invalid UTF-8,
 * valid and tampered cp1 requests) through `createProxy().handle` on an encrypted and an optional
 * proxy, then through real Express and Fastify servers. Every answer must be below 500, except the
 * documented 501 CONTINUUM_ROUTE_NOT_SUPPORTED for a path no adapter serves; every error body must
 * carry a stable code other than CONTINUUM_INTERNAL; every streamed body must read to its end.
 * The upstream answers every forwarded request well, so any 5xx is the proxy's own. Runs are
 * bounded (a few seconds in all); a failure prints fast-check's seed and shrunk counterexample.
 */
import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  AdapterRegistry,
  type CoreRequest,
  type CoreResponse,
  createProxy,
  type ProxyOptions,
  type Upstream,
} from 'continuum-proxy'
import { builtinAdapters } from 'continuum-proxy/adapters'
import { CacheStage } from 'continuum-proxy/cache'
import { continuum as expressContinuum } from 'continuum-proxy/express'
import { continuum as fastifyContinuum } from 'continuum-proxy/fastify'
import express from 'express'
import fc from 'fast-check'
import Fastify from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encryptRequest, secretChat, sharedKeys } from '../conformance/support'
import { jsonReply } from '../kit/replies'
import { FakeUpstream } from '../kit/server'

const adapters = builtinAdapters()
const registry = new AdapterRegistry(adapters)
const TEMPLATES = [...new Set(adapters.flatMap((adapter) => adapter.routes.map((route) => route.path)))]
const ENCRYPTED_PATHS = adapters.flatMap((adapter) =>
  adapter.routes.filter((route) => route.encrypted && !route.path.includes('{')).map((route) => route.path),
)

/** One generated request. */
interface Input {
  method: string
  path: string
  query: string
  headers: Record<string, string>
  body: { kind: 'empty' } | { kind: 'bytes'; bytes: Uint8Array } | { kind: 'parsed'; value: unknown }
}

const segment = fc.oneof(
  fc.constantFrom(
    'llama',
    'm',
    '1',
    'my%20model',
    '..',
    '.',
    '',
    '%2e%2e',
    '%zz',
    '%',
    '%ff',
    '%2F',
    'a;b',
    '..;',
  ),
  fc.webSegment(),
  fc.string({ maxLength: 8 }),
)

function instantiate(template: string, values: string[]): string {
  let index = 0
  return template.replace(/\{[A-Za-z_]+\}/g, () => values[index++ % values.length] ?? 'x')
}

const path = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .tuple(fc.constantFrom(...TEMPLATES), fc.array(segment, { minLength: 1, maxLength: 2 }))
      .map(([template, values]) => instantiate(template, values)),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...TEMPLATES, '/metrics', '/.well-known/continuum-key'),
        segment,
        fc.constantFrom('/', '', '//', '/../', '%2f', '\\'),
      )
      .map(([template, extra, joint]) => `${instantiate(template, ['llama'])}${joint}${extra}`),
  },
  { weight: 1, arbitrary: fc.webPath() },
  {
    weight: 1,
    arbitrary: fc.string({ maxLength: 30 }).map((text) => (text.startsWith('/') ? text : `/${text}`)),
  },
)

const query = fc.oneof(
  fc.constant(''),
  fc.webQueryParameters().map((text) => `?${text}`),
  fc.constantFrom('?stream=true', '?%zz', '?a=%ff', '??', '?#x'),
)

const headerValue = fc.oneof(
  fc.string({ maxLength: 40 }).map((text) => text.replace(/[^\x20-\x7e]/g, '')),
  fc.constantFrom('cp1', 'cp2', '', '0', '-1', '99999999999999999999', 'abc', 'Bearer x', 'no-store', 'k1'),
)

const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'application/vnd.x+json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  '',
)

const headers = fc
  .record(
    {
      'content-type': contentType,
      'content-length': fc.oneof(fc.nat({ max: 5000 }).map(String), headerValue),
      authorization: headerValue,
      'x-api-key': headerValue,
      'cache-control': headerValue,
      'x-continuum-encryption': headerValue,
      'x-continuum-key-id': headerValue,
      'x-continuum-nonce': headerValue,
      'x-continuum-timestamp': fc.oneof(headerValue, fc.constant(String(Date.now()))),
      'x-continuum-seal': headerValue,
      'x-continuum-ephemeral-key': headerValue,
      'inference-header-content-length': headerValue,
    },
    { requiredKeys: [] },
  )
  .map(
    (record) =>
      Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as Record<
        string,
        string
      >,
  )

const deep = fc
  .integer({ min: 1, max: 200_000 })
  .map((levels) => `{"model":"m","messages":${'['.repeat(levels)}${']'.repeat(levels)}}`)

const bodyText = fc.oneof(
  fc.json({ depthSize: 'small' }),
  deep,
  fc.constant(JSON.stringify(secretChat())),
  fc.constant(JSON.stringify(secretChat({ stream: true }))),
  fc.constant('{"inputs":"x","parameters":{"max_new_tokens":1}}'),
  fc.string({ maxLength: 200 }),
)

const body: fc.Arbitrary<Input['body']> = fc.oneof(
  fc.constant({ kind: 'empty' as const }),
  bodyText.map((text) => ({ kind: 'bytes' as const, bytes: Buffer.from(text) })),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => ({ kind: 'bytes' as const, bytes })),
  fc
    .tuple(
      bodyText,
      fc.uint8Array({ minLength: 1, maxLength: 3 }).map((bytes) => bytes.map((byte) => byte | 0x80)),
    )
    .map(([text, bytes]) => ({
      kind: 'bytes' as const,
      bytes: Buffer.concat([Buffer.from(text.slice(0, -2)), bytes, Buffer.from(text.slice(-2))]),
    })),
  fc.jsonValue({ depthSize: 'small' }).map((value) => ({ kind: 'parsed' as const, value })),
)

/** A valid cp1 request on one of the encrypted routes, then one random change to it. */
const sealed: fc.Arbitrary<Input> = fc
  .tuple(
    fc.constantFrom(...ENCRYPTED_PATHS.filter((candidate) => candidate.startsWith('/v1/chat'))),
    fc.constantFrom('none', 'drop-header', 'garble-header', 'garble-body', 'retarget', 'replay'),
    fc.constantFrom(
      ...Object.keys({
        'x-continuum-seal': 1,
        'x-continuum-nonce': 1,
        'x-continuum-timestamp': 1,
        'x-continuum-key-id': 1,
      }),
    ),
    headerValue,
  )
  .map(([routePath, change, header, value]) => {
    const built = encryptRequest(routePath, secretChat())
    const headers = { ...built.headers }
    let text = JSON.stringify(built.body)
    if (change === 'drop-header') delete headers[header]
    if (change === 'garble-header') headers[header] = value
    if (change === 'garble-body') text = text.replace(/cp1\.[^"]{4}/, `cp1.${value.slice(0, 4)}`)
    return {
      method: 'POST',
      path: change === 'retarget' ? '/v1/completions' : routePath,
      query: '',
      headers,
      body: { kind: 'bytes' as const, bytes: Buffer.from(text) },
    }
  })

const input: fc.Arbitrary<Input> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      method: fc.constantFrom('POST', 'POST', 'GET', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
      path,
      query,
      headers,
      body,
    }),
  },
  { weight: 1, arbitrary: sealed },
)

/** Answers every forwarded request well: JSON `{}`-like per route, bytes elsewhere. */
const upstream: Upstream = {
  async send(request) {
    if (request.body.type === 'stream') for await (const _ of request.body.stream) void _
    if (request.route === undefined || !request.route.route.encrypted) {
      return {
        status: 200,
        headers: { 'content-type': 'text/plain' },
        body: { type: 'bytes', stream: once(Buffer.from('ok')) },
      }
    }
    return {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: { type: 'json', value: { id: 'x', object: 'test' } },
    }
  },
  async close() {},
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes
}

const PROXIES: Record<string, Partial<ProxyOptions>> = {
  encrypted: { keys: sharedKeys(), passThrough: ['/metrics'], stages: [new CacheStage()] },
  optional: { encryption: 'optional', passThrough: ['/metrics'] },
}

/** The failures the property reports: status, code, and what was sent. */
function judge(
  status: number,
  text: string,
  contentType: string | undefined,
  method: string,
): string | undefined {
  let code: string | undefined
  if (status >= 400 && contentType?.includes('json') && method !== 'HEAD') {
    try {
      code = (JSON.parse(text) as { error?: { code?: string } }).error?.code
    } catch {
      return `unparseable error body ${text.slice(0, 80)}`
    }
    if (code === undefined) return `error body without a code: ${text.slice(0, 80)}`
  }
  if (code === 'CONTINUUM_INTERNAL') return `CONTINUUM_INTERNAL ${status}`
  // A HEAD answer on the wire has no body to read the code from.
  const unsupported = status === 501 && (code === 'CONTINUUM_ROUTE_NOT_SUPPORTED' || method === 'HEAD')
  if (status >= 500 && !unsupported) return `${status} ${code ?? text.slice(0, 80)}`
  return undefined
}

async function readAll(response: CoreResponse): Promise<string> {
  const body = response.body
  if (body === null) return ''
  if (typeof body === 'string') return body
  if (body instanceof Uint8Array) return Buffer.from(body).toString('utf8')
  const chunks: Buffer[] = []
  for await (const chunk of body) chunks.push(Buffer.from(chunk))
  return Buffer.concat(chunks).toString('utf8')
}

describe('no input gives a 5xx', () => {
  it.each(Object.keys(PROXIES))('through createProxy().handle (%s proxy)', async (name) => {
    const proxy = createProxy({ upstream, adapters: registry, ...PROXIES[name] })
    await fc.assert(
      fc.asyncProperty(input, async (generated) => {
        const request: CoreRequest = {
          method: generated.method,
          url: generated.path + generated.query,
          headers: generated.headers,
          body: generated.body,
          signal: new AbortController().signal,
        }
        const response = await proxy.handle(request)
        if (response === undefined) return
        const text = await readAll(response)
        const failure = judge(
          response.status,
          text,
          response.headers['content-type'] as string | undefined,
          'core',
        )
        expect(failure, `${generated.method} ${request.url}`).toBeUndefined()
      }),
      { numRuns: 600 },
    )
    await proxy.close()
  })

  describe.each(['express', 'fastify'])('through a real %s server', (framework) => {
    let fake: FakeUpstream
    let origin: string
    let close: () => Promise<void>

    beforeAll(async () => {
      fake = await FakeUpstream.start(() => jsonReply({ id: 'x', object: 'test' }))
      const options: ProxyOptions = { upstream: fake.url, ...PROXIES.encrypted, stages: [new CacheStage()] }
      if (framework === 'express') {
        const app = express()
        const middleware = expressContinuum(options)
        app.use(middleware)
        const server = app.listen(0, '127.0.0.1')
        await new Promise((resolve) => server.once('listening', resolve))
        origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
        close = async () => {
          server.closeAllConnections()
          await new Promise((resolve) => server.close(resolve))
          await middleware.proxy.close()
        }
      } else {
        const app = Fastify()
        await app.register(fastifyContinuum, options)
        origin = await app.listen({ port: 0, host: '127.0.0.1' })
        close = async () => {
          app.server.closeAllConnections()
          await app.close()
        }
      }
    })
    afterAll(async () => {
      await close()
      await fake.close()
    })

    it('answers every generated request below 500 with a stable code', async () => {
      const { hostname, port } = new URL(origin)
      await fc.assert(
        fc.asyncProperty(input, async (generated) => {
          // A request-target that is not a path (`?`) is refused by node's HTTP parser itself.
          if (!generated.path.startsWith('/')) return
          const bytes =
            generated.body.kind === 'empty'
              ? undefined
              : generated.body.kind === 'bytes'
                ? Buffer.from(generated.body.bytes)
                : Buffer.from(JSON.stringify(generated.body.value) ?? '')
          const sent = { ...generated.headers }
          // The socket frames the body: a wrong declared length would only desynchronise the
          // client's own connection, which says nothing about the proxy.
          delete sent['content-length']
          if (bytes !== undefined) sent['content-length'] = String(bytes.length)
          const answer = await new Promise<
            { status: number; text: string; type: string | undefined } | undefined
          >((resolve, reject) => {
            let outgoing: ReturnType<typeof httpRequest>
            try {
              outgoing = httpRequest(
                {
                  hostname,
                  port,
                  method: generated.method,
                  path: generated.path + generated.query,
                  headers: sent,
                },
                (response) => {
                  let text = ''
                  response.setEncoding('utf8')
                  response.on('data', (part: string) => {
                    text += part
                  })
                  response.on('end', () =>
                    resolve({
                      status: response.statusCode ?? 0,
                      text,
                      // Only the proxy's own answers must carry a code; a path the framework never
                      // handed to it (`POST ?`) gets the framework's 404.
                      type:
                        response.headers['x-continuum-encrypted'] === undefined
                          ? undefined
                          : response.headers['content-type'],
                    }),
                  )
                  response.on('error', reject)
                },
              )
            } catch {
              // node:http refuses to send this path or header itself: nothing reached the proxy.
              resolve(undefined)
              return
            }
            outgoing.on('error', reject)
            outgoing.end(bytes)
          })
          if (answer === undefined) return
          expect(
            judge(answer.status, answer.text, answer.type, generated.method),
            `${generated.method} ${generated.path}${generated.query}`,
          ).toBeUndefined()
        }),
        { numRuns: 150 },
      )
    })
  })
})
