/**
 * Capacity on a GPU host (issue 11): how much CPU the proxy burns per streamed token and per
 * request, next to the floor (a bare node:http + undici relay) and Portkey's gateway, all in the
 * same run. Four processes: a fake inference server stepping M streams on one clock
 * (support/gpu-upstream.ts), the server under test, a load generator (support/stream-load.ts,
 * support/request-load.ts) and this orchestrator. CPU is the server process's own, read from
 * /proc at the edges of each measurement window. Ratios to the floor of the same run are the
 * figures of record; the machine is shared and its absolute speed moves from run to run.
 *
 * Sections (`BENCH_CAPACITY=steady,burst,ramp,requests`, all by default):
 * - steady: 256 streams at 50 tokens/s each, one token per 20 ms step (a busy GPU);
 * - burst: 32 streams looping 1,000-token answers written as fast as the socket drains;
 * - ramp: 256 streams, 10 ms steps, more tokens per step until latency degrades (floor and Koa);
 * - requests: 2 KB chat requests, autocannon at concurrency 64, medians of 3 runs, with the bare
 *   relay also run as each framework's one handler (that framework's floor), and each binding
 *   also with `/v1` passed through unparsed (what the JSON work costs).
 * The servers run the built package, as users do (support/server-process.ts; `BENCH_SOURCES=1` runs
 * the sources through tsx). `BENCH_TARGETS=floor,koa-encrypted,...` picks rows. Encrypted stream clients ask for batch frames
 * (docs/PROTOCOL.md §6.1) as the TypeScript client does; `BENCH_BATCH=0` measures a seal per event.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { fixed, median } from './stats'
import type { UpstreamMode } from './support/gpu-upstream'
import type { RequestLoadPlan, RequestLoadResult } from './support/request-load'
import { forkBenchServer } from './support/server-process'
import type { StreamLoadPlan, StreamLoadResult } from './support/stream-load'

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url))
const sections = new Set((process.env.BENCH_CAPACITY ?? 'steady,burst,ramp,requests').split(','))
const picked = process.env.BENCH_TARGETS?.split(',')
const key = randomBytes(32).toString('base64url')
/** `BENCH_BATCH=0`: encrypted stream clients that do not ask for batch frames (a seal per event). */
const batches = process.env.BENCH_BATCH !== '0'

interface Running {
  url: string
  pid: number
  headers?: Record<string, string>
  stop(): void
}

interface Target {
  name: string
  label: string
  encrypted: boolean
  start(upstreamUrl: string, upstream: Running): Promise<Running>
}

function forkTs(path: string, args: string[] = []): ChildProcess {
  return fork(here(path), args, {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
}

/** The first message of a child, once it is ready. */
function ready<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    child.once('message', (message) => resolve(message as T))
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`child exited with ${code} before it was ready`)))
  })
}

/** Sends one request to a child and waits for its answer. */
function ask<T>(child: ChildProcess, message: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    child.once('message', (answer) => {
      const fatal = (answer as { fatal?: string }).fatal
      if (fatal !== undefined) reject(new Error(fatal))
      else resolve(answer as T)
    })
    child.send(message as object)
  })
}

/** `BENCH_PROFILE=<dir>` writes a V8 CPU profile of every server under test into that folder. */
const profile = process.env.BENCH_PROFILE

async function benchServer(data: Record<string, unknown>): Promise<Running> {
  const child = forkBenchServer(
    data,
    profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profile}`],
  )
  const { port } = await ready<{ port: number }>(child)
  return { url: `http://127.0.0.1:${port}`, pid: child.pid!, stop: () => void child.kill() }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
    server.once('error', reject)
  })
}

