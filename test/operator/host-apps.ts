/**
 * Host apps as users write them: Express, Koa and Fastify apps with routes of their own
 * (`/health`, `/metrics`, `/foo`, `/files/:id`) and their own not-found answer, with the
 * continuum middleware mounted first, at the root or under `/llm`. Each answer says who wrote it
 * (`{ host: ... }`), so a test tells the app's answers from the proxy's. Koa has no mounting of
 * its own; the prefixed variant strips the prefix the way koa-mount does.
 */
import type { Server } from 'node:http'
import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type ContinuumOptions, continuum as expressContinuum } from 'continuum-proxy/express'
import { continuum as fastifyContinuum } from 'continuum-proxy/fastify'
import { continuum as koaContinuum } from 'continuum-proxy/koa'
import express from 'express'
import Fastify from 'fastify'
import Koa from 'koa'

/** A running host app. */
export interface HostApp {
  /** The app's origin, e.g. `http://127.0.0.1:4321`. */
  origin: string
  close(): Promise<void>
}

/** One framework with the proxy at the root or under a prefix. */
export interface HostHarness {
  name: string
  prefix: '' | '/llm'
  start(options: ContinuumOptions): Promise<HostApp>
}

const OWN_ROUTES = ['/health', '/metrics', '/foo'] as const

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
}

function expressHarness(prefix: '' | '/llm'): HostHarness {
  return {
    name: `express${prefix}`,
    prefix,
    async start(options) {
      const app = express()
      const middleware = expressContinuum(options)
      if (prefix === '') app.use(middleware)
      else app.use(prefix, middleware)
      for (const path of OWN_ROUTES) app.get(path, (_request, response) => response.json({ host: path }))
      app.get('/files/:id', (request, response) => response.json({ host: 'files', id: request.params.id }))
      app.use((_request, response) => response.status(404).json({ host: 'not-found' }))
      const server = await new Promise<Server>((resolve) => {
        const listening = app.listen(0, '127.0.0.1', () => resolve(listening))
      })
      return {
        origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        async close() {
          await closeServer(server)
          await middleware.proxy.close()
        },
      }
    },
  }
}

function koaHarness(prefix: '' | '/llm'): HostHarness {
  return {
    name: `koa${prefix}`,
    prefix,
    async start(options) {
      const app = new Koa()
      const middleware = koaContinuum(options)
      if (prefix === '') app.use(middleware)
      else {
        app.use(async (context, next) => {
          if (context.path !== prefix && !context.path.startsWith(`${prefix}/`)) return next()
          const original = context.url
          context.url = context.url.slice(prefix.length) || '/'
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
      app.use(async (context) => {
        const files = /^\/files\/([^/]+)$/.exec(context.path)
        if (context.method === 'GET' && (OWN_ROUTES as readonly string[]).includes(context.path)) {
          context.body = { host: context.path }
        } else if (context.method === 'GET' && files !== null) {
          context.body = { host: 'files', id: decodeURIComponent(files[1]!) }
        } else {
          context.status = 404
          context.body = { host: 'not-found' }
        }
      })
      const server = await new Promise<Server>((resolve) => {
        const listening = app.listen(0, '127.0.0.1', () => resolve(listening))
      })
      return {
        origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        async close() {
          await closeServer(server)
          await middleware.proxy.close()
        },
      }
    },
  }
}

function fastifyHarness(prefix: '' | '/llm'): HostHarness {
  return {
    name: `fastify${prefix}`,
    prefix,
    async start(options) {
      const app = Fastify()
      await app.register(fastifyContinuum, prefix === '' ? options : { ...options, prefix })
      for (const path of OWN_ROUTES) app.get(path, async () => ({ host: path }))
      app.get<{ Params: { id: string } }>('/files/:id', async (request) => ({
        host: 'files',
        id: request.params.id,
      }))
      app.setNotFoundHandler((_request, reply) => reply.code(404).send({ host: 'not-found' }))
      const origin = await app.listen({ port: 0, host: '127.0.0.1' })
      return {
        origin,
        async close() {
          app.server.closeAllConnections()
          await app.close()
        },
      }
    },
  }
}

/** Every framework, at the root and under `/llm`. */
export const hostHarnesses: HostHarness[] = [
  expressHarness(''),
  expressHarness('/llm'),
  koaHarness(''),
  koaHarness('/llm'),
  fastifyHarness(''),
  fastifyHarness('/llm'),
]

/** An answer read off the socket. */
export interface RawAnswer {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
}

/** Sends a request with its path exactly as given (fetch would resolve dot segments first). */
export function sendRaw(
  origin: string,
  path: string,
  options: { method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<RawAnswer> {
  const { hostname, port } = new URL(origin)
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        hostname,
        port,
        path,
        method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
        headers: { 'content-type': 'application/json', ...options.headers },
      },
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
    outgoing.end(options.body)
  })
}
