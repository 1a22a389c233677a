/**
 * The AdapterRegistry: every protocol the proxy speaks, looked up by method and path. Static paths
 * resolve through a Map in O(1); templated paths (Triton's `/v2/models/{model}/...`) are tried in
 * registration order. Third parties extend it with `registry.register(defineAdapter(...))`. A
 * deferred adapter (`deferAdapter`) is registered by its routes alone and loaded on the first
 * request one of them serves: `resolve(match)` answers the loaded route.
 */
import { ContinuumError } from '../errors'
import { brand } from '../internal/brand'
import type { DeferredAdapter, ProtocolAdapter } from './adapter'
import { type CompiledRoute, compileRoute } from './compiled-route'
import { deferredRoutes } from './deferred-route'

/** The result of a successful match. */
export interface RouteMatch {
  readonly route: CompiledRoute
  /** Path parameters, e.g. `{ model: 'llama' }`. */
  readonly params: Readonly<Record<string, string>>
  /** The part of the path the route matched (without mount prefix or query); bound into seals. */
  readonly routePath: string
}

/** The outcome of a lookup. */
export type RouteLookup =
  | { readonly kind: 'match'; readonly match: RouteMatch }
  | { readonly kind: 'method-not-allowed'; readonly allowed: readonly string[] }
  | { readonly kind: 'none' }

const NONE: RouteLookup = { kind: 'none' }

/** Routes selected by a header come before the one that serves every request on their path. */
function byHeaderFirst(left: CompiledRoute, right: CompiledRoute): number {
  return (left.header === undefined ? 1 : 0) - (right.header === undefined ? 1 : 0)
}

/** Whether a route serves a request with these headers: a route with a `header` needs it present. */
function selects(route: CompiledRoute, headers: Readonly<Record<string, string | undefined>>): boolean {
  return route.header === undefined || headers[route.header] !== undefined
}

/** Protocol adapters by route. */
export class AdapterRegistry {
  readonly #adapters = new Map<string, ProtocolAdapter | DeferredAdapter>()
  readonly #static = new Map<string, CompiledRoute[]>()
  readonly #templated: CompiledRoute[] = []
  readonly #all: CompiledRoute[] = []

  constructor(adapters: readonly (ProtocolAdapter | DeferredAdapter)[] = []) {
    for (const adapter of adapters) this.register(adapter)
  }

  /**
   * Adds an adapter, or a deferred one to load on first use; throws CONTINUUM_INVALID_OPTIONS on a
   * duplicate name or route, or a bad definition.
   */
  register(adapter: ProtocolAdapter | DeferredAdapter): this {
    if (adapter.specificationVersion !== 'v1') {
      throw new ContinuumError(
        'CONTINUUM_INVALID_OPTIONS',
        `Adapter "${adapter.name}": unsupported specification version`,
      )
    }
    if (this.#adapters.has(adapter.name)) {
      throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', `Adapter "${adapter.name}" is already registered`)
    }
    const compiled =
      'load' in adapter
        ? deferredRoutes(adapter, (pairs) => this.#replace(pairs))
        : adapter.routes.map((route) => compileRoute(adapter, route))
    for (const [index, route] of compiled.entries()) {
      // Routes may share a method and path when a request header tells them apart.
      const clash = [...this.#all, ...compiled.slice(0, index)].find(
        (other) =>
          other.method === route.method && other.path === route.path && other.header === route.header,
      )
      if (clash !== undefined) {
        throw new ContinuumError(
          'CONTINUUM_INVALID_OPTIONS',
          `Adapter "${adapter.name}": ${route.method} ${route.path} is already served by "${clash.adapter}"`,
        )
      }
    }
    this.#adapters.set(adapter.name, adapter)
    for (const route of compiled) {
      this.#all.push(route)
      if (route.path.includes('{')) this.#templated.push(route)
      else this.#static.set(route.path, [...(this.#static.get(route.path) ?? []), route].sort(byHeaderFirst))
    }
    if (this.#templated.length > 1) this.#templated.sort(byHeaderFirst)
    return this
  }

  /** Puts a deferred adapter's loaded routes where its stand-ins were. */
  #replace(pairs: readonly (readonly [CompiledRoute, CompiledRoute])[]): void {
    const swap = (list: CompiledRoute[]): void => {
      for (const [standIn, route] of pairs) {
        const index = list.indexOf(standIn)
        if (index !== -1) list[index] = route
      }
    }
    swap(this.#all)
    swap(this.#templated)
    for (const list of this.#static.values()) swap(list)
  }

  /**
   * The match with its route loaded: the match itself, unless its route belongs to a deferred
   * adapter not loaded yet, which this loads (once for a burst; a failed load is tried again).
   */
  resolve(match: RouteMatch): RouteMatch | Promise<RouteMatch> {
    const load = match.route.load
    if (load === undefined) return match
    return load().then((route) => ({ ...match, route }))
  }

  /** Registered adapter names. */
  get names(): string[] {
    return [...this.#adapters.keys()]
  }

  /**
   * Finds the route for a request path (no query) relative to the mount point. HEAD is served as
   * GET. Of routes on the same method and path, one whose `header` the request carries wins.
   */
  lookup(
    requestMethod: string,
    path: string,
    headers: Readonly<Record<string, string | undefined>> = {},
  ): RouteLookup {
    const method = requestMethod === 'HEAD' ? 'GET' : requestMethod
    const candidates = this.#static.get(path)
    if (candidates !== undefined) {
      const route = candidates.find((candidate) => candidate.method === method && selects(candidate, headers))
      if (route !== undefined) return { kind: 'match', match: { route, params: {}, routePath: path } }
      return {
        kind: 'method-not-allowed',
        allowed: [...new Set(candidates.map((candidate) => candidate.method))],
      }
    }
    const allowed: string[] = []
    for (const route of this.#templated) {
      const params = route.matchExact(path)
      if (params === undefined) continue
      if (route.method === method && selects(route, headers))
        return { kind: 'match', match: { route, params, routePath: path } }
      allowed.push(route.method)
    }
    return allowed.length > 0 ? { kind: 'method-not-allowed', allowed: [...new Set(allowed)] } : NONE
  }

  /** Finds the route whose template ends the given path (client side, behind any base-URL prefix). */
  lookupSuffix(
    method: string,
    path: string,
    headers: Readonly<Record<string, string | undefined>> = {},
  ): RouteMatch | undefined {
    let best: RouteMatch | undefined
    for (const route of this.#all) {
      if (route.method !== method) continue
      if (route.header !== undefined && headers[route.header] === undefined) continue
      const routePath = route.matchSuffix(path)
      if (routePath !== undefined && (best === undefined || routePath.length > best.routePath.length)) {
        best = { route, params: {}, routePath }
      }
    }
    return best
  }
}

brand(AdapterRegistry.prototype, 'AdapterRegistry')
