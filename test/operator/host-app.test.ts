/**
 * Safe defaults in a host app (issue 13, item 1), in Express, Koa and Fastify, at the root and
 * under `/llm`, with the middleware mounted before the app's own routes: only OpenAI and
 * Anthropic claim routes, the app's `/health`, `/metrics` and `/foo` stay the app's (nothing
 * reaches the inference server), an unknown path gets the app's own not-found answer, an odd path
 * of the app's (`%2F` in an id, `//`) is left to the app, and an odd path that could be read as one
 * of the proxy's routes is still refused with 400 and forwards nothing. Opting in to TGI hands
 * `/health` to the inference server; `unknownRoutes: 'reject'` keeps the 501.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { expectRefusal, SECRET, secretChat, sharedKeys } from '../conformance/support'
import { startOpenAIUpstream } from '../kit/openai-echo'
import type { FakeUpstream } from '../kit/server'
import { type HostApp, hostHarnesses, sendRaw } from './host-apps'

let upstream: FakeUpstream

beforeAll(async () => {
  upstream = await startOpenAIUpstream()
})
afterAll(async () => {
  await upstream.close()
})

describe.each(hostHarnesses)('a host app on $name', (harness) => {
  let app: HostApp
  let before = 0
  const at = (path: string) => `${harness.prefix}${path}`

  beforeAll(async () => {
    app = await harness.start({ upstream: upstream.url, keys: sharedKeys() })
  })
  afterAll(async () => {
    await app.close()
  })
  beforeEach(() => {
    before = upstream.requests.length
  })

  it.each(['/health', '/metrics', '/foo'])('leaves the app its own %s', async (path) => {
    const answer = await sendRaw(app.origin, path)
    expect(answer.status).toBe(200)
    expect(JSON.parse(answer.text)).toEqual({ host: path })
    expect(upstream.requests.length).toBe(before)
  })

  it('serves the OpenAI routes under its mount point', async () => {
    const answer = await sendRaw(app.origin, at('/v1/models'))
    expect(answer.status).toBe(200)
    expect(upstream.requests.slice(before).map((request) => request.url)).toEqual(['/v1/models'])
  })

  it.each([
    ['a path no protocol serves', '/v1/fine_tuning/jobs', 'POST'],
    ['a TGI path (not enabled)', '/generate', 'POST'],
    ['an Ollama path (not enabled)', '/api/tags', 'GET'],
    ['a Triton path (not enabled)', '/v2/models/llama/infer', 'POST'],
  ])('hands %s to the app, which answers its own 404', async (_name, path, method) => {
    const answer = await sendRaw(app.origin, at(path), {
      method,
      ...(method === 'POST' ? { body: JSON.stringify({ inputs: SECRET }) } : {}),
    })
    expect(answer.status).toBe(404)
    expect(JSON.parse(answer.text)).toEqual({ host: 'not-found' })
    expect(upstream.requests.length).toBe(before)
  })

  it('leaves the app its odd paths: an encoded slash in an id, an empty segment', async () => {
    const files = await sendRaw(app.origin, '/files/group%2Fproject')
    expect(files.status).toBe(200)
    expect(JSON.parse(files.text)).toEqual({ host: 'files', id: 'group/project' })
    const empty = await sendRaw(app.origin, at('/foo//bar'))
    expect(JSON.parse(empty.text)).toEqual({ host: 'not-found' })
    expect(upstream.requests.length).toBe(before)
  })

  it.each([
    ['a dot segment', '/v1/models/../chat/completions'],
    ['an empty segment', '/v1//chat/completions'],
    ['a trailing slash', '/v1/chat/completions/'],
    ['an encoded letter', '/v1/%63hat/completions'],
    ['an encoded slash', '/v1/chat%2Fcompletions'],
    ['a case variant behind a dot segment', '/x/../V1/Chat/Completions/.'],
  ])('still refuses %s that reads as a proxy route, forwarding nothing', async (_name, path) => {
    const answer = await sendRaw(app.origin, at(path), { body: JSON.stringify(secretChat()) })
    expectRefusal(answer, 400, 'CONTINUUM_INVALID_PATH')
    expect(upstream.requests.length).toBe(before)
  })
})

describe.each(hostHarnesses)('options of a host app on $name', (harness) => {
  const apps: HostApp[] = []
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()))
  })

  it("hands TGI's /info and /health to the inference server once adapters: ['openai', 'anthropic', 'tgi']", async () => {
    const app = await harness.start({ upstream: upstream.url, adapters: ['openai', 'anthropic', 'tgi'] })
    apps.push(app)
    const before = upstream.requests.length
    await sendRaw(app.origin, `${harness.prefix}/info`)
    const health = await sendRaw(app.origin, `${harness.prefix}/health`)
    if (harness.name === 'fastify') {
      // Fastify prefers an app's static route to the plugin's catch-all: the app keeps /health.
      expect(JSON.parse(health.text)).toEqual({ host: '/health' })
      expect(upstream.requests.slice(before).map((request) => request.url)).toEqual(['/info'])
    } else {
      expect(upstream.requests.slice(before).map((request) => request.url)).toEqual(['/info', '/health'])
    }
  })

  it("answers 501 for an unknown path with unknownRoutes: 'reject'", async () => {
    const app = await harness.start({ upstream: upstream.url, keys: sharedKeys(), unknownRoutes: 'reject' })
    apps.push(app)
    const answer = await sendRaw(app.origin, `${harness.prefix}/v1/fine_tuning/jobs`, {
      body: JSON.stringify({ training_file: SECRET }),
    })
    expectRefusal(answer, 501, 'CONTINUUM_ROUTE_NOT_SUPPORTED')
    if (harness.prefix !== '' || harness.name.startsWith('fastify')) {
      // Outside the prefix, and in Fastify whose own routes win, the app's routes stay its own.
      expect(JSON.parse((await sendRaw(app.origin, '/health')).text)).toEqual({ host: '/health' })
    }
  })
})
