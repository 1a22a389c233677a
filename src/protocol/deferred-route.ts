/**
 * The routes of a deferred adapter before it is loaded: each routes like the real one (method,
 * path, selecting header, `encrypted`) and carries `load`, which loads the adapter once for every
 * route of it and every request of a burst (a failed load is tried again by the next request),
 * compiles its routes and checks that they are exactly the declared ones. Every other member
 * throws, so nothing can read an empty field map in place of the adapter's own.
 */
import { ContinuumError } from '../errors'
import type { DeferredAdapter, ProtocolAdapter, RouteSummary } from './adapter'
import { type CompiledRoute, checkRouting, compileRoute, pathMatchers } from './compiled-route'
import { loadOnce } from './load-once'

/** Members of a compiled route that only the loaded adapter can answer. */
const LOADED_MEMBERS = [
  'operation',
  'facts',
  'cache',
  'modelText',
  'gateway',
  'credentialHeaders',
  'varyHeaders',
  'requestTree',
  'responseTree',
  'stream',
  'validate',
] as const

function invalid(adapter: string, why: string): ContinuumError {
  return new ContinuumError('CONTINUUM_INVALID_OPTIONS', `Adapter "${adapter}": ${why}`)
}

/** Whether a loaded route routes exactly as its summary said. */
function sameRouting(summary: RouteSummary, route: CompiledRoute): boolean {
  return (
    route.method === summary.method &&
    route.path === summary.path &&
    route.header === summary.header &&
    route.encrypted === summary.encrypted
  )
}

/** Compiles the loaded adapter's routes and checks them against the summaries, by name. */
function compileLoaded(deferred: DeferredAdapter, loaded: ProtocolAdapter): Map<string, CompiledRoute> {
  if (loaded?.specificationVersion !== 'v1' || loaded.name !== deferred.name) {
    throw invalid(deferred.name, 'load did not answer the adapter of that name')
  }
  const compiled = new Map(loaded.routes.map((route) => [route.name, compileRoute(loaded, route)]))
  const wrong = deferred.routes.find((summary) => {
    const route = compiled.get(summary.name)
    return route === undefined || !sameRouting(summary, route)
  })
  if (wrong !== undefined || compiled.size !== deferred.routes.length) {
    throw invalid(
      deferred.name,
      `the loaded adapter's routes differ from the declared ones${wrong === undefined ? '' : ` (route "${wrong.name}")`}`,
    )
  }
  return compiled
}

/**
 * The stand-in routes of a deferred adapter. `loaded` hears each stand-in with its compiled route
 * once the adapter is loaded, so the registry can route to the real ones from then on.
 */
export function deferredRoutes(
  deferred: DeferredAdapter,
  loaded: (pairs: readonly (readonly [CompiledRoute, CompiledRoute])[]) => void,
): CompiledRoute[] {
  const name = deferred.name
  const seen = new Set<string>()
  for (const summary of deferred.routes) {
    checkRouting(name, summary)
    if (typeof summary.encrypted !== 'boolean') {
      throw invalid(name, `route "${summary.name}": encrypted must be true or false`)
    }
    if (seen.has(summary.name)) throw invalid(name, `route "${summary.name}" is declared twice`)
    seen.add(summary.name)
  }
  const load = loadOnce(async () => {
    const compiled = compileLoaded(deferred, await deferred.load())
    loaded(standIns.map((standIn) => [standIn, compiled.get(standIn.name)!] as const))
    return compiled
  })
  const standIns = deferred.routes.map((summary): CompiledRoute => {
    const route = {
      adapter: name,
      name: summary.name,
      method: summary.method,
      path: summary.path,
      header: summary.header,
      encrypted: summary.encrypted,
      ...pathMatchers(summary.path),
      load: () => load().then((compiled) => compiled.get(summary.name)!),
    }
    for (const member of LOADED_MEMBERS) {
      Object.defineProperty(route, member, {
        get() {
          throw new ContinuumError(
            'CONTINUUM_INTERNAL',
            `Route "${name}.${summary.name}" is not loaded yet: resolve it with AdapterRegistry.resolve(match)`,
          )
        },
      })
    }
    return route as unknown as CompiledRoute
  })
  return standIns
}
