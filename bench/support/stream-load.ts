/**
 * The streaming load generator of the capacity benchmark, in its own process: M concurrent chat
 * streams against one target, each read as a client would (encrypted ones verified and decrypted
 * by the Node client's stream opener, so a broken stream fails the run rather than counting).
 * Every event carries its upstream write time (see gpu-upstream.ts); the generator records the
 * time to first token, each token's delivery latency (receive time minus write time) and the gaps
 * between tokens. The measurement window is bracketed by readings of the target process's CPU
 * time (/proc), taken here so the events counted and the CPU spent cover the same interval.
 */

import { randomBytes } from 'node:crypto'
import { Pool } from 'undici'
import { builtinAdapters } from '../../adapters/index'
import { createFieldKey, encryptRequestMessage } from '../../src/cipher'
import { openStream } from '../../src/client/stream-opener'
import { defaultBackend, deriveFieldKey } from '../../src/client/web-crypto/index'
import { AdapterRegistry } from '../../src/protocol/registry'
import { SseDecoder } from '../../src/streams/sse'
import { CHAT_BODY } from './chat-load'
import { processCpuMicros } from './proc-cpu'

/** What the parent asks for. */
export interface StreamLoadPlan {
  url: string
  /** Extra request headers (Portkey's provider headers). */
  headers?: Record<string, string>
  /** Base64url of the field key; absent for plain targets. */
  key?: string
  /** Whether an encrypted client asks for batch frames, as the TypeScript client does (§6.1). */
  batches?: boolean
  streams: number
  /** Tokens per stream. */
  tokens: number
  /** Spread of the stream starts, in milliseconds. */
  staggerMs: number
  /** Start of the measurement window after the first stream started, in milliseconds. */
  warmupMs: number
  windowMs: number
  /** Start a new stream whenever one ends (burst mode), until the window closed. */
  loop: boolean
  /** Process whose CPU time is read at the window's edges. */
  targetPid: number
}

/** Median and 99th percentile of a series, in milliseconds. */
export interface Spread {
  p50: number
  p99: number
}

/** What comes back. */
export interface StreamLoadResult {
  events: number
  windowMs: number
  targetCpuMicros: number
  generatorCpuMicros: number
  ttft: Spread
  firstDelivery: Spread
  delivery: Spread
  gaps: Spread
  failures: string[]
}

/** The samples while a run goes on. */
interface Samples {
  events: number
  windowMs: number
  targetCpuMicros: number
  generatorCpuMicros: number
  ttft: number[]
  firstDelivery: number[]
  delivery: number[]
  gaps: number[]
  failures: string[]
}

function spread(values: number[]): Spread {
  const sorted = Float64Array.from(values).sort()
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN
  return { p50: at(0.5), p99: at(0.99) }
}

const now = (): number => performance.timeOrigin + performance.now()
const STAMP = '"system_fingerprint":"'
const registry = new AdapterRegistry(builtinAdapters())
const match = registry.lookupSuffix('POST', '/v1/chat/completions')!

