/**
 * A real `node:http` server on port 0 that plays an inference provider in tests. Each protocol's
 * fake (`test/fakes/<protocol>-server.ts`) gives it a route function that checks what the client
 * sent and answers from recorded transcripts; a test can queue scripted replies (error statuses,
 * streams cut mid-way, answers that never come) ahead of the route. The server records every
 * request and notices when a client closes a connection before the answer ended.
 */
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A request as the fake received it. */
export interface RecordedRequest {
  method: string
  /** Path and query, exactly as sent. */
  url: string
  headers: Record<string, string>
  body: Buffer
  // biome-ignore lint/suspicious/noExplicitAny: fakes read arbitrary JSON bodies in assertions
  json(): any
}

/** How the fake answers one request. */
export type Reply =
  | { kind: 'body'; status?: number; headers?: Record<string, string>; body: string | Uint8Array }
  | {
      kind: 'chunks'
      status?: number
      headers?: Record<string, string>
      chunks: Array<string | Uint8Array>
      /** After the chunks: end the answer, destroy the socket, or keep it open until the client leaves. */
      ending?: 'end' | 'destroy' | 'hold'
    }
  /** Never answers; the socket stays open until the client gives up. */
  | { kind: 'hang' }

/** A JSON answer. */
export function jsonReply(body: unknown, status = 200, headers: Record<string, string> = {}): Reply {
  return {
    kind: 'body',
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  }
}

/** Reads a transcript file from test/fixtures/transcripts/<protocol>/. */
export function transcript(protocol: string, name: string): string {
  return readFileSync(new URL(`../fixtures/transcripts/${protocol}/${name}`, import.meta.url), 'utf8')
}

/** Splits a transcript into its lines, keeping each terminator, so it is sent as several writes. */
export function transcriptLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? []
}

/** The route a protocol fake answers with when nothing is queued. */
export type Route = (request: RecordedRequest) => Reply | Promise<Reply>

/** See the module comment. */
export class FakeUpstream {
  readonly requests: RecordedRequest[] = []
  /** Number of answers whose connection the client closed before the answer ended. */
  clientCloses = 0
  readonly #server: Server
  readonly #route: Route
  readonly #queue: Reply[] = []
  readonly #closeWaiters: Array<() => void> = []

  private constructor(route: Route) {
    this.#route = route
    this.#server = createServer((request, response) => {
      void this.#handle(request, response)
    })
  }

  static async start(route: Route): Promise<FakeUpstream> {
    const fake = new FakeUpstream(route)
    fake.#server.listen(0, '127.0.0.1')
    await once(fake.#server, 'listening')
    return fake
  }

  /** `http://127.0.0.1:<port>` */
  get url(): string {
    const address = this.#server.address() as AddressInfo
    return `http://127.0.0.1:${address.port}`
  }

  /** Answers the next request with `reply` instead of the route. */
  queue(...replies: Reply[]): void {
    this.#queue.push(...replies)
  }

  /** Resolves when a client has closed a connection before its answer ended. */
  waitForClientClose(): Promise<void> {
    if (this.clientCloses > 0) return Promise.resolve()
    return new Promise((resolve) => this.#closeWaiters.push(resolve))
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections()
    this.#server.close()
    await once(this.#server, 'close')
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value
    }
    const body = Buffer.concat(chunks)
    const recorded: RecordedRequest = {
      method: request.method ?? 'GET',
      url: request.url ?? '/',
      headers,
      body,
      json: () => JSON.parse(body.toString('utf8')),
    }
    this.requests.push(recorded)
    response.on('close', () => {
      if (!response.writableFinished) {
        this.clientCloses++
        for (const resolve of this.#closeWaiters.splice(0)) resolve()
      }
    })
    let reply: Reply
    try {
      reply = this.#queue.shift() ?? (await this.#route(recorded))
    } catch (error) {
      reply = jsonReply({ fakeServerError: String(error) }, 500)
    }
    await this.#send(reply, response)
  }

  async #send(reply: Reply, response: ServerResponse): Promise<void> {
    if (reply.kind === 'hang') return
    if (reply.kind === 'body') {
      response.writeHead(reply.status ?? 200, reply.headers ?? {})
      response.end(reply.body)
      return
    }
    response.writeHead(reply.status ?? 200, reply.headers ?? {})
    response.flushHeaders()
    for (const chunk of reply.chunks) {
      if (response.destroyed) return
      response.write(chunk)
      // Separate writes so the client sees the stream arrive in pieces.
      await new Promise((resolve) => setImmediate(resolve))
    }
    if (reply.ending === 'destroy') response.socket?.destroy()
    else if (reply.ending !== 'hold') response.end()
  }
}
