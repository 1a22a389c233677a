/**
 * The server side of the interop tests of the other-language clients (clients/python/tests): the
 * real continuum middleware in Express on 127.0.0.1, over the fake OpenAI, Anthropic and Ollama
 * upstreams the TypeScript suites use, which speak their exact wire protocols. Run with
 * `tsx test/interop/server.ts`: it prints one JSON line with the URL of its control server and
 * exits when its stdin closes, so a crashed test run leaves nothing behind.
 *
 * The control server (plain HTTP, never behind the proxy) lets a test create proxy apps with the
 * keys it chose, rotate and retire their keys, and read what each upstream received:
 *   POST /apps {upstream, mount?, keys?: [{id, keyHex}], agreementKeys?: [{id, privateKeyHex}], graceMs?}
 *     -> {id, url, agreement?: {keyId, fingerprint}}
 *   POST /apps/:id/rotate {key: {id, keyHex}} | {agreementKey: {id, privateKeyHex}} -> {fingerprint?}
 *   POST /apps/:id/retire {id}
 *   GET /upstreams/:name/requests, DELETE /upstreams/:name/requests
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import { continuum } from '../../middleware/express'
import { fingerprint, Keyring, loadAgreementPrivateKey } from '../../src/index'
import { startAnthropicUpstream } from '../kit/anthropic'
import { startOllamaUpstream } from '../kit/ollama'
import { startOpenAIUpstream } from '../kit/openai-echo'

interface KeyInput {
  id: string
  keyHex: string
}

interface AgreementInput {
  id: string
  privateKeyHex: string
}

interface AppRequest {
  upstream: 'openai' | 'anthropic' | 'ollama'
  mount?: string
  keys?: KeyInput[]
  agreementKeys?: AgreementInput[]
  graceMs?: number
}

interface RunningApp {
  keyring: Keyring
  server: Server
  close(): Promise<void>
}

const upstreams = {
  openai: await startOpenAIUpstream(),
  anthropic: await startAnthropicUpstream(),
  ollama: await startOllamaUpstream(),
}
const apps = new Map<number, RunningApp>()
let nextId = 1

const agreementKey = (input: AgreementInput) => ({
  id: input.id,
  privateKey: Buffer.from(input.privateKeyHex, 'hex').toString('base64url'),
})

const publicFingerprint = (input: AgreementInput): string =>
  fingerprint(loadAgreementPrivateKey(agreementKey(input).privateKey).publicKeyBytes)

async function startApp(request: AppRequest): Promise<Record<string, unknown>> {
  const upstream = upstreams[request.upstream]
  if (upstream === undefined) throw new Error(`unknown upstream ${request.upstream}`)
  const keyring = new Keyring({
    keys: (request.keys ?? []).map((key) => ({ id: key.id, key: key.keyHex })),
    agreementKeys: (request.agreementKeys ?? []).map(agreementKey),
    ...(request.graceMs === undefined ? {} : { graceMs: request.graceMs }),
  })
  const middleware = continuum({ upstream: upstream.url, keys: keyring })
  const app = express()
  const mount = request.mount ?? ''
  if (mount === '') app.use(middleware)
  else app.use(mount, middleware)
  const server = app.listen(0, '127.0.0.1')
  await new Promise<void>((resolve) => server.once('listening', () => resolve()))
  const id = nextId++
  apps.set(id, {
    keyring,
    server,
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await middleware.proxy.close()
    },
  })
  const first = request.agreementKeys?.[0]
  return {
    id,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${mount}`,
    ...(first === undefined ? {} : { agreement: { keyId: first.id, fingerprint: publicFingerprint(first) } }),
  }
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  let text = ''
  for await (const part of request) text += part
  return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>)
}

function send(response: ServerResponse, status: number, value: unknown): void {
  response.statusCode = status
  response.setHeader('content-type', 'application/json')
  response.end(JSON.stringify(value))
}

async function control(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://control')
  const parts = url.pathname.split('/').filter((part) => part !== '')
  const body = await readJson(request)
  if (request.method === 'POST' && url.pathname === '/apps') {
    send(response, 200, await startApp(body as unknown as AppRequest))
    return
  }
  if (parts[0] === 'apps' && request.method === 'POST') {
    const app = apps.get(Number(parts[1]))
    if (app === undefined) return send(response, 404, { error: 'no such app' })
    if (parts[2] === 'rotate') {
      const key = body.key as KeyInput | undefined
      const agreement = body.agreementKey as AgreementInput | undefined
      if (key !== undefined) app.keyring.rotate({ id: key.id, key: key.keyHex })
      if (agreement !== undefined) app.keyring.rotateAgreement(agreementKey(agreement))
      return send(response, 200, agreement === undefined ? {} : { fingerprint: publicFingerprint(agreement) })
    }
    if (parts[2] === 'retire') {
      app.keyring.retire(String(body.id))
      return send(response, 200, {})
    }
  }
  if (parts[0] === 'upstreams' && parts[2] === 'requests') {
    const upstream = upstreams[parts[1] as keyof typeof upstreams]
    if (upstream === undefined) return send(response, 404, { error: 'no such upstream' })
    if (request.method === 'DELETE') upstream.requests.splice(0)
    return send(
      response,
      200,
      upstream.requests.map((recorded) => ({
        method: recorded.method,
        url: recorded.url,
        headers: recorded.headers,
        body: recorded.body,
      })),
    )
  }
  send(response, 404, { error: 'unknown control request' })
}

const controlServer = createServer((request, response) => {
  control(request, response).catch((error: unknown) => send(response, 500, { error: String(error) }))
})
await new Promise<void>((resolve) => controlServer.listen(0, '127.0.0.1', resolve))

async function shutdown(): Promise<void> {
  await Promise.all([...apps.values()].map((app) => app.close()))
  await Promise.all(Object.values(upstreams).map((upstream) => upstream.close()))
  controlServer.closeAllConnections()
  controlServer.close()
  process.exit(0)
}

process.stdin.on('end', () => void shutdown())
process.stdin.on('close', () => void shutdown())
process.stdin.resume()
process.on('SIGTERM', () => void shutdown())

process.stdout.write(
  `${JSON.stringify({ control: `http://127.0.0.1:${(controlServer.address() as AddressInfo).port}` })}\n`,
)
