/**
 * A relay that relabels an encrypted answer's `content-encoding`, seen by the official OpenAI SDK
 * over `createEncryptedFetch` on real sockets. No response header is sealed, and Node's fetch
 * decodes what the label says on its own: a stream labelled `gzip`, `br` or `deflate` over bytes
 * that are not used to fail as a bare `TypeError: terminated`; it is refused with
 * CONTINUUM_RESPONSE_INTEGRITY_FAILED, as the JSON answer already was. An honest compression on
 * the path still opens, and a relay that cuts the connection still reads as a lost connection.
 */
import { createServer, request as httpRequest, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gzipSync } from 'node:zlib'
import { createEncryptedFetch } from 'continuum-proxy/client'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type BrowserServers, startBrowserServers } from '../browser/servers'
import { replyFor } from '../kit/openai-echo'

type Mode = 'label' | 'compress' | 'cut'

let servers: BrowserServers
let relay: Server
let relayUrl: string

/** Forwards to the middleware; the first path segment says what to do, the second which coding. */
function startRelay(target: URL): Promise<Server> {
  const server = createServer((incoming, outgoing) => {
    const [, mode, coding, ...rest] = (incoming.url ?? '/').split('/') as [string, Mode, string, ...string[]]
    const forward = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: `/${rest.join('/')}`,
        method: incoming.method,
        headers: { ...incoming.headers, host: target.host, 'accept-encoding': 'identity' },
      },
      (answer) => {
        const headers = { ...answer.headers }
        delete headers['content-length']
        if (mode === 'cut') {
          outgoing.writeHead(answer.statusCode ?? 502, headers)
          answer.once('data', (chunk: Buffer) => {
            outgoing.write(chunk.subarray(0, Math.max(1, chunk.length - 20)))
            outgoing.socket?.destroy()
          })
          return
        }
        if (mode === 'label') {
          outgoing.writeHead(answer.statusCode ?? 502, { ...headers, 'content-encoding': coding })
          answer.pipe(outgoing)
          return
        }
        // An honest compression: the whole answer gzipped, as a buffering proxy would.
        const chunks: Buffer[] = []
        answer.on('data', (chunk: Buffer) => chunks.push(chunk))
        answer.on('end', () => {
          outgoing.writeHead(answer.statusCode ?? 502, { ...headers, 'content-encoding': 'gzip' })
          outgoing.end(gzipSync(Buffer.concat(chunks)))
        })
      },
    )
    incoming.pipe(forward)
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

beforeAll(async () => {
  servers = await startBrowserServers(() => 'null')
  relay = await startRelay(new URL(servers.url))
  relayUrl = `http://127.0.0.1:${(relay.address() as AddressInfo).port}`
})

afterAll(async () => {
  await new Promise((resolve) => relay?.close(resolve))
  await servers?.close()
})

function client(mode: Mode, coding: string): OpenAI {
  return new OpenAI({
    baseURL: `${relayUrl}/${mode}/${coding}/v1`,
    apiKey: 'sk-test',
    maxRetries: 0,
    fetch: createEncryptedFetch({ keyId: servers.keyId, key: servers.key }),
  })
}

async function streamed(openai: OpenAI, prompt: string): Promise<string> {
  const events = await openai.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: prompt }],
    stream: true,
  })
  let text = ''
  for await (const chunk of events) text += chunk.choices[0]?.delta.content ?? ''
  return text
}

const codeOf = (failure: unknown): unknown => {
  const error = failure as { code?: unknown; cause?: { code?: unknown } }
  return error.cause?.code ?? error.code
}

describe('a relabelled content-encoding on an encrypted answer', () => {
  it.each(['gzip', 'br', 'deflate'])(
    'refuses a stream labelled %s over bytes that are not',
    async (coding) => {
      const failure = await streamed(client('label', coding), 'label me').catch((error: unknown) => error)
      expect(failure).toBeInstanceOf(Error)
      expect(codeOf(failure)).toBe('CONTINUUM_RESPONSE_INTEGRITY_FAILED')
      expect(String((failure as Error).message)).not.toContain('label me')
    },
  )

  it.each(['gzip', 'br', 'deflate'])('refuses a JSON answer labelled %s', async (coding) => {
    const failure = await client('label', coding)
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'json' }] })
      .catch((error: unknown) => error)
    expect(codeOf(failure)).toBe('CONTINUUM_RESPONSE_INTEGRITY_FAILED')
  })

  it('opens a stream and a JSON answer a proxy on the path honestly gzipped', async () => {
    expect(await streamed(client('compress', 'gzip'), 'zipped stream')).toBe(replyFor('zipped stream'))
    const answer = await client('compress', 'gzip').chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'zipped json' }],
    })
    expect(answer.choices[0]?.message.content).toBe(replyFor('zipped json'))
  })

  it('leaves a connection cut mid-stream a lost connection, not an integrity failure', async () => {
    const failure = await streamed(client('cut', 'identity'), 'cut me').catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(Error)
    expect(codeOf(failure)).not.toBe('CONTINUUM_RESPONSE_INTEGRITY_FAILED')
  })
})
