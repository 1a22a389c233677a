/**
 * Starts a fake upstream on 127.0.0.1, port 0: reads and records each request, then hands it to a
 * protocol handler. Shared by the Anthropic, Triton, TGI and Ollama fakes so each of them holds
 * only its protocol's wire format.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One request as the fake received it. */
export interface RecordedRequest {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
}

/** A running fake upstream. */
export interface FakeUpstream {
  url: string
  server: Server
  requests: RecordedRequest[]
  close(): Promise<void>
}

/** A protocol handler: the recorded request (body read) and the response to write. */
export type FakeHandler = (request: RecordedRequest, response: ServerResponse) => Promise<void> | void

/** Writes a JSON body. */
export function sendJson(response: ServerResponse, status: number, value: unknown): void {
  response.statusCode = status
  response.setHeader('content-type', 'application/json')
  response.end(JSON.stringify(value))
}

/** Lets the written bytes reach the proxy, then drops the connection mid-response. */
export async function cutConnection(response: ServerResponse): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 20))
  response.socket?.destroy()
}

async function read(request: IncomingMessage): Promise<RecordedRequest> {
  let body = ''
  for await (const part of request) body += part
  return { method: request.method ?? '', url: request.url ?? '', headers: request.headers, body }
}

/** Starts a fake upstream with the given handler. */
export async function startFakeServer(handler: FakeHandler): Promise<FakeUpstream> {
  const requests: RecordedRequest[] = []
  const server = createServer((request, response) => {
    read(request)
      .then(async (recorded) => {
        requests.push(recorded)
        await handler(recorded, response)
      })
      .catch(() => response.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
