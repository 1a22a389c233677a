/**
 * A route prepared once at registration: its path matchers, compiled field trees and an ajv
 * validator compiled (and, for a schema given as a loader, loaded) on the route's first request,
 * so the per-request path does no parsing of adapter definitions.
 */
import type { ValidateFunction } from 'ajv'
import { compilePlainFields, type PlainFieldTree } from '../cipher/field-map'
import { ContinuumError } from '../errors'
import type {
  ProtocolAdapter,
  RouteCacheDefinition,
  RouteDefinition,
  RouteMethod,
  StreamFraming,
} from './adapter'
import type { FactsReader } from './facts'
import type { GatewayCodec } from './gateway-codec'
import { loadOnce } from './load-once'
import type { ModelTextSegment } from './model-text'
import type { StreamEvent } from './stream-event'

/** The schema compiler, loaded once on first use. */
const loadCompiler = loadOnce(() => import('./schema-compiler'))

/** A route ready for matching and processing. */
export interface CompiledRoute {
  readonly adapter: string
  readonly name: string
  readonly method: RouteMethod
  readonly path: string
  /** The request header that selects the route among routes on the same method and path. */
  readonly header: string | undefined
  readonly encrypted: boolean
  /** The GenAI operation name (`chat`, `embeddings`, ...), or the route name. */
  readonly operation: string
  readonly facts: FactsReader | undefined
  readonly cache: RouteCacheDefinition | undefined
  readonly modelText:
    | ((body: Record<string, unknown>) => ModelTextSegment[] | Promise<ModelTextSegment[]>)
    | undefined
  /** Loads the gateway codec once; undefined when the gateway does not serve the route. */
  readonly gateway: (() => Promise<GatewayCodec>) | undefined
  /** The protocol's credential headers (e.g. `x-api-key`). */
  readonly credentialHeaders: readonly string[]
  /** The protocol's headers that change an answer's shape (e.g. `anthropic-version`). */
  readonly varyHeaders: readonly string[]
  readonly requestTree: PlainFieldTree
  readonly responseTree: PlainFieldTree
  readonly stream: CompiledStream | undefined
  /**
   * Present only on a route of a deferred adapter that is not loaded yet: every member but the
   * routing ones (adapter, name, method, path, header, encrypted, the matchers) throws until then.
   * Loads the adapter once and answers the loaded route; `AdapterRegistry.resolve` calls it.
   */
  readonly load?: () => Promise<CompiledRoute>
  /** Matches a whole path (server side); resolves the path parameters. */
  matchExact(path: string): Record<string, string> | undefined
  /** Matches the end of a path behind any prefix (client side); resolves the matched part. */
  matchSuffix(path: string): string | undefined
  /**
   * Throws CONTINUUM_SCHEMA_VIOLATION naming the failing path. Answers a promise only while a
   * loaded schema is still loading (the route's first requests); synchronous from then on.
   */
  validate(body: unknown): void | Promise<void>
}

