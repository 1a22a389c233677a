/**
 * Fastify binding: `await fastify.register(continuum, options)`. The outer plugin is wrapped with
 * fastify-plugin only to expose `fastify.continuum`; the routes live in an encapsulated child
 * context (honouring `prefix`), where request bodies stay unread: the core reads and parses them
 * within its body limit, and pass-through routes forward them byte for byte. Fastify's own
 * errors (a bad content-length, say) are mapped to our codes. Fastify's own routes win over the
 * plugin's catch-all, and a path the proxy does not serve goes on to Fastify's not-found handling
 * (`unknownRoutes: 'next'`, the default). A path Fastify's router cannot decode (`%zz`) that is
 * one of the proxy's gets our CONTINUUM_INVALID_PATH instead of Fastify's FST_ERR_BAD_URL body;
 * any other stays Fastify's.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { PassThrough, Readable } from 'node:stream'
import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import fastifyPlugin from 'fastify-plugin'
import { ContinuumError, errorResponse, pathProblem } from '../src/adapter-kit/index'
import type { ContinuumProxy, CoreRequest, CoreRequestBody } from '../src/index'
import { type ContinuumOptions, createBoundProxy } from './bound-proxy'
import {
  discardUnreadBody,
  dropCoreBody,
  flattenHeaders,
  isPipeable,
  mergedVary,
  PIPE_TO,
  writeCoreResponse,
} from './node-http'

/** Options of the Fastify plugin: the proxy options, with protocols by name, and a prefix. */
export interface ContinuumFastifyOptions extends ContinuumOptions {
  /**
   * Path prefix of the proxied routes, e.g. `/llm`.
   * @default ''
   */
  prefix?: string
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The proxy of the continuum-proxy plugin. */
    continuum: ContinuumProxy
  }
}

const PARSER_ERRORS: Record<string, ContinuumError['code']> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'CONTINUUM_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_JSON_BODY: 'CONTINUUM_INVALID_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'CONTINUUM_INVALID_JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'CONTINUUM_INVALID_JSON',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'CONTINUUM_UNSUPPORTED_MEDIA_TYPE',
}

function toContinuum(error: FastifyError): ContinuumError {
  const code =
    PARSER_ERRORS[error.code] ?? (error instanceof SyntaxError ? 'CONTINUUM_INVALID_JSON' : undefined)
  if (code === undefined)
    return ContinuumError.isInstance(error)
      ? error
      : new ContinuumError('CONTINUUM_INTERNAL', 'Internal error', { cause: error })
  return new ContinuumError(
    code,
    code === 'CONTINUUM_BODY_TOO_LARGE'
      ? 'Request body is larger than the limit'
      : 'Request body could not be parsed',
    {
      cause: error,
    },
  )
}

function coreRequest(request: FastifyRequest, signal: AbortSignal): CoreRequest {
  const body: CoreRequestBody =
    request.body !== undefined && request.body !== null
      ? { kind: 'parsed', value: request.body }
      : request.raw.readableEnded || request.method === 'GET' || request.method === 'HEAD'
        ? { kind: 'empty' }
        : { kind: 'stream', stream: request.raw }
  const prefixLength = request.routeOptions.url?.endsWith('/*') ? request.routeOptions.url.length - 2 : 0
  // An absolute-form target (`http://host/llm/v1/...`) keeps its origin, the prefix cut after it:
  // the core reads such a target by its path, as Fastify's router does.
  const origin = ABSOLUTE_FORM.exec(request.url)?.[0] ?? ''
  return {
    method: request.method,
    url: origin + (request.url.slice(origin.length + prefixLength) || '/'),
    headers: flattenHeaders(request.headers),
    body,
    signal,
    remoteAddress: request.ip,
  }
}

/** The scheme and authority of an absolute-form request target. */
const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/

type RequestListener = (request: IncomingMessage, response: ServerResponse) => void

/**
 * Fastify's router refuses a path it cannot percent-decode before any plugin, hook or handler
 * runs, with its own body (`FST_ERR_BAD_URL`; only the root `frameworkErrors` option changes
 * that). So the server's request listener is wrapped: such a path under our prefix goes to the
 * proxy first, which answers our CONTINUUM_INVALID_PATH when the path is (or could be read as)
 * one of its own, or with `unknownRoutes: 'reject'`; everything else goes to Fastify as before.
 */
