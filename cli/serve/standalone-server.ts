/**
 * The node:http server of `continuum-proxy serve`: every request goes to the proxy through the
 * same translation the Express and Koa bindings use (middleware/node-http.ts); a request the proxy
 * leaves to "the host app" gets 404 here, since there is none. `drain()` is the graceful stop:
 * no new connections, idle keep-alive connections closed, answers in flight (streams included)
 * written to their end with `connection: close`, and whatever is still open after the timeout cut.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { toCoreRequest, writeCoreResponse } from '../../middleware/node-http'
import { ContinuumError, type ContinuumProxy, errorResponse } from '../../src/index'
import { listenOnUnixSocket, type UnixSocketBinding } from './unix-socket'

/** Where to listen: TCP host and port, or a Unix socket. */
export type ListenAddress = { readonly host: string; readonly port: number } | { readonly socket: string }

/** Parses `server.listen`: `host:port`, `[v6]:port` or `unix:/path`. */
export function parseListen(text: string): ListenAddress {
  if (text.startsWith('unix:')) return { socket: text.slice('unix:'.length) }
  const colon = text.lastIndexOf(':')
  const host = text.slice(0, colon).replace(/^\[(.*)\]$/, '$1')
  return { host, port: Number(text.slice(colon + 1)) }
}

/** Settings of the server itself ([server]). */
export interface StandaloneServerOptions {
  readonly listen: ListenAddress
  /**
   * Octal file mode of a Unix socket, e.g. `660`; the socket has it from the moment it has its name.
   * @default the umask's
   */
  readonly socketMode?: string
  readonly keepAliveTimeoutMs: number
  readonly headersTimeoutMs: number
  /** Longest time to receive a whole request, body included. */
  readonly requestTimeoutMs: number
}

/** A listening server. */
export interface StandaloneServer {
  /** `http://host:port` or `unix:/path`. */
  readonly address: string
  /** Requests whose answer has not ended yet. */
  readonly inFlight: number
  /** Closes the listening socket and the idle connections; answers in flight go on. Idempotent. */
  stopAccepting(): void
  /** Stops gracefully; resolves whether everything in flight finished within `timeoutMs`. */
  drain(timeoutMs: number): Promise<boolean>
}

const NOT_FOUND = new ContinuumError('CONTINUUM_ROUTE_NOT_SUPPORTED', 'No route serves this path', {
  status: 404,
})

/** Starts the server; resolves once it listens. */
export async function startStandaloneServer(
  proxy: ContinuumProxy,
  options: StandaloneServerOptions,
): Promise<StandaloneServer> {
  let inFlight = 0
  let draining = false
  let settle: (() => void) | undefined
  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    inFlight++
    response.once('close', () => {
      inFlight--
      if (inFlight === 0) settle?.()
    })
    // While draining, every answer ends its connection: a keep-alive client reconnects elsewhere.
    if (draining) response.setHeader('connection', 'close')
    proxy
      .handle(toCoreRequest(request, response, request.url ?? '/', undefined))
      .then((answer) => writeCoreResponse(response, answer ?? errorResponse(NOT_FOUND)))
      .catch(() => response.destroy())
  }
  const server: Server = createServer(
    {
      keepAliveTimeout: options.keepAliveTimeoutMs,
      headersTimeout: options.headersTimeoutMs,
      // The only bound on a body the proxy never reads (a 200 answer keeps the connection), so a
      // client trickling one cannot hold its socket for good. Streamed answers are not limited.
      requestTimeout: options.requestTimeoutMs,
      // node:http enforces both timeouts only at each check (every 30 s by default).
      connectionsCheckingInterval: Math.max(
        100,
        Math.min(30_000, Math.floor(Math.min(options.headersTimeoutMs, options.requestTimeoutMs) / 4)),
      ),
    },
    handle,
  )
  let socket: UnixSocketBinding | undefined
  if ('socket' in options.listen) {
    const mode = options.socketMode === undefined ? undefined : Number.parseInt(options.socketMode, 8)
    socket = await listenOnUnixSocket(server, options.listen.socket, mode)
  } else {
    const { port, host } = options.listen
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => {
        server.off('error', reject)
        resolve()
      })
    })
  }
  let closed: Promise<void> | undefined
  const stopAccepting = (): void => {
    draining = true
    closed ??= new Promise<void>((resolve) => server.close(() => resolve())).then(() => socket?.release())
    server.closeIdleConnections()
  }
  let address: string
  if ('socket' in options.listen) address = `unix:${options.listen.socket}`
  else {
    const bound = server.address() as AddressInfo
    address = `http://${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`
  }
  return {
    address,
    get inFlight() {
      return inFlight
    },
    stopAccepting,
    async drain(timeoutMs) {
      stopAccepting()
      const finished =
        inFlight === 0 ||
        (await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), timeoutMs)
          settle = () => {
            clearTimeout(timer)
            resolve(true)
          }
        }))
      server.closeAllConnections()
      await closed
      return finished
    },
  }
}
