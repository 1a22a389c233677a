/**
 * Stream decoding cost (issue 9, hardening): one long SSE `data:` line delivered in 1 KiB chunks,
 * which a decoder that rescans its pending line on every chunk handles in quadratic time; a
 * typical stream of small events for comparison; and the SSE parser of the `eventsource-parser`
 * package on the same input as a reference. Set BENCH_LONG_LINE_MIB for other sizes.
 */
import { createParser } from 'eventsource-parser'
import { SseDecoder } from '../src/streams'
import { fixed, median } from './stats'

const SIZES_MIB = (process.env.BENCH_LONG_LINE_MIB ?? '1,4,16').split(',').map(Number)
const CHUNK = 1024
const ROUNDS = 5

function chunks(text: string): Uint8Array[] {
  const bytes = new TextEncoder().encode(text)
  const parts: Uint8Array[] = []
  for (let offset = 0; offset < bytes.length; offset += CHUNK)
    parts.push(bytes.subarray(offset, offset + CHUNK))
  return parts
}

function ours(parts: readonly Uint8Array[]): number {
  const decoder = new SseDecoder({ maxLineLength: 64 * 1024 * 1024, maxEventLength: 64 * 1024 * 1024 })
  let events = 0
  for (const part of parts) events += decoder.push(part).length
  decoder.end()
  return events
}

function reference(parts: readonly Uint8Array[]): number {
  const text = new TextDecoder()
  let events = 0
  const parser = createParser({ onEvent: () => events++ })
  for (const part of parts) parser.feed(text.decode(part, { stream: true }))
  return events
}

function time(run: () => number): number {
  const samples: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const started = performance.now()
    const events = run()
    samples.push(performance.now() - started)
    if (events < 1) throw new Error('no event decoded')
  }
  return median(samples)
}

export default async function streamDecoding(): Promise<void> {
  console.log('| input | SseDecoder (ms) | eventsource-parser (ms) |')
  console.log('| --- | ---: | ---: |')
  for (const mib of SIZES_MIB) {
    const parts = chunks(`data: ${'x'.repeat(mib * 1024 * 1024)}\n\n`)
    console.log(
      `| one ${mib} MiB line, 1 KiB chunks | ${fixed(time(() => ours(parts)))} | ${fixed(time(() => reference(parts)))} |`,
    )
  }
  const small = chunks(
    Array.from(
      { length: 20_000 },
      (_, index) => `data: {"choices":[{"delta":{"content":"token ${index}"}}]}\n\n`,
    ).join(''),
  )
  console.log(
    `| 20,000 small events, 1 KiB chunks | ${fixed(time(() => ours(small)))} | ${fixed(time(() => reference(small)))} |`,
  )
}
