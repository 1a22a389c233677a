/**
 * The proxy core: one CoreHandler that serves every adapter route, the published agreement key
 * and configured pass-through paths, and leaves the rest to the host app (or answers 501, with
 * `unknownRoutes: 'reject'`). Before any routing, a path that some server could read as another
 * one is refused (request-path.ts), unless none of its readings is a path of the proxy's, which
 * makes it the host app's (path-variants.ts); what is forwarded is exactly the path that was
 * matched. It logs a start-up line and, opted in, one access line per request. Middleware for
 * Express, Koa and Fastify only translate their request objects into this handler's shape.
 */
import { AGREEMENT_KEY_PATH } from '../cipher/format'
import type { CoreHandler, CoreRequest, CoreResponse } from '../core/http'
import { ContinuumError, toContinuumError } from '../errors'
import type { RouteMatch } from '../protocol/registry'
import { type AccessNote, withAccessLog } from './access-log'
import { idleGuardedUpload, isNodeReadable, timedChunks } from './body-reader'
import { createExchangeRunner } from './exchange-pipeline'
import { clientResponseHeaders, upstreamRequestHeaders } from './headers'
import { pathReadings } from './path-variants'
import { type ProxyOptions, type ResolvedProxyOptions, resolveProxyOptions } from './proxy-options'
import { assertCanonicalPath, pathProblem } from './request-path'
import {
  dialectErrorResponse,
  errorResponse,
  jsonResponse,
  reportedErrorResponse,
  reportFailure,
} from './responses'
import type { UpstreamRequestBody } from './upstream'
import { RelayedBody } from './wire-body'

/** A running proxy. */
export interface ContinuumProxy {
  /** Serves one request; resolves `undefined` for paths it leaves to the next handler. */
  readonly handle: CoreHandler
  /** The resolved options, for middleware that needs limits. */
  readonly options: ResolvedProxyOptions
  /** Closes the upstream connection pool. */
  close(): Promise<void>
}

function splitUrl(url: string): { path: string; query: string } {
  const mark = url.indexOf('?')
  return mark === -1 ? { path: url, query: '' } : { path: url.slice(0, mark), query: url.slice(mark) }
}

function rawBody(request: CoreRequest, idleTimeoutMs: number): UpstreamRequestBody {
  switch (request.body.kind) {
    case 'empty':
      return { type: 'empty' }
    case 'stream':
      // A pass-through upload may take long, but may not stall: it holds an upstream connection.
      return {
        type: 'stream',
        stream: isNodeReadable(request.body.stream)
          ? idleGuardedUpload(request.body.stream, idleTimeoutMs)
          : timedChunks(request.body.stream, { idleTimeoutMs }),
      }
    case 'bytes':
      return { type: 'bytes', bytes: request.body.bytes }
    case 'parsed':
      return { type: 'bytes', bytes: Buffer.from(JSON.stringify(request.body.value) ?? '') }
  }
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes
}

/** Forwards a request untouched (plain adapter routes, pass-through paths) and relays the answer. */
async function forwardRaw(
  options: ResolvedProxyOptions,
  request: CoreRequest,
  route: RouteMatch | undefined,
  url: string,
): Promise<CoreResponse> {
  const upstream = await options.upstream.send({
    method: request.method,
    url,
    headers: upstreamRequestHeaders(request.headers, request.body.kind === 'parsed'),
    body: rawBody(request, options.bodyReading.idleTimeoutMs),
    signal: request.signal,
    route,
  })
  // The gateway's own error answer (an unknown model on the model route) is written as the
  // proxy's own errors are.
  const reported = reportedErrorResponse(upstream, undefined)
  if (reported !== undefined) return reported
  const body = upstream.body
  if (body.type === 'events') {
    throw new ContinuumError('CONTINUUM_INTERNAL', 'The upstream answered a plain route with stream events')
  }
  const rewritten = body.type === 'json'
  return {
    status: upstream.status,
    headers: {
      ...clientResponseHeaders(upstream.headers, rewritten),
      ...(rewritten ? { 'content-type': 'application/json' } : {}),
    },
    // Relayed as the adapter routes' plain bytes are: a Node binding pipes it from the upstream
    // body's own events (no promise per chunk); a break-off mid-body cuts the connection.
    body:
      body.type === 'bytes'
        ? new RelayedBody(body.stream, undefined, request.signal, ignoreOutcome)
        : once(Buffer.from(JSON.stringify(body.value))),
  }
}

/** How a refusal's message names the variant of an encrypted route a pass-through path is. */
const VARIANT_WORDS = { 'case-variant': 'case variant of', 'path-parameter': 'path parameters on' } as const

/** A pass-through exchange has no outcome listener (the access log reads the response itself). */
const ignoreOutcome = (): void => {}

