/**
 * `/readyz` answers without authentication, so a flood of it must not become a flood on the
 * inference server. Through the Express middleware on a real socket, with a fake upstream that
 * counts its `/health` probes: 200 concurrent `/readyz` share one probe, its answer is reused
 * until `cacheMs` has passed on the injected clock, and an upstream that never answers is given
 * up after the probe's own `timeoutMs` (one hung probe, aborted; `/readyz` answers 503), however
 * long the Telemetry stage would wait. Then `continuum-proxy serve` with
 * `telemetry.readiness_cache_ms`: the same flood sends one probe.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ContinuumError } from 'continuum-proxy'
import { httpReadinessCheck, Telemetry } from 'continuum-proxy/telemetry'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FakeUpstream, type RecordedRequest } from '../kit/server'
import { killServed, startServe } from '../support/serve-process'
import { type RunningApp, startApp } from './helpers'

const apps: RunningApp[] = []
const upstreams: FakeUpstream[] = []
let folder: string

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'continuum-readyz-'))
})

afterAll(async () => {
  killServed()
  for (const app of apps) await app.close()
  for (const upstream of upstreams) await upstream.close()
  await rm(folder, { recursive: true, force: true })
})

/** A fake inference server whose `/health` answers 200, or never when `hang` is set. */
async function healthServer(hang = false): Promise<{ upstream: FakeUpstream; probes: () => number }> {
  const upstream = await FakeUpstream.start(() =>
    hang ? { kind: 'hang' } : { kind: 'body', status: 200, body: 'ok' },
  )
  upstreams.push(upstream)
  const probes = () =>
    upstream.requests.filter((request: RecordedRequest) => request.url === '/health').length
  return { upstream, probes }
}

async function appProbing(
  upstream: FakeUpstream,
  check: ReturnType<typeof httpReadinessCheck>,
  timeoutMs = 2000,
) {
  const app = await startApp({
    upstream: upstream.url,
    stages: [
      new Telemetry({ tracing: false, readiness: { upstream: check }, readinessTimeoutMs: timeoutMs }),
    ],
  })
  apps.push(app)
  return app
}

/** `count` concurrent GETs of /readyz: their statuses and bodies. */
async function flood(origin: string, count: number): Promise<{ status: number; body: unknown }[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const response = await fetch(`${origin}/readyz`)
      return { status: response.status, body: await response.json() }
    }),
  )
}

describe('/readyz in proxy mode under a flood', () => {
  it('sends one upstream probe for 200 concurrent /readyz, and another only after cacheMs', async () => {
    const { upstream, probes } = await healthServer()
    let now = 1_000_000
    const clock = { now: () => now }
    const check = httpReadinessCheck(`${upstream.url}/health`, { cacheMs: 5000, clock })
    const app = await appProbing(upstream, check)

    const answers = await flood(app.origin, 200)
    expect(answers.every((answer) => answer.status === 200)).toBe(true)
    expect(answers[0]!.body).toEqual({
      status: 'ready',
      checks: { upstream: { ready: true, detail: 'HTTP 200' } },
    })
    expect(probes()).toBe(1)

    now += 4999
    await flood(app.origin, 20)
    expect(probes()).toBe(1)

    now += 1
    const later = await flood(app.origin, 20)
    expect(later.every((answer) => answer.status === 200)).toBe(true)
    expect(probes()).toBe(2)
  })

  it("gives up a hanging upstream after the probe's own timeoutMs, with one probe for all", async () => {
    const { upstream, probes } = await healthServer(true)
    const check = httpReadinessCheck(`${upstream.url}/health`, { timeoutMs: 200, clock: { now: () => 0 } })
    // The stage itself would wait a minute: only the probe's bound ends the wait.
    const app = await appProbing(upstream, check, 60_000)

    const answers = await flood(app.origin, 50)
    for (const answer of answers) {
      expect(answer).toEqual({
        status: 503,
        body: {
          status: 'not_ready',
          checks: { upstream: { ready: false, detail: 'timed out after 200 ms' } },
        },
      })
    }
    expect(probes()).toBe(1)
    // The hung probe was aborted, not left open.
    await upstream.waitForClientClose()
    expect(upstream.requests[0]!.aborted).toBe(true)
  })

  it('refuses a bad cacheMs, timeoutMs or clock at construction', () => {
    for (const options of [{ cacheMs: -1 }, { cacheMs: 1.5 }, { timeoutMs: 0 }, { clock: {} }] as const) {
      let caught: unknown
      try {
        httpReadinessCheck('http://127.0.0.1:8000/health', options as never)
      } catch (error) {
        caught = error
      }
      expect(ContinuumError.isInstance(caught), JSON.stringify(options)).toBe(true)
      expect(caught).toMatchObject({ code: 'CONTINUUM_INVALID_OPTIONS' })
    }
  })
})

describe('continuum-proxy serve with telemetry.readiness_cache_ms', () => {
  it('sends the upstream one probe for 200 concurrent /readyz', async () => {
    const { upstream, probes } = await healthServer()
    const config = join(folder, 'serve.toml')
    await writeFile(
      config,
      [
        '[server]',
        'listen = "127.0.0.1:0"',
        '[upstream]',
        `url = "${upstream.url}"`,
        '[telemetry]',
        'tracing = false',
        'readiness_upstream_path = "/health"',
        'readiness_cache_ms = 600000',
        '',
      ].join('\n'),
    )
    const served = startServe(config)
    const address = await served.listening
    const answers = await flood(address, 200)
    expect(answers.every((answer) => answer.status === 200)).toBe(true)
    expect(probes()).toBe(1)
    served.child.kill('SIGTERM')
    expect((await served.exited).code).toBe(0)
  })
})
