/**
 * Express binding: `app.use(continuum(options))`. It translates Express's request into the core
 * shape (using `req.body` when a body parser already ran, the raw stream otherwise) and writes the
 * core's response back. Paths are relative to the mount point, so `app.use('/llm', ...)` works.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import type { ContinuumProxy } from '../src/index'
import { type ContinuumOptions, createBoundProxy } from './bound-proxy'
import { toCoreRequest, writeCoreResponse } from './node-http'

/** Options of the Express middleware: the proxy options, with protocols by name. */
export interface ContinuumExpressOptions extends ContinuumOptions {}

/** The middleware, with the proxy it runs (to close its pool on shutdown). */
export type ContinuumExpressMiddleware = RequestHandler & { readonly proxy: ContinuumProxy }

/** Creates the Express middleware. Options are validated now; a bad option throws CONTINUUM_INVALID_OPTIONS. */
export function continuum(options: ContinuumExpressOptions): ContinuumExpressMiddleware {
  const proxy = createBoundProxy(options)
  const middleware = (request: Request, response: Response, next: NextFunction): void => {
    const core = toCoreRequest(request, response, request.url, request.body)
    proxy
      .handle(core)
      .then((result) => (result === undefined ? next() : writeCoreResponse(response, result)), next)
  }
  return Object.assign(middleware, { proxy })
}

export default continuum
export type { ProxyOptions } from '../src/index'
export type { BuiltinProtocol, ContinuumOptions } from './bound-proxy'