/** Creates the proxy core. Options are validated here; a bad option throws CONTINUUM_INVALID_OPTIONS. */
export function createProxy(proxyOptions: ProxyOptions): ContinuumProxy {
  const options = resolveProxyOptions(proxyOptions)
  const { registry, keyring } = options
  const runExchange = createExchangeRunner(options)
  options.logger.info(options.startup, 'continuum-proxy ready')

  /** Whether a pass-through prefix covers the path. */
  const passesThrough = (path: string): boolean =>
    options.passThrough.some(
      (prefix) => path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`),
    )

  /** Whether some reading of an ambiguous path is a path of the proxy's (then it is refused, never passed on). */
  const couldBeOurs = (request: CoreRequest, path: string): boolean =>
    pathReadings(path).some(
      (reading) =>
        registry.lookup(request.method, reading, request.headers).kind !== 'none' ||
        passesThrough(reading) ||
        reading === AGREEMENT_KEY_PATH,
    )

  /** Whether a reading of a path is an encrypted route for the request's method. */
  const isEncryptedRoute = (request: CoreRequest, reading: string): boolean => {
    const found = registry.lookup(request.method, reading, request.headers)
    return found.kind === 'match' && found.match.route.encrypted
  }

  /**
   * An upstream may route a pass-through path to an encrypted route: one that folds case serves
   * `/V1/Chat/Completions` as the chat route, and servlet containers (Tomcat, Jetty, Spring) drop
   * path parameters, serving `/v1/chat/completions;jsessionid=1` as it. Such a path would carry a
   * plaintext prompt past encryption, so it is refused.
   */
  const encryptedVariant = (request: CoreRequest, path: string): keyof typeof VARIANT_WORDS | undefined => {
    if (isEncryptedRoute(request, path.toLowerCase())) return 'case-variant'
    return pathReadings(path).some((reading) => isEncryptedRoute(request, reading))
      ? 'path-parameter'
      : undefined
  }

  async function dispatch(request: CoreRequest, note: AccessNote): Promise<CoreResponse | undefined> {
    const { path, query } = splitUrl(request.url)
    if (options.unknownRoutes === 'next' && pathProblem(path) !== undefined && !couldBeOurs(request, path)) {
      return undefined
    }
    assertCanonicalPath(path)
    if (options.handler !== undefined) {
      const answered = await options.handler(request)
      if (answered !== undefined) {
        note.route = 'handler'
        return answered
      }
    }
    const lookup = registry.lookup(request.method, path, request.headers)
    if (lookup.kind === 'match') {
      // A route of a deferred adapter loads it on its first request (once for a burst).
      const match = await registry.resolve(lookup.match)
      note.route = `${match.route.adapter}.${match.route.name}`
      if (!match.route.encrypted) return forwardRaw(options, request, match, match.routePath + query)
      return runExchange(
        request,
        match,
        query,
        options.accessLog
          ? (outcome) => {
              note.outcome = outcome
            }
          : undefined,
      )
    }
    if (path === AGREEMENT_KEY_PATH && request.method === 'GET') {
      const published = keyring?.published()
      if (published !== undefined) {
        note.route = 'agreement-key'
        return jsonResponse(200, published, { 'cache-control': 'max-age=300' })
      }
    }
    if (passesThrough(path)) {
      note.route = 'pass-through'
      const variant = encryptedVariant(request, path)
      if (variant !== undefined) {
        throw new ContinuumError(
          'CONTINUUM_INVALID_PATH',
          `Request path refused before routing (${VARIANT_WORDS[variant]} an encrypted route)`,
          { details: { reason: variant } },
        )
      }
      return forwardRaw(options, request, undefined, path + query)
    }
    if (lookup.kind === 'method-not-allowed') {
      throw new ContinuumError(
        'CONTINUUM_METHOD_NOT_ALLOWED',
        `${request.method} is not allowed on this route`,
        {
          details: { allowed: lookup.allowed },
        },
      )
    }
    if (options.unknownRoutes === 'next') return undefined
    throw new ContinuumError('CONTINUUM_ROUTE_NOT_SUPPORTED', `No adapter serves ${request.method} ${path}`)
  }

  return {
    options,
    async handle(request) {
      const startedAt = options.clock.now()
      const note: AccessNote = {}
      let response: CoreResponse | undefined
      try {
        response = await dispatch(request, note)
      } catch (error) {
        reportFailure(options.logger, error)
        const failure = toContinuumError(error)
        note.code = failure.code
        // Behind the router gateway, in the dialect the path names (path-dialect.ts).
        // Loaded on use: only a gateway's refusals need it, and a plain setup never loads it.
        const body = options.dialectErrors
          ? await (await import('./path-dialect')).pathDialectError(
              registry,
              request,
              splitUrl(request.url).path,
              failure,
            )
          : undefined
        response =
          body === undefined ? errorResponse(failure) : dialectErrorResponse(failure, body, undefined)
      }
      if (response === undefined || !options.accessLog) return response
      return withAccessLog(response, request, note, startedAt, options.clock, options.logger)
    },
    close: () => options.upstream.close(),
  }
}
