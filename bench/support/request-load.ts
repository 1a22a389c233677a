/**
 * The request load generator of the capacity benchmark, in its own process: autocannon at a fixed
 * concurrency posting 2 KB chat requests (encrypted ones prepared beforehand, each with its own
 * nonce, so generating them costs nothing during the run), bracketed by readings of the target
 * process's CPU time; then sequential requests interleaved with direct ones to the upstream, for
 * the latency the hop adds (autocannon's histogram has a 1 ms floor, too coarse for that).
 */
import { randomBytes } from 'node:crypto'
import autocannon from 'autocannon'
import { Pool } from 'undici'
import { builtinAdapters } from '../../adapters/index'
import { createFieldKey, encryptRequestMessage } from '../../src/cipher'
import { AdapterRegistry } from '../../src/protocol/registry'
import { CHAT_BODY } from './chat-load'
import { processCpuMicros } from './proc-cpu'

/** What the parent asks for. */
export interface RequestLoadPlan {
  url: string
  directUrl: string
  headers?: Record<string, string>
  key?: string
  connections: number
  seconds: number
  /** Runs of `seconds` each at `connections`. */
  runs: number
  /** Sequential requests measured (after a fifth as many to warm up). */
  sequential: number
  targetPid: number
}

/** One autocannon run. */
export interface ConcurrentRun {
  requestsPerSecond: number
  cpuMicrosPerRequest: number
  /** Target CPU time over wall time. */
  cpuShare: number
  failures: number
}

/** What comes back. */
export interface RequestLoadResult {
  runs: ConcurrentRun[]
  sequentialAddedP50: number
  sequentialAddedP99: number
}

interface Prepared {
  body: string
  headers: Record<string, string>
}

const registry = new AdapterRegistry(builtinAdapters())
const match = registry.lookupSuffix('POST', '/v1/chat/completions')!
const plainBody = JSON.stringify(CHAT_BODY)

function preparer(plan: RequestLoadPlan): () => Prepared {
  const plain: Prepared = {
    body: plainBody,
    headers: { 'content-type': 'application/json', ...plan.headers },
  }
  if (plan.key === undefined) return () => plain
  const key = createFieldKey('bench', Buffer.from(plan.key, 'base64url'))
  return () => {
    const message = encryptRequestMessage({
      tree: match.route.requestTree,
      body: CHAT_BODY,
      context: { key, nonce: randomBytes(16).toString('base64url'), direction: 'request' },
      method: 'POST',
      routePath: '/v1/chat/completions',
      timestamp: String(Date.now()),
      headers: { 'content-type': 'application/json' },
      keyHeaders: { 'x-continuum-key-id': 'bench' },
    })
    return { body: message.text, headers: message.headers }
  }
}

async function concurrent(plan: RequestLoadPlan, prepare: () => Prepared): Promise<ConcurrentRun> {
  // Enough fresh requests for 15,000 a second; a faster target reuses none (it would get 409s).
  const prepared = Array.from({ length: plan.key === undefined ? 1 : plan.seconds * 15_000 }, prepare)
  let next = 0
  const cpuBefore = processCpuMicros(plan.targetPid)
  const started = performance.now()
  const result = await autocannon({
    url: plan.url,
    connections: plan.connections,
    duration: plan.seconds,
    requests: [
      {
        method: 'POST',
        path: '/v1/chat/completions',
        setupRequest: (request) => {
          const one = prepared[next++ % prepared.length]!
          return { ...request, body: one.body, headers: one.headers }
        },
      },
    ],
  })
  const elapsed = (performance.now() - started) / 1000
  const cpu = processCpuMicros(plan.targetPid) - cpuBefore
  const completed = result.requests.total
  return {
    requestsPerSecond: completed / elapsed,
    cpuMicrosPerRequest: cpu / Math.max(1, completed),
    cpuShare: cpu / 1e6 / elapsed,
    failures: result.non2xx + result.errors + result.timeouts,
  }
}

async function send(pool: Pool, request: Prepared): Promise<void> {
  const response = await pool.request({
    path: '/v1/chat/completions',
    method: 'POST',
    headers: request.headers,
    body: request.body,
  })
  const text = await response.body.text()
  if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}: ${text.slice(0, 200)}`)
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}

/** Each request through the target paired with a direct one, so machine noise hits both alike. */
async function sequential(plan: RequestLoadPlan, prepare: () => Prepared): Promise<[number, number]> {
  const direct = new Pool(plan.directUrl, { connections: 1 })
  const through = new Pool(plan.url, { connections: 1 })
  const plain: Prepared = { body: plainBody, headers: { 'content-type': 'application/json' } }
  const warmup = Math.ceil(plan.sequential / 5)
  const directTimes: number[] = []
  const throughTimes: number[] = []
  for (let index = 0; index < plan.sequential + warmup; index++) {
    const request = prepare()
    let started = performance.now()
    await send(direct, plain)
    const directMillis = performance.now() - started
    started = performance.now()
    await send(through, request)
    const throughMillis = performance.now() - started
    if (index < warmup) continue
    directTimes.push(directMillis)
    throughTimes.push(throughMillis)
  }
  await Promise.all([direct.close(), through.close()])
  return [
    quantile(throughTimes, 0.5) - quantile(directTimes, 0.5),
    quantile(throughTimes, 0.99) - quantile(directTimes, 0.99),
  ]
}

async function run(plan: RequestLoadPlan): Promise<RequestLoadResult> {
  const prepare = preparer(plan)
  const [sequentialAddedP50, sequentialAddedP99] = await sequential(plan, prepare)
  const runs: ConcurrentRun[] = []
  for (let index = 0; index < plan.runs; index++) runs.push(await concurrent(plan, prepare))
  return { runs, sequentialAddedP50, sequentialAddedP99 }
}

process.on('message', (plan: RequestLoadPlan) => {
  run(plan).then(
    (result) => process.send?.(result),
    (error: unknown) => process.send?.({ fatal: String(error) }),
  )
})
process.send?.({ ready: true })
