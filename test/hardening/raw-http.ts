/**
 * HTTP/1.1 on a bare TCP socket, for attacks no well-behaved client makes: a body that stalls or
 * trickles, a client that never stops sending, a path sent exactly as written. The exchange
 * records what came back and whether (and when the test saw that) the server closed the socket.
 */
import { connect, type Socket } from 'node:net'

/** One raw connection. */
export interface RawExchange {
  readonly socket: Socket
  /** Everything the server sent so far. */
  text(): string
  /** The status of the first response, once its head arrived. */
  status(): number | undefined
  /** The JSON body of the first response (content-length framed). */
  json(): { error?: { code?: string } } & Record<string, unknown>
  /** Resolves when the server closed (or reset) the connection. */
  readonly closed: Promise<void>
  /** Resolves when the first response head arrived. */
  readonly answered: Promise<void>
}

/** Opens a connection to `origin` and writes `head` (and optionally the start of a body). */
export async function openRaw(
  origin: string,
  head: string,
  start: string | Buffer = '',
): Promise<RawExchange> {
  const { hostname, port } = new URL(origin)
  const socket = connect(Number(port), hostname)
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  let received = ''
  let onAnswer: () => void = () => undefined
  const answered = new Promise<void>((resolve) => {
    onAnswer = resolve
  })
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1')
    if (received.includes('\r\n\r\n')) onAnswer()
  })
  // A reset after the answer is one way of closing.
  socket.on('error', () => undefined)
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  socket.write(head)
  if (start.length > 0) socket.write(start)
  return {
    socket,
    text: () => received,
    status: () => {
      const match = /^HTTP\/1\.1 (\d{3})/.exec(received)
      return match === null ? undefined : Number(match[1])
    },
    json: () => {
      const at = received.indexOf('\r\n\r\n')
      const length = Number(/\r\ncontent-length: (\d+)/i.exec(received)?.[1] ?? '0')
      return JSON.parse(
        Buffer.from(received.slice(at + 4), 'latin1')
          .subarray(0, length)
          .toString('utf8'),
      )
    },
    closed,
    answered,
  }
}

/** The head of a POST with the given headers (lower-case names, CRLF framing). */
export function postHead(path: string, headers: Record<string, string>): string {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`)
  return `POST ${path} HTTP/1.1\r\nhost: proxy\r\n${lines.join('\r\n')}\r\n\r\n`
}

/** Keeps writing `chunk` every `everyMs` until the socket closes; returns a stop function. */
export function keepSending(socket: Socket, chunk: string | Buffer, everyMs: number): () => void {
  const timer = setInterval(() => {
    if (!socket.destroyed && socket.writable) socket.write(chunk)
  }, everyMs)
  socket.once('close', () => clearInterval(timer))
  return () => clearInterval(timer)
}
