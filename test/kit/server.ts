/**
 * The one fake-server core every protocol fake in test/kit runs on: a real `node:http` server on
 * 127.0.0.1 port 0 (or a Unix socket) that hands each request to a protocol route and writes the
 * reply it returns. Tests can queue scripted replies ahead of the route (error statuses, streams
 * cut mid-way, answers that never come). The server records every request, marks each one whose
 * client went away before the answer ended, counts those early closes, and counts the bytes of a
 * streamed answer the socket accepted, so tests can check aborts and backpressure.
 */
import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createServer as createNetServer } from 'node:net'

/** A request as the fake received it. */
export interface RecordedRequest {
  method: string
  /** Path and query, exactly as sent. */
  url: string
  /** Header names in lower case; repeated headers joined with `, `. */
  headers: Record<string, string>
  /** The body as UTF-8 text; complete once the request has been read. */
  body: string
  /** The body's bytes, for signatures and binary checks. */
  bytes: Buffer
  // biome-ignore lint/suspicious/noExplicitAny: fakes read arbitrary JSON bodies in assertions
  json(): any
  /** Set when the client closed the connection before the answer ended (the proxy aborted). */
  aborted: boolean
  /** Bytes of a streamed answer the socket has taken so far. */
  sent: number
}

/** How the fake answers one request. */
export type Reply =
  | {
      kind: 'body'
      status?: number
      /** An array writes one header line per value (`set-cookie`). */
      headers?: Record<string, string | string[]>
      body: string | Uint8Array
    }
  | {
      kind: 'chunks'
      status?: number
      headers?: Record<string, string>
      /** Written one by one, each after the socket took the last, with backpressure. */
      chunks: Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>
      /** After the chunks: end the answer, destroy the socket, or keep it open until the client leaves. */
      ending?: 'end' | 'destroy' | 'hold'
    }
  /** Never answers; the socket stays open until the client gives up. */
  | { kind: 'hang' }
  /** Drops the connection without a word: the client sees a reset before any header. */
  | { kind: 'reset' }

/** The route a protocol fake answers with when nothing is queued. */
export type Route = (request: RecordedRequest) => Reply | Promise<Reply>

/** Where the fake listens. */
export interface FakeUpstreamOptions {
  /**
   * Listen on this Unix socket instead of 127.0.0.1 port 0; `url` is then `http://localhost`.
   * @default undefined
   */
  socketPath?: string
}

/** See the module comment. */
export class FakeUpstream {
  readonly requests: RecordedRequest[] = []
  /** Number of answers whose connection the client closed before the answer ended. */
  clientCloses = 0
  readonly server: Server
  readonly #route: Route
  readonly #queue: Reply[] = []
  readonly #closeWaiters: Array<() => void> = []
  #url = ''

  private constructor(route: Route) {
    this.#route = route
    this.server = createServer((request, response) => {
      this.#handle(request, response).catch(() => response.destroy())
    })
  }

  /** Starts a fake that answers with `route`; `close()` it after the test. */
  static async start(route: Route, options: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
    const fake = new FakeUpstream(route)
    if (options.socketPath !== undefined) fake.server.listen(options.socketPath)
    else fake.server.listen(0, '127.0.0.1')
    await once(fake.server, 'listening')
    fake.#url =
      options.socketPath !== undefined
        ? 'http://localhost'
        : `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`
    return fake
  }

  /** `http://127.0.0.1:<port>`, or `http://localhost` on a Unix socket. */
  get url(): string {
    return this.#url
  }

  /** Answers the next requests with `replies`, in order, instead of the route. */
  queue(...replies: Reply[]): void {
    this.#queue.push(...replies)
  }

  /** Resolves when a client has closed a connection before its answer ended. */
  waitForClientClose(): Promise<void> {
    if (this.clientCloses > 0) return Promise.resolve()
    return new Promise((resolve) => this.#closeWaiters.push(resolve))
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    this.server.close()
    await once(this.server, 'close')
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value
    }
    const recorded: RecordedRequest = {
      method: request.method ?? 'GET',
      url: request.url ?? '/',
      headers,
      body: '',
      bytes: Buffer.alloc(0),
      json: () => JSON.parse(recorded.body),
      aborted: false,
      sent: 0,
    }
    // Recorded on arrival, so a request whose upload never finishes still shows as forwarded.
    this.requests.push(recorded)
    response.once('close', () => {
      if (response.writableFinished) return
      recorded.aborted = true
      this.clientCloses++
      for (const resolve of this.#closeWaiters.splice(0)) resolve()
    })
    const chunks: Buffer[] = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    recorded.bytes = Buffer.concat(chunks)
    recorded.body = recorded.bytes.toString('utf8')
    let reply: Reply
    try {
      reply = this.#queue.shift() ?? (await this.#route(recorded))
    } catch (error) {
      reply = {
        kind: 'body',
        status: 500,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ fakeServerError: String(error) }),
      }
    }
    await send(reply, response, recorded)
  }
}

/** Resolves once the socket has taken `chunk`, or false when the connection closed first. */
function write(response: ServerResponse, chunk: string | Uint8Array): Promise<boolean> {
  if (response.destroyed) return Promise.resolve(false)
  return new Promise((resolve) => {
    const onClose = (): void => resolve(false)
    response.once('close', onClose)
    response.write(chunk, (error) => {
      response.off('close', onClose)
      resolve(error === undefined || error === null)
    })
  })
}

async function send(reply: Reply, response: ServerResponse, recorded: RecordedRequest): Promise<void> {
  if (reply.kind === 'hang') return
  if (reply.kind === 'reset') {
    response.socket?.destroy()
    return
  }
  response.writeHead(reply.status ?? 200, reply.headers ?? {})
  if (reply.kind === 'body') {
    response.end(reply.body)
    return
  }
  response.flushHeaders()
  for await (const chunk of reply.chunks) {
    // Each write waits until the socket took the last one, so the client sees the stream arrive in
    // pieces, and a reader that stops reading stops the fake too.
    if (!(await write(response, chunk))) return
    recorded.sent += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength
  }
  if (reply.ending === 'destroy') response.socket?.destroy()
  else if (reply.ending !== 'hold') response.end()
}

/** A port nothing listens on: bound once, then released. */
export async function closedPort(): Promise<number> {
  const server = createNetServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  server.close()
  await once(server, 'close')
  return port
}
