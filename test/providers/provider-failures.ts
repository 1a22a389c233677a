/**
 * The failure behaviour every router provider must share, run against each protocol's fake server:
 * upstream statuses mapped to the router's codes and retryability, refused connections, timeouts,
 * streams cut mid-way, aborts by signal and by `break`, and credentials kept out of errors.
 */
import type { CanonicalRequest, StreamChunk } from 'continuum-proxy'
import { ContinuumError } from 'continuum-proxy'
import type { InferenceProvider } from 'continuum-proxy/provider-kit'
import { isAbortError } from 'continuum-proxy/provider-kit'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { jsonReply } from '../kit/replies'
import { closedPort, type FakeUpstream } from '../kit/server'

/** How one protocol plugs into the shared failure suite. */
export interface FailureSuite {
  name: string
  start(): Promise<FakeUpstream>
  /** Builds the provider against `baseURL` with a given timeout. */
  provider(baseURL: string, timeoutMs: number): InferenceProvider
  request: CanonicalRequest
  /** The first events of a stream in the protocol's framing, with the response headers. */
  partialStream: { headers: Record<string, string>; chunks: Array<string | Uint8Array> }
  /** An error body in the protocol's format. */
  errorBody: unknown
  /** The credential configured, which must never appear in an error. */
  secret?: string
}

function expectCode(error: unknown, code: string): ContinuumError {
  expect(ContinuumError.isInstance(error), `expected a ContinuumError, got ${String(error)}`).toBe(true)
  const continuumError = error as ContinuumError
  expect(continuumError.code).toBe(code)
  return continuumError
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}

async function drain(
  iterable: AsyncIterable<StreamChunk>,
  received: StreamChunk[] = [],
): Promise<StreamChunk[]> {
  for await (const chunk of iterable) received.push(chunk)
  return received
}

function everyText(error: unknown, depth = 0): string {
  if (depth > 5 || typeof error !== 'object' || error === null) return String(error)
  const record = error as { message?: unknown; cause?: unknown; details?: unknown; stack?: unknown }
  return [
    String(record.message),
    JSON.stringify(record.details ?? null),
    everyText(record.cause, depth + 1),
  ].join('\n')
}

