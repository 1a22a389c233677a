/**
 * Koa binding: `app.use(continuum(options))`. The core answers or passes to `next()`; when it
 * answers, Koa's own response handling is switched off (`ctx.respond = false`) and the core's
 * response is written to the node response with backpressure.
 */
import type { Middleware } from 'koa'
import type { ContinuumProxy } from '../src/index'
import { type ContinuumOptions, createBoundProxy } from './bound-proxy'
import { toCoreRequest, writeCoreResponse } from './node-http'

/** Options of the Koa middleware: the proxy options, with protocols by name. */
export interface ContinuumKoaOptions extends ContinuumOptions {}

/** The middleware, with the proxy it runs (to close its pool on shutdown). */
export type ContinuumKoaMiddleware = Middleware & { readonly proxy: ContinuumProxy }

/** Creates the Koa middleware. Options are validated now; a bad option throws CONTINUUM_INVALID_OPTIONS. */
export function continuum(options: ContinuumKoaOptions): ContinuumKoaMiddleware {
  const proxy = createBoundProxy(options)
  const middleware: Middleware = async (context, next) => {
    const parsed = (context.request as { body?: unknown }).body
    const core = toCoreRequest(context.req, context.res, context.url, parsed)
    const result = await proxy.handle(core)
    if (result === undefined) return next()
    context.respond = false
    await writeCoreResponse(context.res, result)
  }
  return Object.assign(middleware, { proxy })
}

export default continuum
export type { ProxyOptions } from '../src/index'
export type { BuiltinProtocol, ContinuumOptions } from './bound-proxy'
