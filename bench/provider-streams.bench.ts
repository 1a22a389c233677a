/**
 * Router provider client costs: how fast ConverseStream's binary event-stream framing is decoded
 * (CRC checks included), and the round trip of `complete()` and a whole `stream()` for the Bedrock,
 * Vertex, TGI and Ollama clients against their loopback fake servers replaying the test
 * transcripts. The round trip includes the fake server's own work, so it is an upper bound on the
 * client's overhead, not a model latency.
 */
import { bedrock } from '../adapters/bedrock/provider'
import { decodeEventStream } from '../adapters/bedrock/wire-event-stream'
import { ollama } from '../adapters/ollama/provider'
import { tgi } from '../adapters/tgi/provider'
import { vertex } from '../adapters/vertex/provider'
import type { CanonicalRequest } from '../src/router/canonical'
import type { InferenceProvider } from '../src/router/provider'
import {
  encodeEvents,
  FAKE_AWS_CREDENTIALS,
  FAKE_AWS_REGION,
  startBedrockServer,
} from '../test/fakes/bedrock-server'
import type { FakeUpstream } from '../test/fakes/fake-upstream'
import { startOllamaServer } from '../test/fakes/ollama-server'
import { startTgiServer } from '../test/fakes/tgi-server'
import { startVertexServer, VERTEX_LOCATION, VERTEX_PROJECT } from '../test/fakes/vertex-server'
import { fixed, median, quantile } from './stats'

const EVENTS = 2000
const ROUNDS = 20
const REQUESTS = 200

async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size)
}

async function decodeBench(): Promise<void> {
  const events = Array.from({ length: EVENTS }, (_, index) => ({
    messageType: 'event' as const,
    type: 'contentBlockDelta',
    payload: { contentBlockIndex: 0, delta: { text: ` token${index}` }, p: 'abcdefghijklmnopqrstuvwxyz' },
  }))
  const bytes = Buffer.concat(encodeEvents(events))
  const perEvent: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const started = performance.now()
    let count = 0
    for await (const _message of decodeEventStream(chunked(bytes, 16 * 1024))) count++
    if (count !== EVENTS) throw new Error('decode lost events')
    perEvent.push(((performance.now() - started) * 1000) / EVENTS)
  }
  const megabytesPerSecond = bytes.length / (median(perEvent) * EVENTS) // bytes per µs = MB/s
  console.log('| event-stream decode | median µs/event | p90 µs/event | MB/s (median) |')
  console.log('|---|---|---|---|')
  console.log(
    `| ${EVENTS} events, 16 KiB chunks | ${fixed(median(perEvent))} | ${fixed(quantile(perEvent, 0.9))} | ${fixed(megabytesPerSecond, 1)} |`,
  )
}

interface Subject {
  name: string
  start(): Promise<FakeUpstream>
  make(url: string): InferenceProvider
  model: string
}

const subjects: Subject[] = [
  {
    name: 'bedrock',
    start: startBedrockServer,
    make: (url) => bedrock({ region: FAKE_AWS_REGION, credentials: FAKE_AWS_CREDENTIALS, baseURL: url }),
    model: 'anthropic.claude-3-5-sonnet-20240620-v1:0',
  },
  {
    name: 'vertex',
    start: () => startVertexServer('token'),
    make: (url) =>
      vertex({ project: VERTEX_PROJECT, location: VERTEX_LOCATION, accessToken: 'token', baseURL: url }),
    model: 'gemini-2.0-flash-001',
  },
  { name: 'tgi', start: () => startTgiServer(), make: (url) => tgi({ baseURL: url }), model: 'tgi' },
  { name: 'ollama', start: startOllamaServer, make: (url) => ollama({ baseURL: url }), model: 'llama3.2' },
]

async function roundTrips(subject: Subject): Promise<{ complete: number[]; stream: number[] }> {
  const fake = await subject.start()
  const provider = subject.make(fake.url)
  const request: CanonicalRequest = { model: subject.model, messages: [{ role: 'user', content: 'Hello' }] }
  const complete: number[] = []
  const stream: number[] = []
  try {
    for (let index = 0; index < 20; index++) await provider.complete(request) // warm-up
    for (let index = 0; index < REQUESTS; index++) {
      const started = performance.now()
      await provider.complete(request)
      complete.push(performance.now() - started)
    }
    for (let index = 0; index < REQUESTS; index++) {
      const started = performance.now()
      for await (const _chunk of provider.stream(request)) {
        // drain
      }
      stream.push(performance.now() - started)
    }
  } finally {
    await provider.close?.()
    await fake.close()
  }
  return { complete, stream }
}

export default async function (): Promise<void> {
  await decodeBench()
  console.log('')
  console.log(
    '| provider (loopback fake) | complete median ms | complete p99 ms | stream median ms | stream p99 ms |',
  )
  console.log('|---|---|---|---|---|')
  for (const subject of subjects) {
    const { complete, stream } = await roundTrips(subject)
    console.log(
      `| ${subject.name} | ${fixed(median(complete))} | ${fixed(quantile(complete, 0.99))} | ${fixed(median(stream))} | ${fixed(quantile(stream, 0.99))} |`,
    )
  }
}
