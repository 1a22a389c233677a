/**
 * The error shape of a refusal written before any route matched, behind the router gateway. A
 * path refused before routing (CONTINUUM_INVALID_PATH: `/v1/messages/`, `/V1/Messages`) or a
 * method a route does not take (CONTINUUM_METHOD_NOT_ALLOWED: `GET /v1/messages`) was written in
 * our own shape even when the path itself says which dialect its client speaks, so an Anthropic
 * client could not read it as Anthropic's error. When every route the path names (the path
 * itself, or for a refused path its normalised readings, under any method) belongs to one adapter,
 * the refusal is written by that adapter's gateway codec, as the routes' own refusals are: the
 * dialect comes from the adapters' declarations and the core names no protocol. A path that names
 * no route, or routes of several adapters, keeps our shape.
 */
import type { CoreRequest } from '../core/http'
import type { ContinuumError } from '../errors'
import type { AdapterRegistry, RouteMatch } from '../protocol/registry'
import { pathReadings } from './path-variants'

/** The routes a path names under the request's method or any other one. */
function routesNamed(registry: AdapterRegistry, request: CoreRequest, path: string): RouteMatch[] {
  const found = registry.lookup(request.method, path, request.headers)
  if (found.kind === 'match') return [found.match]
  if (found.kind === 'none') return []
  const matches: RouteMatch[] = []
  for (const method of found.allowed) {
    const other = registry.lookup(method, path, request.headers)
    if (other.kind === 'match') matches.push(other.match)
  }
  return matches
}

/**
 * The body of a refusal before routing in the dialect its path names, or undefined to keep our
 * shape (another code, no route, several adapters, or no codec that loads).
 */
export async function pathDialectError(
  registry: AdapterRegistry,
  request: CoreRequest,
  path: string,
  failure: ContinuumError,
): Promise<Record<string, unknown> | undefined> {
  let paths: readonly string[]
  if (failure.code === 'CONTINUUM_METHOD_NOT_ALLOWED') paths = [path]
  else if (failure.code === 'CONTINUUM_INVALID_PATH') paths = pathReadings(path)
  else return undefined
  const matches = paths.flatMap((reading) => routesNamed(registry, request, reading))
  if (new Set(matches.map((match) => match.route.adapter)).size !== 1) return undefined
  try {
    for (const match of matches) {
      // A deferred adapter is loaded to write it, as its first request would.
      const resolved = await registry.resolve(match)
      const loadCodec = resolved.route.gateway
      if (loadCodec !== undefined) return (await loadCodec()).error(failure)
    }
  } catch {
    // A codec that does not load leaves our own shape, as on the routes themselves.
  }
  return undefined
}
