/**
 * A small round-robin load balancer for the multi-instance suite, standing in for the third-party
 * one in front of a fleet: each request goes to the next instance in turn, its body and answer
 * streamed through untouched. It also records what it relayed (method, path, headers, body, and
 * which instance took it), so a test can replay a captured request to another instance as an
 * attacker on the path would.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One relayed request, as it went through. */
export interface RelayedRequest {
  readonly method: string
  readonly path: string
  readonly headers: IncomingHttpHeaders
  readonly body: Buffer
  /** Index of the instance that took it. */
  readonly target: number
}

/** A running relay. */
export interface RoundRobinRelay {
  readonly url: string
  readonly relayed: RelayedRequest[]
  close(): Promise<void>
}

/** Relays to `targets` (origins like `http://127.0.0.1:1234`) in turn. */
export async function startRoundRobinRelay(targets: readonly string[]): Promise<RoundRobinRelay> {
  let next = 0
  const relayed: RelayedRequest[] = []
  const server: Server = createServer(async (incoming, outgoing) => {
    const target = next
    next = (next + 1) % targets.length
    const chunks: Buffer[] = []
    for await (const chunk of incoming) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks)
    relayed.push({ method: incoming.method!, path: incoming.url!, headers: incoming.headers, body, target })
    const origin = new URL(targets[target]!)
    const forward = httpRequest(
      {
        host: origin.hostname,
        port: origin.port,
        method: incoming.method,
        path: incoming.url,
        headers: { ...incoming.headers, host: origin.host },
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(outgoing)
      },
    )
    forward.on('error', () => {
      if (!outgoing.headersSent) outgoing.writeHead(502)
      outgoing.end()
    })
    forward.end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    relayed,
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
