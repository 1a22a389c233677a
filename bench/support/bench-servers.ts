/**
 * Servers for the proxy benchmark, each run in its own child process so the load generator, the
 * proxy and the upstream do not share one event loop (and the proxy's RSS is its own): a fast fake OpenAI upstream (fixed answers,
 * a 1,000-chunk stream on demand), the proxy behind Express, Koa or Fastify, and the bare relay
 * alone or in each framework (the floors).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

interface Data {
  role: 'upstream' | 'proxy' | 'bare'
  framework?: 'express' | 'koa' | 'fastify'
  upstream?: string
  key?: string
  encryption?: boolean
  replayWindowMs?: number
  /** No adapter; `/v1` passed through as bytes (capacity.bench.ts, the pass-through rows). */
  passThrough?: boolean
  /** Run the built package (`continuum-proxy/<framework>`) rather than the sources (support/server-process.ts). */
  built?: boolean
}

const data = JSON.parse(process.argv[2] ?? '{}') as Data
const created = 1_700_000_000
const completion = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created,
  model: 'bench',
  choices: [{ index: 0, message: { role: 'assistant', content: 'x'.repeat(512) }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 500, completion_tokens: 128, total_tokens: 628 },
})
const chunk = `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created, model: 'bench', choices: [{ index: 0, delta: { content: 'token ' }, finish_reason: null }] })}\n\n`

async function startUpstream(): Promise<number> {
  const server = createServer(async (request, response) => {
    let body = ''
    for await (const part of request) body += part
    if (body.includes('"stream":true')) {
      response.setHeader('content-type', 'text/event-stream')
      response.end(`${chunk.repeat(1000)}data: [DONE]\n\n`)
      return
    }
    response.setHeader('content-type', 'application/json')
    response.end(completion)
  })
  server.keepAliveTimeout = 120_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

/** The binding under test: the built package's entry, or its source (run through tsx). */
function binding(framework: 'express' | 'koa' | 'fastify'): string {
  return data.built === true ? `continuum-proxy/${framework}` : `../../middleware/${framework}.ts`
}

async function startProxy(): Promise<number> {
  const options = {
    upstream: { url: data.upstream!, connections: 512 },
    ...(data.encryption === true ? { keys: { keys: [{ id: 'bench', key: data.key! }] } } : {}),
    ...(data.replayWindowMs === undefined ? {} : { replayWindowMs: data.replayWindowMs }),
    ...(data.passThrough === true ? { adapters: [], passThrough: ['/v1'] } : {}),
  }
  if (data.framework === 'fastify') {
    const { default: Fastify } = await import('fastify')
    const { continuum } = await import(binding('fastify'))
    const app = Fastify({ keepAliveTimeout: 120_000 })
    await app.register(continuum, options)
    await app.listen({ port: 0, host: '127.0.0.1' })
    return (app.server.address() as AddressInfo).port
  }
  if (data.framework === 'koa') {
    const { default: Koa } = await import('koa')
    const { continuum } = await import(binding('koa'))
    const app = new Koa()
    app.use(continuum(options))
    const server = app.listen(0, '127.0.0.1')
    server.keepAliveTimeout = 120_000
    await new Promise((resolve) => server.once('listening', resolve))
    return (server.address() as AddressInfo).port
  }
  const { default: express } = await import('express')
  const { continuum } = await import(binding('express'))
  const app = express()
  app.use(continuum(options))
  const server = app.listen(0, '127.0.0.1')
  server.keepAliveTimeout = 120_000
  await new Promise((resolve) => server.once('listening', resolve))
  return (server.address() as AddressInfo).port
}

/**
 * The reference floor: the least a Node proxy can do (read the body, forward it with undici,
 * stream the answer back as it comes), with no framework, validation or encryption. What the
 * real proxy adds beyond this is its own cost; what this adds over calling the upstream directly
 * is the hop itself. With `framework`, the same relay runs as that framework's one handler (Koa
 * middleware, Express middleware, a Fastify catch-all route taking the raw body): the least that
 * framework costs, so a binding's own cost reads as its distance from this row.
 */
async function startBare(): Promise<number> {
  const { Pool } = await import('undici')
  const pool = new Pool(data.upstream!, { connections: 512, keepAliveTimeout: 120_000 })
  const relay = (request: IncomingMessage, response: ServerResponse): void => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      pool
        .request({
          path: request.url ?? '/',
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: Buffer.concat(chunks),
        })
        .then((answer) => {
          response.writeHead(answer.statusCode, {
            'content-type': String(answer.headers['content-type'] ?? 'application/json'),
          })
          answer.body.pipe(response)
        })
        .catch(() => response.destroy())
    })
  }
  if (data.framework === 'fastify') {
    const { default: Fastify } = await import('fastify')
    const app = Fastify({ keepAliveTimeout: 120_000 })
    // The body stays unread for the relay, as the binding takes it.
    app.removeAllContentTypeParsers()
    app.addContentTypeParser('*', (_request, _payload, done) => done(null))
    app.all('/*', (request, reply) => {
      reply.hijack()
      relay(request.raw, reply.raw)
    })
    await app.listen({ port: 0, host: '127.0.0.1' })
    return (app.server.address() as AddressInfo).port
  }
  if (data.framework === 'koa') {
    const { default: Koa } = await import('koa')
    const app = new Koa()
    app.use((context) => {
      context.respond = false
      relay(context.req, context.res)
    })
    return listening(app.listen(0, '127.0.0.1'))
  }
  if (data.framework === 'express') {
    const { default: express } = await import('express')
    const app = express()
    app.use((request, response) => relay(request, response))
    return listening(app.listen(0, '127.0.0.1'))
  }
  return listening(createServer(relay).listen(0, '127.0.0.1'))
}

async function listening(server: Server): Promise<number> {
  server.keepAliveTimeout = 120_000
  if (!server.listening) await new Promise((resolve) => server.once('listening', resolve))
  return (server.address() as AddressInfo).port
}

const port =
  data.role === 'upstream'
    ? await startUpstream()
    : data.role === 'bare'
      ? await startBare()
      : await startProxy()
// A clean exit on SIGTERM, so `--cpu-prof` writes its profile.
process.on('SIGTERM', () => process.exit(0))
process.on('message', (message) => {
  if (message === 'rss') {
    globalThis.gc?.()
    process.send?.({ rss: process.memoryUsage().rss })
  }
})
process.send?.({ port })
