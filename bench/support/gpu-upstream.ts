/**
 * A fake inference server that behaves like a GPU under continuous batching, in its own process:
 * every active stream gets its tokens on one shared step clock (a decoding step produces a token
 * for every sequence in the batch), the first token after a fixed prefill delay. Each event
 * carries the wall-clock time it was written in `system_fingerprint` (a plain field of the OpenAI
 * chunk, so it survives encryption), in milliseconds with microsecond decimals, so the load
 * generator measures each token's delivery latency through whatever sits in between.
 *
 * Modes (set by the parent over IPC before each run):
 * - `steady`: `rate` tokens per second per stream, written as they are produced;
 * - `burst`: each stream's whole answer written at once, as fast as the socket takes it.
 * A request with `"stream":false` gets a fixed 0.7 KB chat completion at once.
 */
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** What the parent sets before a run. */
export interface UpstreamMode {
  mode: 'steady' | 'burst'
  /** Tokens per second per stream (steady). */
  rate: number
  /** Step period in milliseconds; each step writes `rate * step / 1000` tokens per stream (steady). */
  stepMs: number
  /** Milliseconds from the request to the first token. */
  prefillMs: number
}

let mode: UpstreamMode = { mode: 'steady', rate: 50, stepMs: 20, prefillMs: 5 }

const created = 1_700_000_000
const completion = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created,
  model: 'bench',
  choices: [{ index: 0, message: { role: 'assistant', content: 'x'.repeat(512) }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 500, completion_tokens: 128, total_tokens: 628 },
})

const now = (): number => performance.timeOrigin + performance.now()

/** One SSE event of a chat completion stream, stamped with its write time. */
function tokenEvent(stamp: string, last: boolean): string {
  return `data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":${created},"model":"bench","system_fingerprint":"${stamp}","choices":[{"index":0,"delta":{"content":"${last ? '' : 'token '}"},"finish_reason":${last ? '"stop"' : 'null'}}]}\n\n`
}

interface Active {
  response: ServerResponse
  /** Tokens still to send. */
  remaining: number
  /** Tokens owed by the step clock but not yet written. */
  owed: number
}

const active = new Set<Active>()

/** Writes `count` tokens of a stream in one write; ends it after its last. */
function emit(stream: Active, count: number): void {
  const stamp = now().toFixed(3)
  let text = ''
  const take = Math.min(count, stream.remaining)
  for (let index = 0; index < take; index++) {
    stream.remaining--
    text += tokenEvent(stamp, stream.remaining === 0)
  }
  if (stream.remaining === 0) {
    active.delete(stream)
    stream.response.end(`${text}data: [DONE]\n\n`)
  } else if (text !== '') {
    stream.response.write(text)
  }
}

/** The shared step clock: each step owes every active stream `rate * stepMs / 1000` tokens. */
function step(): void {
  const perStep = (mode.rate * mode.stepMs) / 1000
  for (const stream of active) {
    stream.owed += perStep
    const whole = Math.floor(stream.owed)
    if (whole > 0) {
      stream.owed -= whole
      emit(stream, whole)
    }
  }
}
let clock = setInterval(step, mode.stepMs)

/** Burst mode: the whole answer, in writes the socket accepts, as fast as it drains. */
function burst(response: ServerResponse, tokens: number): void {
  let remaining = tokens
  const writeSome = (): void => {
    while (remaining > 0) {
      const stamp = now().toFixed(3)
      let text = ''
      const take = Math.min(64, remaining)
      for (let index = 0; index < take; index++) text += tokenEvent(stamp, --remaining === 0)
      if (remaining === 0) {
        response.end(`${text}data: [DONE]\n\n`)
        return
      }
      if (!response.write(text)) {
        response.once('drain', writeSome)
        return
      }
    }
  }
  writeSome()
}

const server = createServer((request, response) => {
  const chunks: Buffer[] = []
  request.on('data', (chunk: Buffer) => chunks.push(chunk))
  request.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8')
    if (!body.includes('"stream":true')) {
      response.setHeader('content-type', 'application/json')
      response.end(completion)
      return
    }
    const tokens = Number(/"max_tokens":(\d+)/.exec(body)?.[1] ?? 100)
    response.setHeader('content-type', 'text/event-stream')
    response.flushHeaders()
    setTimeout(() => {
      if (response.destroyed) return
      if (mode.mode === 'burst') return burst(response, tokens)
      const stream: Active = { response, remaining: tokens, owed: 0 }
      emit(stream, 1)
      if (stream.remaining > 0) {
        active.add(stream)
        response.once('close', () => active.delete(stream))
      }
    }, mode.prefillMs)
  })
})
server.keepAliveTimeout = 120_000
server.headersTimeout = 130_000
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))

process.on('message', (message: { type: string; mode?: UpstreamMode }) => {
  if (message.type === 'mode' && message.mode !== undefined) {
    mode = message.mode
    clearInterval(clock)
    clock = setInterval(step, mode.stepMs)
    process.send?.({ type: 'mode-set' })
  }
})
process.send?.({ type: 'ready', port: (server.address() as AddressInfo).port })