function answerUndecodablePaths(server: Server, prefix: string, proxy: ContinuumProxy): void {
  const listeners = server.listeners('request') as RequestListener[]
  if (listeners.length === 0) return
  server.removeAllListeners('request')
  const toFastify = (request: IncomingMessage, response: ServerResponse): void => {
    for (const listener of listeners) listener.call(server, request, response)
  }
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const url = request.url ?? '/'
    const mark = url.indexOf('?')
    const path = mark === -1 ? url : url.slice(0, mark)
    const under = prefix === '' || path === prefix || path.startsWith(`${prefix}/`)
    const relative = prefix === '' ? url : url.slice(prefix.length) || '/'
    if (!under || pathProblem(relative.split('?')[0]!) !== 'malformed-encoding') {
      toFastify(request, response)
      return
    }
    // The proxy refuses such a path before routing (or leaves it to the host app): it never
    // reads the body or reaches the upstream.
    const core: CoreRequest = {
      method: request.method ?? 'GET',
      url: relative,
      headers: flattenHeaders(request.headers),
      body: { kind: 'empty' },
      signal: new AbortController().signal,
    }
    proxy.handle(core).then(
      (answer) => (answer === undefined ? toFastify(request, response) : writeCoreResponse(response, answer)),
      () => toFastify(request, response),
    )
  })
}

const plugin: FastifyPluginAsync<ContinuumFastifyOptions> = async (fastify: FastifyInstance, options) => {
  // Fastify's own register options (logLevel, logSerializers) are not proxy options.
  const {
    prefix = '',
    logLevel: _logLevel,
    logSerializers: _logSerializers,
    ...proxyOptions
  } = options as ContinuumFastifyOptions & { logLevel?: unknown; logSerializers?: unknown }
  const proxy = createBoundProxy(proxyOptions)
  fastify.decorate('continuum', proxy)
  fastify.addHook('onClose', async () => proxy.close())
  answerUndecodablePaths(fastify.server, prefix.replace(/\/$/, ''), proxy)

  await fastify.register(
    async (child) => {
      // Leave every body unread, as Express and Koa do: the core parses JSON itself within
      // bodyLimit, and pass-through routes stream the client's bytes upstream as they came.
      // (Fastify's own parsers would re-serialise JSON and turn text/plain into a JSON string.)
      child.removeAllContentTypeParsers()
      child.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined))
      child.setErrorHandler((error: FastifyError, request, reply) => {
        const response = errorResponse(toContinuum(error))
        discardUnreadBody(request.raw, reply.raw)
        return reply.code(response.status).headers(response.headers).send(response.body)
      })
      const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
        // What the app's hooks set (@fastify/cors: `Vary: Origin`), before the core's headers replace it.
        const hostVary = reply.getHeader('vary')
        // Aborted when nobody waits for the answer any more: the client went away, or the
        // response ended without it (the app answered first, a timeout hook's 503).
        const controller = new AbortController()
        let answering = false
        reply.raw.once('close', () => {
          if (!reply.raw.writableFinished || !answering) controller.abort()
        })
        const result = await proxy.handle(coreRequest(request, controller.signal))
        if (result === undefined) return reply.callNotFound() as unknown as FastifyReply
        if (reply.sent || reply.raw.headersSent) {
          controller.abort()
          await dropCoreBody(result.body)
          return reply
        }
        answering = true
        if (result.status >= 400) discardUnreadBody(request.raw, reply.raw)
        reply.code(result.status).headers(result.headers)
        const vary = result.headers.vary
        if (vary !== undefined) reply.header('vary', mergedVary(hostVary, vary))
        const body = result.body
        if (body === null || typeof body === 'string' || body instanceof Uint8Array)
          return reply.send(body ?? '')
        // A body that writes itself goes through a PassThrough Fastify pipes to the client: each
        // upstream read is written from its own event, where Readable.from would take a promise
        // and an async-iterator step per chunk. Fastify destroying the PassThrough (the client
        // left) closes it as a sink, which stops the upstream.
        if (isPipeable(body)) {
          const through = new PassThrough()
          void body[PIPE_TO](through)
          return reply.send(through)
        }
        return reply.send(Readable.from(body, { objectMode: false }))
      }
      const routeOptions = { bodyLimit: proxy.options.bodyLimit }
      child.all('/*', routeOptions, handler)
    },
    { prefix },
  )
}

/** The Fastify plugin. */
export const continuum = fastifyPlugin(plugin, { name: 'continuum-proxy', fastify: '5.x' })
export default continuum
export type { ProxyOptions } from '../src/index'
export type { BuiltinProtocol, ContinuumOptions } from './bound-proxy'
