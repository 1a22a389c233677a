/**
 * Router provider client costs: how fast ConverseStream's binary event-stream framing is decoded
 * (CRC checks included), and the round trip of `complete()` and a whole `stream()` for the Bedrock,
 * Vertex, TGI and Ollama clients against their loopback fake servers replaying the test
 * transcripts. The round trip includes the fake server's own work, so it is an upper bound on the
 * client's overhead, not a model latency.
 */
import { bedrock, ollama, tgi, vertex } from 'continuum-proxy/providers'
import { decodeEventStream } from '../adapters/bedrock/provider/wire-event-stream'
import { encodeEvents, FAKE_AWS_CREDENTIALS, FAKE_AWS_REGION, startBedrockServer } from '../test/kit/bedrock'
import { startOllamaServer } from '../test/kit/ollama'
import { startTgiServer } from '../test/kit/tgi'
import { startVertexServer, VERTEX_LOCATION, VERTEX_PROJECT } from '../test/kit/vertex'
import { fixed, median, quantile } from './stats'
import { chunked, type ProviderSubject, printRoundTrips } from './support/provider-round-trips'

const EVENTS = 2000
const ROUNDS = 20
const REQUESTS = 200

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

const subjects: ProviderSubject[] = [
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

export default async function (): Promise<void> {
  await decodeBench()
  console.log('')
  await printRoundTrips(subjects, REQUESTS)
}