async function run(plan: StreamLoadPlan): Promise<StreamLoadResult> {
  const pool = new Pool(plan.url, { connections: plan.streams + 8, keepAliveTimeout: 120_000 })
  const fieldKey =
    plan.key === undefined ? undefined : createFieldKey('bench', Buffer.from(plan.key, 'base64url'))
  // The client opens streams with its own handles for the same key.
  const clientKey =
    fieldKey === undefined ? undefined : await deriveFieldKey(defaultBackend(), fieldKey.id, fieldKey.aesKey)
  const result: Samples = {
    events: 0,
    windowMs: 0,
    targetCpuMicros: 0,
    generatorCpuMicros: 0,
    ttft: [],
    firstDelivery: [],
    delivery: [],
    gaps: [],
    failures: [],
  }
  const started = now()
  let windowOpen = false
  let windowClosed = false
  let cpuAtOpen = 0
  let generatorAtOpen = 0
  let openedAt = 0
  const opening = setTimeout(() => {
    cpuAtOpen = processCpuMicros(plan.targetPid)
    generatorAtOpen = process.cpuUsage().user + process.cpuUsage().system
    openedAt = now()
    windowOpen = true
  }, plan.warmupMs)
  const closing = new Promise<void>((resolve) =>
    setTimeout(() => {
      result.targetCpuMicros = processCpuMicros(plan.targetPid) - cpuAtOpen
      const usage = process.cpuUsage()
      result.generatorCpuMicros = usage.user + usage.system - generatorAtOpen
      result.windowMs = now() - openedAt
      windowOpen = false
      windowClosed = true
      resolve()
    }, plan.warmupMs + plan.windowMs),
  )

  const body = { ...CHAT_BODY, stream: true, max_tokens: plan.tokens }
  function request(): {
    body: string
    headers: Record<string, string>
    open(source: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array>
  } {
    if (fieldKey === undefined) {
      return {
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json', ...plan.headers },
        open: (source) => source,
      }
    }
    const nonce = randomBytes(16).toString('base64url')
    const context = { key: fieldKey, nonce, direction: 'request' as const }
    const message = encryptRequestMessage({
      tree: match.route.requestTree,
      body,
      context,
      method: 'POST',
      routePath: '/v1/chat/completions',
      timestamp: String(Date.now()),
      headers: { 'content-type': 'application/json' },
      keyHeaders: { 'x-continuum-key-id': 'bench' },
    })
    const batches = plan.batches === true
    return {
      body: message.text,
      headers: batches ? { ...message.headers, 'x-continuum-batch': '1' } : message.headers,
      open: (source) =>
        openStream(
          source,
          match.route.stream!,
          { ...context, key: clientKey!, direction: 'response' },
          { batches },
        ),
    }
  }

  async function oneStream(): Promise<void> {
    const prepared = request()
    const sentAt = now()
    const response = await pool.request({
      path: '/v1/chat/completions',
      method: 'POST',
      headers: prepared.headers,
      body: prepared.body,
    })
    if (response.statusCode !== 200) {
      const text = await response.body.text()
      throw new Error(`status ${response.statusCode}: ${text.slice(0, 200)}`)
    }
    const decoder = new SseDecoder()
    let last = 0
    let first = true
    for await (const chunk of prepared.open(response.body)) {
      const receivedAt = now()
      for (const event of decoder.push(chunk)) {
        const at = event.data.indexOf(STAMP)
        if (at === -1) continue
        const stamp = Number(event.data.slice(at + STAMP.length, event.data.indexOf('"', at + STAMP.length)))
        if (first) {
          first = false
          result.ttft.push(receivedAt - sentAt)
          result.firstDelivery.push(receivedAt - stamp)
        } else if (windowOpen) {
          result.gaps.push(receivedAt - last)
        }
        if (windowOpen) {
          result.events++
          result.delivery.push(receivedAt - stamp)
        }
        last = receivedAt
      }
    }
  }

  async function worker(index: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, (plan.staggerMs * index) / plan.streams))
    do {
      try {
        await oneStream()
      } catch (error) {
        result.failures.push(String((error as Error).message ?? error))
        if (result.failures.length > 20) return
      }
    } while (plan.loop && !windowClosed)
  }

  await Promise.all([closing, ...Array.from({ length: plan.streams }, (_, index) => worker(index))])
  clearTimeout(opening)
  await pool.close()
  void started
  return {
    ...result,
    ttft: spread(result.ttft),
    firstDelivery: spread(result.firstDelivery),
    delivery: spread(result.delivery),
    gaps: spread(result.gaps),
  }
}

process.on('message', (plan: StreamLoadPlan) => {
  run(plan).then(
    (result) => process.send?.(result),
    (error: unknown) => process.send?.({ fatal: String(error) }),
  )
})
process.send?.({ ready: true })
