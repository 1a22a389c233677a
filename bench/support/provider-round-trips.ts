/**
 * The loopback round-trip measurement the provider-client suites share: each subject's fake
 * server is started, its client sends warm-up requests, then `requests` timed `complete()` calls
 * and `requests` timed, fully drained `stream()` calls; one Markdown row per subject. The round trip
 * includes the fake server's own work, so it is an upper bound on the client's overhead.
 */
import type { CanonicalRequest } from 'continuum-proxy'
import type { InferenceProvider } from 'continuum-proxy/provider-kit'
import type { FakeUpstream } from '../../test/kit/server'
import { fixed, median, quantile } from '../stats'

/** Untimed `complete()` calls before the timed ones. */
const WARM_UP = 20

/** A provider client measured against its loopback fake server. */
export interface ProviderSubject {
  name: string
  start(): Promise<FakeUpstream>
  make(url: string): InferenceProvider
  model: string
}

/** Yields `bytes` in slices of `size` bytes, as a network read would. */
export async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size)
}

async function roundTrips(
  subject: ProviderSubject,
  requests: number,
): Promise<{ complete: number[]; stream: number[] }> {
  const fake = await subject.start()
  const provider = subject.make(fake.url)
  const request: CanonicalRequest = { model: subject.model, messages: [{ role: 'user', content: 'Hello' }] }
  const complete: number[] = []
  const stream: number[] = []
  try {
    for (let index = 0; index < WARM_UP; index++) await provider.complete(request)
    for (let index = 0; index < requests; index++) {
      const started = performance.now()
      await provider.complete(request)
      complete.push(performance.now() - started)
    }
    for (let index = 0; index < requests; index++) {
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

/** Measures each subject in turn and prints the round-trip table (milliseconds). */
export async function printRoundTrips(subjects: readonly ProviderSubject[], requests: number): Promise<void> {
  console.log(
    '| provider (loopback fake) | complete median ms | complete p99 ms | stream median ms | stream p99 ms |',
  )
  console.log('|---|---|---|---|---|')
  for (const subject of subjects) {
    const { complete, stream } = await roundTrips(subject, requests)
    console.log(
      `| ${subject.name} | ${fixed(median(complete))} | ${fixed(quantile(complete, 0.99))} | ${fixed(median(stream))} | ${fixed(quantile(stream, 0.99))} |`,
    )
  }
}
