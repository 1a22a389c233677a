/**
 * The framework harnesses the conformance suite runs against: Express, Koa and Fastify, each at
 * the root and mounted under `/llm`, each listening on a real socket (127.0.0.1, port 0). Every
 * app also has its own fallback handler after the proxy (Express `app.use`, a Koa middleware,
 * Fastify's not-found handler) answering 418 `{ handledBy: 'app' }`, so `unknownRoutes: 'next'`
 * can be told apart from the proxy's own answers. Koa has no built-in mounting (koa-mount is a
 * separate package we do not depend on), so its prefixed variant strips the prefix by hand the way
 * koa-mount does: rewrite `ctx.path`, call the middleware, restore it. A harness can put a host body
 * parser in front of the proxy (JSON, raw bytes or text), the way apps often do: express.json()
 * and friends, a koa-bodyparser-style middleware, or a content-type parser of the Fastify app (which
 * the plugin's own routes must not be affected by). It can also put CORS in front, as
 * docs/browser.md tells hosts that serve browsers to: one allowed origin, `Vary: Origin`, the
 * preflight answered before the proxy. And it can have a host timeout that answers 503 itself
 * while the proxy still works on the request (connect-timeout, koa-timeout and the like).
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ProxyOptions } from 'continuum-proxy'
import { builtinAdapters } from 'continuum-proxy/adapters'
import { continuum as expressContinuum } from 'continuum-proxy/express'
import { continuum as fastifyContinuum } from 'continuum-proxy/fastify'
import { continuum as koaContinuum } from 'continuum-proxy/koa'
import express from 'express'
import Fastify from 'fastify'
import Koa from 'koa'

/** A running app with the proxy mounted. */
export interface RunningApp {
  /** Where the proxy is mounted, e.g. `http://127.0.0.1:4321/llm` (no trailing slash). */
  url: string
  /** The server's origin, e.g. `http://127.0.0.1:4321`. */
  origin: string
  /** The fetch that reaches it: the global one for a socket, the core's own for the in-process harness. */
  fetch: typeof fetch
  close(): Promise<void>
}

/** What the host app runs before the proxy. */
export interface HostSetup {
  /**
   * A body parser that reads every request body first: `json` parses it, `raw` keeps its bytes,
   * `text` decodes it to a string. `json-only` parses JSON bodies only and leaves `{}` for the
   * rest without reading them, as koa-bodyparser and Express 4's body-parser do (Fastify's own
   * JSON parser stands for it there).
   * @default undefined
   */
  bodyParser?: 'json' | 'raw' | 'text' | 'json-only'
  /**
   * The one origin the host's CORS handler allows; requests from any other get no CORS headers
   * from it and go on to the proxy.
   * @default undefined (no CORS handler)
   */
  allowedOrigin?: string
  /**
   * A host timeout: once this settles, the host answers 503 `{ handledBy: 'host-timeout' }`
   * itself, whether or not the proxy is still working on the request.
   * @default undefined (no host timeout)
   */
  answersFirst?: Promise<unknown>
}

/** What the host timeout answers. */
export const HOST_TIMEOUT_STATUS = 503

/**
 * The host's CORS handler of docs/browser.md, framework-neutral: sets its headers through `set`
 * and tells whether it answered the request (an allowed preflight, 204).
 */
function hostCors(
  allowed: string | undefined,
  method: string,
  headers: Record<string, string | string[] | undefined>,
  set: (name: string, value: string) => void,
): boolean {
  if (allowed === undefined || headers.origin !== allowed) return false
  set('access-control-allow-origin', allowed)
  set('vary', 'origin')
  set('access-control-expose-headers', 'x-continuum-encrypted, x-continuum-seal')
  if (method !== 'OPTIONS') return false
  set('access-control-allow-methods', 'GET, POST')
  set('access-control-allow-headers', String(headers['access-control-request-headers'] ?? ''))
  return true
}

/** One framework, at the root or under a prefix. */
export interface FrameworkHarness {
  name: string
  /** `''` or `/llm`. */
  prefix: string
  start(options: ProxyOptions, host?: HostSetup): Promise<RunningApp>
}

/** Socket errors that only mean the client went away. */
const CLIENT_GONE = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
  // The socket ended inside a request body: the client hung up mid-upload.
  'HPE_INVALID_EOF_STATE',
])

/** The status and body of every app's own fallback handler. */
export const APP_FALLBACK_STATUS = 418

/** The suite covers every protocol; the bindings serve only OpenAI and Anthropic unless told otherwise. */
function withAllProtocols(options: ProxyOptions): ProxyOptions {
  return { adapters: builtinAdapters(), ...options }
}

async function listen(server: Server): Promise<string> {
  if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
}

function expressHarness(prefix: string): FrameworkHarness {
  return {
    name: prefix === '' ? 'express' : `express ${prefix}`,
    prefix,
    async start(options, host = {}) {
      const app = express()
      const first = host.answersFirst
      if (first !== undefined) {
        app.use((_request, response, next) => {
          void first.then(() => {
            if (!response.headersSent)
              response.status(HOST_TIMEOUT_STATUS).json({ handledBy: 'host-timeout' })
          })
          next()
        })
      }
      app.use((request, response, next) => {
        const set = (name: string, value: string) => response.setHeader(name, value)
        if (hostCors(host.allowedOrigin, request.method, request.headers, set)) response.status(204).end()
        else next()
      })
      if (host.bodyParser === 'json-only') {
        app.use(express.json())
        app.use((request, _response, next) => {
          request.body ??= {}
          next()
        })
      } else if (host.bodyParser !== undefined) app.use(express[host.bodyParser]({ type: '*/*' }))
      const middleware = expressContinuum(withAllProtocols(options))
      if (prefix === '') app.use(middleware)
      else app.use(prefix, middleware)
      app.use((request, response) => {
        response.status(APP_FALLBACK_STATUS).json({ handledBy: 'app', path: request.originalUrl })
      })
      const server = app.listen(0, '127.0.0.1')
      const origin = await listen(server)
      return {
        url: origin + prefix,
        origin,
        fetch: globalThis.fetch,
        async close() {
          await closeServer(server)
          await middleware.proxy.close()
        },
      }
    },
  }
}

