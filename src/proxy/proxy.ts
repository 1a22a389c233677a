/**
 * The proxy core: one CoreHandler that serves every adapter route, the published agreement key,
 * configured pass-through paths, and a clear 501 for the rest. Middleware for Express, Koa and
 * Fastify only translate their request objects into this handler's shape.
 */

import { builtinAdapters } from '../../adapters/builtin'
import { AGREEMENT_KEY_PATH } from '../cipher/format'
import type { CoreHandler, CoreRequest, CoreResponse } from '../core/http'
import { ContinuumError, toContinuumError } from '../errors'
import { AdapterRegistry } from '../protocol/registry'
import { encryptedExchange } from './encrypted-exchange'
import { clientResponseHeaders, upstreamRequestHeaders } from './headers'
import { type ProxyOptions, type ResolvedProxyOptions, resolveProxyOptions } from './proxy-options'
import { errorResponse, jsonResponse } from './responses'
import { relayStream } from './stream-sealer'

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

async function forwardRaw(
  options: ResolvedProxyOptions,
  request: CoreRequest,
  url: string,
): Promise<CoreResponse> {
  const body =
    request.body.kind === 'empty'
      ? null
      : request.body.kind === 'stream'
        ? request.body.stream
        : request.body.kind === 'bytes'
          ? request.body.bytes
          : JSON.stringify(request.body.value)
  const upstream = await options.upstream.send({
    method: request.method,
    url,
    headers: upstreamRequestHeaders(request.headers, request.body.kind === 'parsed'),
    body,
    signal: request.signal,
  })
  return {
    status: upstream.status,
    headers: clientResponseHeaders(upstream.headers, false),
    body: relayStream(upstream.body, undefined, request.signal),
  }
}

/** Creates the proxy core. Options are validated here; a bad option throws CONTINUUM_INVALID_OPTIONS. */
export function createProxy(proxyOptions: ProxyOptions): ContinuumProxy {
  const options = resolveProxyOptions(proxyOptions, () => new AdapterRegistry(builtinAdapters()))
  const { registry, keyring } = options

  async function dispatch(request: CoreRequest): Promise<CoreResponse | undefined> {
    if (options.handler !== undefined) {
      const answered = await options.handler(request)
      if (answered !== undefined) return answered
    }
    const { path, query } = splitUrl(request.url)
    const lookup = registry.lookup(request.method, path)
    if (lookup.kind === 'match') {
      if (!lookup.match.route.encrypted) return forwardRaw(options, request, request.url)
      return encryptedExchange(options, request, lookup.match, query)
    }
    if (path === AGREEMENT_KEY_PATH && request.method === 'GET') {
      const published = keyring?.published()
      if (published !== undefined) return jsonResponse(200, published, { 'cache-control': 'max-age=300' })
    }
    if (
      options.passThrough.some(
        (prefix) => path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`),
      )
    ) {
      return forwardRaw(options, request, request.url)
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
      try {
        return await dispatch(request)
      } catch (error) {
        // Unexpected failures (not ContinuumErrors) are the ones most worth logging: by code and
        // error class only, since their messages may quote content.
        const failure = toContinuumError(error)
        if (failure.status >= 500 && failure.code !== 'CONTINUUM_UPSTREAM_PROTOCOL_ERROR') {
          options.logger.warn('request failed', {
            code: failure.code,
            status: failure.status,
            ...(failure === error ? {} : { errorClass: error instanceof Error ? error.name : typeof error }),
          })
        }
        return errorResponse(failure)
      }
    },
    close: () => options.upstream.close(),
  }
}