/** Registers the shared failure tests for one provider. */
export function describeProviderFailures(suite: FailureSuite): void {
  describe(`${suite.name} provider failures`, () => {
    let fake: FakeUpstream
    let provider: InferenceProvider
    beforeAll(async () => {
      fake = await suite.start()
      provider = suite.provider(fake.url, 2_000)
    })
    afterAll(async () => {
      await provider.close?.()
      await fake.close()
    })

    const statuses: Array<[number, string, boolean, Record<string, string>?]> = [
      [400, 'CONTINUUM_PROVIDER_BAD_REQUEST', false],
      [401, 'CONTINUUM_PROVIDER_AUTH_FAILED', false],
      [429, 'CONTINUUM_PROVIDER_RATE_LIMITED', true, { 'retry-after': '7' }],
      [500, 'CONTINUUM_PROVIDER_ERROR', true],
      [503, 'CONTINUUM_PROVIDER_ERROR', true],
    ]
    for (const [status, code, retryable, headers] of statuses) {
      it(`maps ${status} to ${code} (retryable: ${retryable}) for complete and stream`, async () => {
        fake.queue(jsonReply(suite.errorBody, status, headers), jsonReply(suite.errorBody, status, headers))
        const completeError = expectCode(await caught(provider.complete(suite.request)), code)
        expect(completeError.isRetryable).toBe(retryable)
        expect(completeError.details?.upstreamStatus).toBe(status)
        if (status === 429) expect(completeError.retryAfterSeconds).toBe(7)
        const streamError = expectCode(await caught(drain(provider.stream(suite.request))), code)
        expect(streamError.isRetryable).toBe(retryable)
        if (suite.secret !== undefined) {
          expect(everyText(completeError)).not.toContain(suite.secret)
          expect(JSON.stringify(completeError.toJSON())).not.toContain(suite.secret)
        }
      })
    }

    it('maps a refused connection to CONTINUUM_PROVIDER_UNAVAILABLE', async () => {
      const refused = suite.provider(`http://127.0.0.1:${await closedPort()}`, 2_000)
      const error = expectCode(
        await caught(refused.complete(suite.request)),
        'CONTINUUM_PROVIDER_UNAVAILABLE',
      )
      expect(error.isRetryable).toBe(true)
      expectCode(await caught(drain(refused.stream(suite.request))), 'CONTINUUM_PROVIDER_UNAVAILABLE')
      const health = await refused.health()
      expect(health.status).toBe('unhealthy')
      await refused.close?.()
    })

    it('times out a silent upstream with CONTINUUM_PROVIDER_TIMEOUT', async () => {
      const impatient = suite.provider(fake.url, 150)
      fake.queue({ kind: 'hang' }, { kind: 'chunks', ...suite.partialStream, ending: 'hold' })
      const error = expectCode(await caught(impatient.complete(suite.request)), 'CONTINUUM_PROVIDER_TIMEOUT')
      expect(error.isRetryable).toBe(true)
      // A stream that goes silent after its first events times out too, after delivering them.
      const received: StreamChunk[] = []
      expectCode(await caught(drain(impatient.stream(suite.request), received)), 'CONTINUUM_PROVIDER_TIMEOUT')
      expect(received.length).toBeGreaterThan(0)
      await impatient.close?.()
    })

    it('does not time out a slow consumer of a lively upstream', async () => {
      // 300 ms, not less: a loaded machine can pause a lively fake that long between chunks.
      const impatient = suite.provider(fake.url, 300)
      const received: StreamChunk[] = []
      for await (const chunk of impatient.stream(suite.request)) {
        received.push(chunk)
        // The first two reads each take longer than the timeout, while the upstream is still
        // sending (two: a timer that only the first read reset would still fire).
        if (received.length <= 2) await new Promise((resolve) => setTimeout(resolve, 450))
      }
      expect(received.at(-1)?.type).toBe('finish')
      await impatient.close?.()
    })

    it('throws a ContinuumError when the upstream disconnects mid-stream', async () => {
      fake.queue({ kind: 'chunks', ...suite.partialStream, ending: 'destroy' })
      const received: StreamChunk[] = []
      const error = await caught(drain(provider.stream(suite.request), received))
      expect(ContinuumError.isInstance(error)).toBe(true)
      expect((error as ContinuumError).isRetryable).toBe(true)
      expect(received.some((chunk) => chunk.type === 'text-delta' || chunk.type === 'tool-call-delta')).toBe(
        true,
      )
      expect(received.some((chunk) => chunk.type === 'finish')).toBe(false)
    })

    it('throws a ContinuumError when the stream ends cleanly but early', async () => {
      fake.queue({ kind: 'chunks', ...suite.partialStream, ending: 'end' })
      const error = await caught(drain(provider.stream(suite.request)))
      expectCode(error, 'CONTINUUM_UPSTREAM_STREAM_ABORTED')
    })

    it('aborts the upstream request when the consumer breaks out of the loop', async () => {
      fake.clientCloses = 0
      fake.queue({ kind: 'chunks', ...suite.partialStream, ending: 'hold' })
      const closed = fake.waitForClientClose()
      for await (const chunk of provider.stream(suite.request)) {
        expect(chunk.type).not.toBe('finish')
        break
      }
      await closed
      expect(fake.clientCloses).toBe(1)
    })

    it('rethrows the AbortError when request.signal aborts, and closes the upstream connection', async () => {
      fake.clientCloses = 0
      fake.queue({ kind: 'chunks', ...suite.partialStream, ending: 'hold' })
      const controller = new AbortController()
      const closed = fake.waitForClientClose()
      const error = await caught(
        (async () => {
          for await (const _chunk of provider.stream({ ...suite.request, signal: controller.signal })) {
            controller.abort()
          }
        })(),
      )
      expect(isAbortError(error)).toBe(true)
      await closed
      fake.queue({ kind: 'hang' })
      const completeController = new AbortController()
      const sent = fake.requests.length
      const pending = caught(provider.complete({ ...suite.request, signal: completeController.signal }))
      // Abort once the request is at the upstream, waiting for an answer that never comes.
      await vi.waitFor(() => expect(fake.requests.length).toBe(sent + 1))
      completeController.abort()
      expect(isAbortError(await pending)).toBe(true)
    })
  })
}
