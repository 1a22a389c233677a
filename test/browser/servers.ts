/**
 * The server side of the browser tests: the real continuum middleware in Express on loopback
 * port 0 over the fake OpenAI upstream, with the CORS a web application's page needs, and a
 * man-in-the-middle relay in front of it whose first path segment picks what it does to the
 * traffic: `pass` relays verbatim, `tamper` rewrites a plain field of a JSON answer, `truncate`
 * ends a stream cleanly just before its end marker, `swap` publishes the relay's own agreement
 * key instead of the server's, `redirect` forwards a POST and then answers 307 to another origin,
 * `classical` sets `classical: true` in the hybrid key document it relays (keeping its
 * fingerprint) and `classical-restated` does so and states the fingerprint of the document as
 * altered. Two more mounts publish hybrid post-quantum keys, which the browser build cannot agree
 * yet: `/pq` also agrees classically with clients that lack ML-KEM, `/pq-only` does not.
 */
import { randomBytes } from 'node:crypto'
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fingerprint, hybridFingerprint, Keyring, loadAgreementPrivateKey } from 'continuum-proxy'
import { continuum } from 'continuum-proxy/express'
import express, { type RequestHandler } from 'express'
import { startOpenAIUpstream } from '../kit/openai-echo'
import type { FakeUpstream } from '../kit/server'

/**
 * What a deployment that serves browsers must configure: the page's origin allowed, the request
 * headers the SDK and the protocol send allowed in the preflight, and the two protocol response
 * headers exposed, without which the client can read no answer and refuses every one.
 */
export function corsFor(origin: () => string): RequestHandler {
  return (request, response, next) => {
    if (request.headers.origin !== origin()) return next()
    response.setHeader('access-control-allow-origin', origin())
    response.setHeader('vary', 'origin')
    response.setHeader('access-control-expose-headers', 'x-continuum-encrypted, x-continuum-seal')
    if (request.method !== 'OPTIONS') return next()
    response.setHeader('access-control-allow-methods', 'GET, POST')
    response.setHeader(
      'access-control-allow-headers',
      request.headers['access-control-request-headers'] ?? '',
    )
    response.setHeader('access-control-max-age', '600')
    response.status(204).end()
  }
}

export interface BrowserServers {
  /** The middleware's base URL (its OpenAI routes are under `/v1`). */
  url: string
  /** The relay's base URL; append `/<mode>/v1`. */
  relay: string
  upstream: FakeUpstream
  keyId: string
  /** The pre-shared key, base64url. */
  key: string
  /** The pinned fingerprint of the server's agreement key. */
  agreementFingerprint: string
  /** The fingerprints of the hybrid keys under `/pq` (classical allowed) and `/pq-only`. */
  hybridFingerprints: { pq: string; pqOnly: string }
  /** Request bodies the relay carried to the middleware, as they travelled. */
  carried: string[]
  close(): Promise<void>
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function readAll(stream: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const part of stream) parts.push(part as Buffer)
  return Buffer.concat(parts)
}