/** The compiled stream definition of a route. */
export interface CompiledStream {
  readonly framing: StreamFraming
  readonly tree: PlainFieldTree
  readonly terminal: string | undefined
  /** Recognises the completing event of a stream without a terminal sentinel. */
  readonly isFinal: ((event: Record<string, unknown>, eventName: string) => boolean) | undefined
  isStreaming(body: Record<string, unknown>): boolean
  /** The protocol's error event for a mid-stream failure. */
  errorEvent(error: ContinuumError): StreamEvent
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

function pathPattern(template: string): { source: string; params: string[] } {
  const params: string[] = []
  const source = template
    .split(/(\{[A-Za-z_][A-Za-z0-9_]*\})/)
    .map((part) => {
      if (part.startsWith('{') && part.endsWith('}')) {
        params.push(part.slice(1, -1))
        return '([^/]+)'
      }
      return escapeRegExp(part)
    })
    .join('')
  return { source, params }
}

/** The matchers of a path template: whole paths (server side) and path ends (client side). */
export function pathMatchers(template: string): Pick<CompiledRoute, 'matchExact' | 'matchSuffix'> {
  const { source, params } = pathPattern(template)
  const exact = new RegExp(`^${source}$`)
  const suffix = new RegExp(`${source}$`)
  return {
    matchExact(path) {
      const match = exact.exec(path)
      if (match === null) return undefined
      const values: Record<string, string> = {}
      for (const [index, name] of params.entries()) {
        // A parameter that does not decode matches nothing (the proxy refuses such paths earlier).
        try {
          values[name] = decodeURIComponent(match[index + 1]!)
        } catch {
          return undefined
        }
      }
      return values
    },
    matchSuffix(path) {
      // Templates start with "/", so a match always begins at a segment boundary.
      return suffix.exec(path)?.[0]
    },
  }
}

function defaultErrorEvent(framing: StreamFraming): (error: ContinuumError) => StreamEvent {
  if (framing === 'sse')
    return (error) => ({ name: 'error', data: error.toJSON() as Record<string, unknown> })
  return (error) => ({ data: { error: error.message, code: error.code } })
}

function invalid(adapter: string, route: string, why: string): ContinuumError {
  return new ContinuumError('CONTINUUM_INVALID_OPTIONS', `Adapter "${adapter}", route "${route}": ${why}`)
}

/**
 * Checks what a route routes by (its path and selecting header), for compiled routes and for the
 * declared routes of a deferred adapter alike; throws CONTINUUM_INVALID_OPTIONS.
 */
export function checkRouting(
  adapter: string,
  route: Pick<RouteDefinition, 'name' | 'path' | 'header'>,
): void {
  if (typeof route.path !== 'string' || !route.path.startsWith('/'))
    throw invalid(adapter, route.name, 'path must start with "/"')
  if (route.header !== undefined && !/^[a-z0-9-]+$/.test(route.header)) {
    throw invalid(adapter, route.name, 'header must be a lower-case header name')
  }
}

/** Compiles one route of an adapter; throws CONTINUUM_INVALID_OPTIONS on an inconsistent definition. */
export function compileRoute(adapter: ProtocolAdapter, route: RouteDefinition): CompiledRoute {
  checkRouting(adapter.name, route)
  if (route.encrypted && (route.requestPlain === undefined || route.responsePlain === undefined)) {
    throw invalid(adapter.name, route.name, 'encrypted routes need requestPlain and responsePlain')
  }
  const schema = route.requestSchema
  if (
    schema !== undefined &&
    typeof schema !== 'function' &&
    (typeof schema !== 'object' || schema === null)
  ) {
    throw invalid(
      adapter.name,
      route.name,
      'requestSchema must be a JSON Schema object or a function that loads one',
    )
  }
  if (route.gateway !== undefined && typeof route.gateway !== 'function') {
    throw invalid(adapter.name, route.name, 'gateway must be a function that loads the codec')
  }
  let codec: Promise<GatewayCodec> | undefined
  const loadCodec = route.gateway
  let validator: ValidateFunction | undefined
  // The compiler (and ajv with it) loads with the first request that needs a schema: neither an
  // import of the package nor the browser client, which validates nothing, pays for it.
  const loadValidator =
    schema === undefined
      ? undefined
      : loadOnce(async () => {
          const loaded = typeof schema === 'function' ? await schema() : schema
          if (typeof loaded !== 'object' || loaded === null) {
            throw invalid(
              adapter.name,
              route.name,
              'requestSchema loaded something other than a JSON Schema object',
            )
          }
          validator = (await loadCompiler()).compileSchema(loaded as Record<string, unknown>)
        })
  const check = (body: unknown): void => {
    if (validator!(body)) return
    const first = validator!.errors?.[0]
    const at = first?.instancePath === '' || first === undefined ? '/' : first.instancePath
    throw new ContinuumError(
      'CONTINUUM_SCHEMA_VIOLATION',
      `Request body does not match the ${adapter.name} ${route.name} schema at ${at}: ${first?.message ?? 'invalid'}`,
      { details: { path: at } },
    )
  }
  const stream = route.stream
  const when = stream?.when
  return {
    adapter: adapter.name,
    name: route.name,
    method: route.method,
    path: route.path,
    header: route.header,
    encrypted: route.encrypted,
    operation: route.operation ?? route.name,
    facts: route.facts,
    cache: route.cache,
    modelText: route.modelText,
    gateway:
      loadCodec === undefined
        ? undefined
        : () => {
            codec ??= loadCodec()
            return codec
          },
    credentialHeaders: adapter.credentialHeaders ?? [],
    varyHeaders: adapter.varyHeaders ?? [],
    requestTree: compilePlainFields(route.requestPlain ?? []),
    responseTree: compilePlainFields(route.responsePlain ?? []),
    stream:
      stream === undefined
        ? undefined
        : {
            framing: stream.framing,
            tree: compilePlainFields(stream.plain),
            terminal: stream.terminal,
            isFinal: stream.isFinal,
            isStreaming:
              when === 'always' ? () => true : when === undefined ? (body) => body.stream === true : when,
            errorEvent: stream.errorEvent ?? defaultErrorEvent(stream.framing),
          },
    ...pathMatchers(route.path),
    validate(body) {
      if (validator !== undefined) return check(body)
      if (loadValidator === undefined) return
      return loadValidator().then(() => check(body))
    },
  }
}
