/**
 * The harness of the core scenarios: no framework and no socket between the client and the proxy.
 * `createProxy().handle` (with the built-in protocols, as every binding sets them) serves a
 * `fetch` that turns each WHATWG request into a CoreRequest (the body as a byte stream, the
 * request's signal as the client's) and each CoreResponse back into a Response, so the official
 * SDKs and the encrypting fetch run against the core exactly as they do against a binding. What a
 * binding can break (bodies, limits, aborts, backpressure, mounting, `next()`) is checked on the
 * six socket harnesses of frameworks.ts instead. The upstream side stays real: fakes on sockets.
 */
import { type CoreRequest, type CoreResponse, createProxy, type ProxyOptions } from 'continuum-proxy'
import { builtinAdapters } from 'continuum-proxy/adapters'
import { APP_FALLBACK_STATUS, type FrameworkHarness, type RunningApp } from './frameworks'

const ORIGIN = 'http://in-process.test'
const NO_BODY_STATUSES = new Set([101, 204, 205, 304])

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes
}

/** A web stream over the core's body; cancelling it returns the iterator, as a closed socket would. */
function streamOf(body: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const iterator = body[Symbol.asyncIterator]()
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await iterator.next()
      if (next.done === true) controller.close()
      else controller.enqueue(next.value)
    },
    async cancel() {
      await iterator.return?.()
    },
  })
}

function toResponse(core: CoreResponse, method: string): Response {
  const headers = new Headers()
  for (const [name, value] of Object.entries(core.headers)) {
    for (const line of typeof value === 'string' ? [value] : value) headers.append(name, line)
  }
  const init = { status: core.status, headers }
  const body = core.body
  if (method === 'HEAD' || NO_BODY_STATUSES.has(core.status) || body === null) return new Response(null, init)
  if (typeof body === 'string') return new Response(body, init)
  if (body instanceof Uint8Array) return new Response(Buffer.from(body), init)
  return new Response(streamOf(body), init)
}

/** The proxy behind a fetch; requests the core leaves to the host app get the app's 418 fallback. */
function coreFetch(handle: (request: CoreRequest) => Promise<CoreResponse | undefined>): typeof fetch {
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init)
    const url = new URL(request.url)
    const headers: Record<string, string> = {}
    request.headers.forEach((value, name) => {
      headers[name] = value
    })
    const bytes = new Uint8Array(await request.arrayBuffer())
    const answered = await handle({
      method: request.method,
      url: url.pathname + url.search,
      headers,
      body: bytes.byteLength === 0 ? { kind: 'empty' } : { kind: 'stream', stream: once(bytes) },
      signal: request.signal,
      remoteAddress: '127.0.0.1',
    })
    if (answered === undefined) {
      return Response.json(
        { handledBy: 'app', path: url.pathname + url.search },
        { status: APP_FALLBACK_STATUS },
      )
    }
    return toResponse(answered, request.method)
  }) as typeof fetch
}

/** The in-process harness, shaped like the framework ones. */
export const inProcess: FrameworkHarness = {
  name: 'in-process core',
  prefix: '',
  async start(options: ProxyOptions): Promise<RunningApp> {
    const proxy = createProxy({ ...options, adapters: options.adapters ?? builtinAdapters() })
    return { url: ORIGIN, origin: ORIGIN, fetch: coreFetch(proxy.handle), close: () => proxy.close() }
  },
}