/** Portkey's gateway as its npm package runs it (`npx @portkey-ai/gateway`), pointed at the fake upstream. */
async function startPortkey(upstreamUrl: string): Promise<Running> {
  const port = await freePort()
  const child = spawn(
    process.execPath,
    [here('../node_modules/@portkey-ai/gateway/build/start-server.js'), `--port=${port}`, '--headless'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let log = ''
  child.stdout.on('data', (chunk: Buffer) => {
    log += chunk.toString()
  })
  child.stderr.on('data', () => {})
  for (let attempt = 0; attempt < 100 && !log.includes('Ready'); attempt++)
    await new Promise((resolve) => setTimeout(resolve, 100))
  if (!log.includes('Ready')) throw new Error('Portkey gateway did not start')
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    headers: {
      'x-portkey-provider': 'openai',
      'x-portkey-custom-host': `${upstreamUrl}/v1`,
      authorization: 'Bearer bench',
    },
    stop: () => void child.kill(),
  }
}

const proxy = (framework: string, encrypted: boolean): Target => ({
  name: `${framework}-${encrypted ? 'encrypted' : 'plain'}`,
  label: `${framework[0]!.toUpperCase()}${framework.slice(1)}, ${encrypted ? 'encrypted' : 'no keys'}`,
  encrypted,
  start: (upstreamUrl) =>
    benchServer({ role: 'proxy', framework, upstream: upstreamUrl, key, encryption: encrypted }),
})

/**
 * The binding with no adapter claiming the route and `/v1` passed through: the body goes upstream
 * and back as the bytes came, unparsed. Its distance from the no-keys row is what reading,
 * validating and writing the JSON costs; its distance from the framework's relay, the rest.
 */
const passThrough = (framework: string): Target => ({
  name: `${framework}-passthrough`,
  label: `${framework[0]!.toUpperCase()}${framework.slice(1)}, no keys, /v1 passed through (no adapter, no JSON read)`,
  encrypted: false,
  start: (upstreamUrl) => benchServer({ role: 'proxy', framework, upstream: upstreamUrl, passThrough: true }),
})

const ALL_TARGETS: Target[] = [
  {
    name: 'direct',
    label: 'direct to the upstream (no hop)',
    encrypted: false,
    start: async (_, upstream) => upstream,
  },
  {
    name: 'floor',
    label: 'bare node:http + undici relay (the floor)',
    encrypted: false,
    start: (upstreamUrl) => benchServer({ role: 'bare', upstream: upstreamUrl }),
  },
  ...(['express', 'koa', 'fastify'] as const).map(
    (framework): Target => ({
      name: `${framework}-relay`,
      label: `the same relay as ${framework[0]!.toUpperCase()}${framework.slice(1)}'s one handler (its floor)`,
      encrypted: false,
      start: (upstreamUrl) => benchServer({ role: 'bare', framework, upstream: upstreamUrl }),
    }),
  ),
  { name: 'portkey', label: "Portkey's gateway 1.15.2", encrypted: false, start: startPortkey },
  proxy('express', true),
  proxy('koa', true),
  proxy('fastify', true),
  proxy('express', false),
  proxy('koa', false),
  proxy('fastify', false),
  passThrough('express'),
  passThrough('koa'),
  passThrough('fastify'),
]

const chosen = (names: readonly string[]): Target[] =>
  ALL_TARGETS.filter(
    (target) => names.includes(target.name) && (picked === undefined || picked.includes(target.name)),
  )

interface Upstream {
  running: Running
  setMode(mode: UpstreamMode): Promise<void>
}

async function startUpstream(): Promise<Upstream> {
  const child = forkTs('./support/gpu-upstream.ts')
  const { port } = await ready<{ port: number }>(child)
  const running: Running = { url: `http://127.0.0.1:${port}`, pid: child.pid!, stop: () => void child.kill() }
  return { running, setMode: (mode) => ask(child, { type: 'mode', mode }) }
}

async function streamRun(
  target: Running,
  encrypted: boolean,
  plan: Omit<StreamLoadPlan, 'url' | 'targetPid'>,
) {
  const child = forkTs('./support/stream-load.ts')
  try {
    await ready(child)
    return await ask<StreamLoadResult>(child, {
      ...plan,
      url: target.url,
      targetPid: target.pid,
      ...(target.headers === undefined ? {} : { headers: target.headers }),
      ...(encrypted ? { key, batches } : {}),
    } satisfies StreamLoadPlan)
  } finally {
    child.kill()
  }
}

async function requestRun(target: Running, direct: Running, encrypted: boolean): Promise<RequestLoadResult> {
  const child = forkTs('./support/request-load.ts')
  try {
    await ready(child)
    return await ask<RequestLoadResult>(child, {
      url: target.url,
      directUrl: direct.url,
      connections: 64,
      seconds: Number(process.env.BENCH_SECONDS ?? 3),
      runs: 3,
      sequential: 1000,
      targetPid: target.pid,
      ...(target.headers === undefined ? {} : { headers: target.headers }),
      ...(encrypted ? { key } : {}),
    } satisfies RequestLoadPlan)
  } finally {
    child.kill()
  }
}

const ms = (value: number | null): string => (value === null || Number.isNaN(value) ? '-' : fixed(value, 2))
const ratio = (value: number, floor: number | undefined): string =>
  floor === undefined || target0(floor) ? '-' : `${fixed(value / floor, 2)}×`
const target0 = (value: number): boolean => !Number.isFinite(value) || value === 0

async function withTarget<T>(
  target: Target,
  upstream: Upstream,
  run: (running: Running) => Promise<T>,
): Promise<T> {
  const running = await target.start(upstream.running.url, upstream.running)
  try {
    return await run(running)
  } finally {
    if (running !== upstream.running) running.stop()
  }
}

async function steady(upstream: Upstream): Promise<void> {
  const rate = 50
  const streams = 256
  const plan = { streams, tokens: rate * 12, staggerMs: 1000, warmupMs: 2500, windowMs: 6000, loop: false }
  await upstream.setMode({ mode: 'steady', rate, stepMs: 20, prefillMs: 5 })
  console.log(
    `### Steady: ${streams} streams × ${rate} tokens/s (one token per 20 ms step, ${plan.windowMs / 1000} s window)\n`,
  )
  console.log(
    '| target | events/s | server CPU µs/event | × floor | server CPU % | TTFT p50 (ms) | added TTFT p50 | delivery p50 (ms) | delivery p99 | added p50 / p99 | gap p99 (ms) | load generator CPU % | failures |',
  )
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |')
  let direct: StreamLoadResult | undefined
  let floorCpu: number | undefined
  for (const target of chosen([
    'direct',
    'floor',
    'portkey',
    'express-encrypted',
    'koa-encrypted',
    'fastify-encrypted',
    'koa-plain',
  ])) {
    const result = await withTarget(target, upstream, (running) => streamRun(running, target.encrypted, plan))
    const perEvent = result.targetCpuMicros / Math.max(1, result.events)
    if (target.name === 'direct') direct = result
    if (target.name === 'floor') floorCpu = perEvent
    const isDirect = target.name === 'direct'
    console.log(
      `| ${target.label} | ${fixed((result.events * 1000) / result.windowMs, 0)} | ${isDirect ? '-' : fixed(perEvent, 1)} | ${isDirect ? '-' : ratio(perEvent, floorCpu)} | ${isDirect ? '-' : fixed((result.targetCpuMicros / 1000 / result.windowMs) * 100, 0)} | ${ms(result.ttft.p50)} | ${direct === undefined || isDirect ? '-' : ms(result.ttft.p50 - direct.ttft.p50)} | ${ms(result.delivery.p50)} | ${ms(result.delivery.p99)} | ${direct === undefined || isDirect ? '-' : `${ms(result.delivery.p50 - direct.delivery.p50)} / ${ms(result.delivery.p99 - direct.delivery.p99)}`} | ${ms(result.gaps.p99)} | ${fixed((result.generatorCpuMicros / 1000 / result.windowMs) * 100, 0)} | ${result.failures.length === 0 ? 0 : `${result.failures.length}: ${result.failures[0]}`} |`,
    )
  }
}

async function burst(upstream: Upstream): Promise<void> {
  const plan = { streams: 32, tokens: 1000, staggerMs: 200, warmupMs: 1500, windowMs: 5000, loop: true }
  await upstream.setMode({ mode: 'burst', rate: 0, stepMs: 20, prefillMs: 0 })
  console.log(
    `\n### Burst: ${plan.streams} streams looping ${plan.tokens}-token answers written at once (${plan.windowMs / 1000} s window)\n`,
  )
  console.log(
    '| target | events/s | server CPU µs/event | × floor | server CPU % | delivery p50 (ms) | delivery p99 | failures |',
  )
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |')
  let floorCpu: number | undefined
  for (const target of chosen([
    'floor',
    'portkey',
    'express-encrypted',
    'koa-encrypted',
    'fastify-encrypted',
    'koa-plain',
  ])) {
    const result = await withTarget(target, upstream, (running) => streamRun(running, target.encrypted, plan))
    const perEvent = result.targetCpuMicros / Math.max(1, result.events)
    if (target.name === 'floor') floorCpu = perEvent
    console.log(
      `| ${target.label} | ${fixed((result.events * 1000) / result.windowMs, 0)} | ${fixed(perEvent, 2)} | ${ratio(perEvent, floorCpu)} | ${fixed((result.targetCpuMicros / 1000 / result.windowMs) * 100, 0)} | ${ms(result.delivery.p50)} | ${ms(result.delivery.p99)} | ${result.failures.length === 0 ? 0 : `${result.failures.length}: ${result.failures[0]}`} |`,
    )
  }
}

/** Latency has degraded when tokens arrive late (p99 delivery over 50 ms) or fewer than offered. */
const DEGRADED_P99_MS = 50

async function ramp(upstream: Upstream): Promise<void> {
  const streams = 256
  const levels = (process.env.BENCH_RAMP ?? '1,2,4,6,8,12').split(',').map(Number)
  console.log(
    `\n### Ramp: ${streams} streams, 10 ms steps, k tokens per stream per step, until p99 delivery > ${DEGRADED_P99_MS} ms or under 97% delivered\n`,
  )
  console.log(
    '| target | offered events/s | delivered events/s | server CPU % | server CPU µs/event | delivery p50 (ms) | delivery p99 | kept up |',
  )
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |')
  const best = new Map<string, number>()
  for (const target of chosen(['floor', 'koa-encrypted', 'express-encrypted', 'fastify-encrypted'])) {
    await withTarget(target, upstream, async (running) => {
      for (const perStep of levels) {
        const rate = perStep * 100
        await upstream.setMode({ mode: 'steady', rate, stepMs: 10, prefillMs: 5 })
        const plan = {
          streams,
          tokens: Math.ceil(rate * 9.5),
          staggerMs: 1000,
          warmupMs: 2500,
          windowMs: 4000,
          loop: false,
        }
        const result = await streamRun(running, target.encrypted, plan)
        const offered = streams * rate
        const delivered = (result.events * 1000) / result.windowMs
        const kept =
          delivered >= offered * 0.97 &&
          result.delivery.p99 <= DEGRADED_P99_MS &&
          result.failures.length === 0
        if (kept) best.set(target.label, Math.max(best.get(target.label) ?? 0, delivered))
        console.log(
          `| ${target.label} | ${fixed(offered, 0)} | ${fixed(delivered, 0)} | ${fixed((result.targetCpuMicros / 1000 / result.windowMs) * 100, 0)} | ${fixed(result.targetCpuMicros / Math.max(1, result.events), 2)} | ${ms(result.delivery.p50)} | ${ms(result.delivery.p99)} | ${kept ? 'yes' : 'no'} |`,
        )
        if (!kept) break
      }
    })
  }
  for (const [label, rate] of best) console.log(`\n${label}: sustained ${fixed(rate, 0)} events/s`)
}

async function requests(upstream: Upstream): Promise<void> {
  await upstream.setMode({ mode: 'steady', rate: 50, stepMs: 20, prefillMs: 5 })
  console.log('\n### Requests: 2 KB chat completion, autocannon c=64, medians of 3 runs\n')
  console.log(
    "| target | added p50 (ms, sequential) | req/s @64 | × floor | server CPU µs/req | × floor | req/s × its framework's relay | CPU × its framework's relay | failures |",
  )
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |')
  let floor: { rps: number; cpu: number } | undefined
  /** Each framework's relay row: a binding's own cost is its distance from it. */
  const relays = new Map<string, { rps: number; cpu: number }>()
  const names = [
    'floor',
    'express-relay',
    'koa-relay',
    'fastify-relay',
    'portkey',
    'express-encrypted',
    'koa-encrypted',
    'fastify-encrypted',
    'express-plain',
    'koa-plain',
    'fastify-plain',
    'express-passthrough',
    'koa-passthrough',
    'fastify-passthrough',
  ]
  for (const target of chosen(names)) {
    const result = await withTarget(target, upstream, (running) =>
      requestRun(running, upstream.running, target.encrypted),
    )
    const rps = median(result.runs.map((run) => run.requestsPerSecond))
    const cpu = median(result.runs.map((run) => run.cpuMicrosPerRequest))
    const failures = result.runs.reduce((sum, run) => sum + run.failures, 0)
    const [framework, kind] = target.name.split('-') as [string, string | undefined]
    if (target.name === 'floor') floor = { rps, cpu }
    if (kind === 'relay') relays.set(framework, { rps, cpu })
    const relay =
      kind === 'encrypted' || kind === 'plain' || kind === 'passthrough' ? relays.get(framework) : undefined
    console.log(
      `| ${target.label} | ${ms(result.sequentialAddedP50)} | ${fixed(rps, 0)} | ${ratio(rps, floor?.rps)} | ${fixed(cpu, 0)} | ${ratio(cpu, floor?.cpu)} | ${relay === undefined ? '' : ratio(rps, relay.rps)} | ${relay === undefined ? '' : ratio(cpu, relay.cpu)} | ${failures} |`,
    )
  }
}

export default async function capacityBench(): Promise<void> {
  const upstream = await startUpstream()
  try {
    if (sections.has('steady')) await steady(upstream)
    if (sections.has('burst')) await burst(upstream)
    if (sections.has('ramp')) await ramp(upstream)
    if (sections.has('requests')) await requests(upstream)
  } finally {
    upstream.running.stop()
  }
}