/** Starts the upstream, the middleware and the relay; `origin` is read per request (the page starts later). */
export async function startBrowserServers(origin: () => string): Promise<BrowserServers> {
  const upstream = await startOpenAIUpstream()
  const key = randomBytes(32).toString('base64url')
  const agreementKey = randomBytes(32).toString('base64url')
  const keyring = new Keyring({
    keys: [{ id: 'k-browser', key }],
    agreementKeys: [{ id: 'a-browser', privateKey: agreementKey }],
  })
  const middleware = continuum({ upstream: upstream.url, keys: keyring })
  const hybrid = (id: string, classical: boolean) =>
    Keyring.create({
      agreementKeys: [
        {
          id,
          privateKey: randomBytes(32).toString('base64url'),
          algorithm: 'X25519MLKEM768-HKDF-SHA256',
          classical,
        },
      ],
    })
  const [pqKeys, pqOnlyKeys] = await Promise.all([hybrid('pq-browser', true), hybrid('pq-only', false)])
  const pq = continuum({ upstream: upstream.url, keys: pqKeys })
  const pqOnly = continuum({ upstream: upstream.url, keys: pqOnlyKeys })
  const app = express()
  app.use(corsFor(origin))
  app.use('/pq-only', pqOnly)
  app.use('/pq', pq)
  app.use(middleware)
  const server = app.listen(0, '127.0.0.1')
  await new Promise<void>((resolve) => server.once('listening', () => resolve()))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const target = new URL(url)

  const attacker = loadAgreementPrivateKey(randomBytes(32).toString('base64url'))
  const carried: string[] = []
  const relay = createServer(async (incoming, outgoing) => {
    const [, mode = '', ...rest] = (incoming.url ?? '/').split('/')
    const path = `/${rest.join('/')}`
    const body = await readAll(incoming)
    if (mode === 'swap' && path === '/.well-known/continuum-key') {
      const publicKey = attacker.publicKeyBytes.toString('base64url')
      outgoing.writeHead(200, {
        'content-type': 'application/json',
        'access-control-allow-origin': origin(),
      })
      outgoing.end(
        JSON.stringify({ keyId: 'a-browser', publicKey, fingerprint: fingerprint(attacker.publicKeyBytes) }),
      )
      return
    }
    if (incoming.method === 'POST') carried.push(body.toString('utf8'))
    const headers = { ...incoming.headers, host: target.host }
    const forwarded = httpRequest({
      host: target.hostname,
      port: target.port,
      method: incoming.method,
      path,
      headers,
    })
    forwarded.on('response', async (answer) => {
      const answerHeaders = { ...answer.headers }
      if (mode === 'redirect' && incoming.method === 'POST') {
        await readAll(answer)
        outgoing.writeHead(307, {
          location: 'http://evil.invalid/v1/chat/completions',
          'access-control-allow-origin': origin(),
        })
        outgoing.end()
        return
      }
      const type = String(answer.headers['content-type'] ?? '')
      if (mode.startsWith('classical') && path.endsWith('/.well-known/continuum-key')) {
        const document = JSON.parse((await readAll(answer)).toString('utf8')) as Record<string, string>
        const altered: Record<string, unknown> = { ...document, classical: true }
        if (mode === 'classical-restated') {
          altered.fingerprint = hybridFingerprint(
            Buffer.from(document.mlKemPublicKey!, 'base64url'),
            Buffer.from(document.publicKey!, 'base64url'),
            true,
          )
        }
        delete answerHeaders['content-length']
        outgoing.writeHead(answer.statusCode ?? 502, answerHeaders)
        outgoing.end(JSON.stringify(altered))
        return
      }
      if (mode === 'tamper' && type.startsWith('application/json')) {
        const text = (await readAll(answer)).toString('utf8').replace('"gpt-4o-mini"', '"gpt-4o"')
        delete answerHeaders['content-length']
        outgoing.writeHead(answer.statusCode ?? 502, answerHeaders)
        outgoing.end(text)
        return
      }
      if (mode === 'truncate' && type.startsWith('text/event-stream')) {
        const text = (await readAll(answer)).toString('utf8')
        delete answerHeaders['content-length']
        outgoing.writeHead(answer.statusCode ?? 502, answerHeaders)
        outgoing.end(text.slice(0, text.indexOf('event: continuum.end')))
        return
      }
      outgoing.writeHead(answer.statusCode ?? 502, answerHeaders)
      answer.pipe(outgoing)
    })
    forwarded.on('error', () => outgoing.destroy())
    forwarded.end(body)
  })
  const relayUrl = await listen(relay)
  return {
    url,
    relay: relayUrl,
    upstream,
    keyId: 'k-browser',
    key,
    agreementFingerprint: fingerprint(loadAgreementPrivateKey(agreementKey).publicKeyBytes),
    hybridFingerprints: { pq: pqKeys.published()!.fingerprint, pqOnly: pqOnlyKeys.published()!.fingerprint },
    carried,
    async close() {
      for (const running of [server, relay]) {
        running.closeAllConnections()
        await new Promise<void>((resolve) => running.close(() => resolve()))
      }
      await Promise.all([middleware, pq, pqOnly].map((running) => running.proxy.close()))
      await upstream.close()
    },
  }
}