/** What koa-bodyparser does: read the body, then leave it parsed on `ctx.request.body`. */
function koaBodyParser(kind: 'json' | 'raw' | 'text' | 'json-only'): Koa.Middleware {
  return async (context, next) => {
    if (kind === 'json-only' && !context.is('application/json')) {
      // A type it does not take: the stream stays unread, and `{}` stands in for the body.
      ;(context.request as { body?: unknown }).body = {}
      return next()
    }
    const chunks: Buffer[] = []
    for await (const chunk of context.req) chunks.push(chunk as Buffer)
    const bytes = Buffer.concat(chunks)
    if (bytes.length > 0) {
      const request = context.request as { body?: unknown }
      request.body =
        kind === 'raw' ? bytes : kind === 'text' ? bytes.toString() : JSON.parse(bytes.toString())
    }
    await next()
  }
}

function koaHarness(prefix: string): FrameworkHarness {
  return {
    name: prefix === '' ? 'koa' : `koa ${prefix}`,
    prefix,
    async start(options, host = {}) {
      const app = new Koa()
      const first = host.answersFirst
      if (first !== undefined) {
        // As koa-timeout does: whichever ends first, the rest of the chain or the timer.
        app.use(async (context, next) => {
          const timedOut = first.then(() => {
            context.status = HOST_TIMEOUT_STATUS
            context.body = { handledBy: 'host-timeout' }
          })
          await Promise.race([next(), timedOut])
        })
      }
      app.use(async (context, next) => {
        const set = (name: string, value: string) => context.set(name, value)
        if (hostCors(host.allowedOrigin, context.method, context.headers, set)) context.status = 204
        else await next()
      })
      if (host.bodyParser !== undefined) app.use(koaBodyParser(host.bodyParser))
      const middleware = koaContinuum(withAllProtocols(options))
      if (prefix === '') {
        app.use(middleware)
      } else {
        app.use(async (context, next) => {
          if (context.path !== prefix && !context.path.startsWith(`${prefix}/`)) return next()
          const original = context.url
          // As koa-mount does: through `path`, which keeps the query and an absolute-form origin.
          context.path = context.path.slice(prefix.length) || '/'
          try {
            await middleware(context, async () => {
              context.url = original
              await next()
            })
          } finally {
            context.url = original
          }
        })
      }
      // Koa reports a client that hangs up mid-response as an app error and logs it; a real app
      // filters these the same way. Anything else still reaches stderr.
      app.on('error', (error: NodeJS.ErrnoException) => {
        if (!CLIENT_GONE.has(error.code ?? '')) console.error(error)
      })
      app.use((context) => {
        context.status = APP_FALLBACK_STATUS
        context.body = { handledBy: 'app', path: context.url }
      })
      const server = app.listen(0, '127.0.0.1')
      const origin = await listen(server)
      return {
        url: origin + prefix,
        origin,
        fetch: globalThis.fetch,
        async close() {
          await closeServer(server)
          await middleware.proxy.close()
        },
      }
    },
  }
}

function fastifyHarness(prefix: string): FrameworkHarness {
  return {
    name: prefix === '' ? 'fastify' : `fastify ${prefix}`,
    prefix,
    async start(options, host = {}) {
      const app = Fastify()
      const first = host.answersFirst
      if (first !== undefined) {
        app.addHook('onRequest', async (_request, reply) => {
          void first.then(() => {
            if (!reply.sent) reply.code(HOST_TIMEOUT_STATUS).send({ handledBy: 'host-timeout' })
          })
        })
      }
      app.addHook('onRequest', async (request, reply) => {
        const set = (name: string, value: string) => reply.header(name, value)
        if (hostCors(host.allowedOrigin, request.method, request.headers, set)) return reply.code(204).send()
      })
      if (host.bodyParser !== undefined && host.bodyParser !== 'json-only') {
        // The app's own parser for every type; the plugin's routes must still see the unread body.
        app.removeAllContentTypeParsers()
        app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => {
          done(null, host.bodyParser === 'json' ? JSON.parse(body.toString()) : body)
        })
      }
      app.setNotFoundHandler((request, reply) => {
        reply.code(APP_FALLBACK_STATUS).send({ handledBy: 'app', path: request.url })
      })
      const all = withAllProtocols(options)
      await app.register(fastifyContinuum, prefix === '' ? all : { ...all, prefix })
      const origin = await app.listen({ port: 0, host: '127.0.0.1' })
      return {
        url: origin + prefix,
        origin,
        fetch: globalThis.fetch,
        async close() {
          app.server.closeAllConnections()
          await app.close()
        },
      }
    },
  }
}

/** Every harness: each framework at the root and under `/llm`. */
export const frameworks: FrameworkHarness[] = [
  expressHarness(''),
  expressHarness('/llm'),
  koaHarness(''),
  koaHarness('/llm'),
  fastifyHarness(''),
  fastifyHarness('/llm'),
]

/** One harness per framework, for the slowest tests (the 200 MB stream). */
export const rootFrameworks: FrameworkHarness[] = frameworks.filter((harness) => harness.prefix === '')
