/**
 * An upstream body destroyed before the relay starts (the upstream cut the connection while the
 * body waited unread) has sent its `error` and `close` already and sends nothing more. The pump
 * that writes a body from a Node Readable's own events used to attach its listeners and wait on
 * them forever, so the client's answer never ended. Now it settles at once: a stream route's
 * failure frame is written and the answer ends, and the failure is reported to the exchange.
 */
import { PassThrough, Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import type { ContinuumError } from '../../src/errors'
import { PIPE_TO, RelayedBody } from '../../src/proxy/wire-body'

/** A Node Readable destroyed as undici destroys a body whose socket the upstream closed. */
function cutBody(error: Error | undefined): Readable {
  const body = new Readable({ read() {} })
  body.push(Buffer.from('data: {"lost":true}\n\n'))
  body.on('error', () => undefined)
  body.destroy(error)
  return body
}

describe('a body destroyed before its relay starts', () => {
  it.each([
    ['destroyed by a socket error', new Error('other side closed')],
    ['destroyed with no error', undefined],
  ])('%s: the answer ends with the failure frame, and the failure is reported', async (_name, cause) => {
    const source = cutBody(cause)
    await new Promise((resolve) => setImmediate(resolve))
    expect(source.destroyed).toBe(true)
    const reported: (ContinuumError | undefined)[] = []
    const body = new RelayedBody(
      source,
      (failure) => `event: error\ndata: ${failure.code}\n\n`,
      new AbortController().signal,
      (failure) => reported.push(failure),
    )
    const sink = new PassThrough()
    const written: Buffer[] = []
    sink.on('data', (chunk: Buffer) => written.push(chunk))
    const ended = new Promise((resolve) => sink.on('end', resolve))
    await body[PIPE_TO](sink)
    await ended
    expect(Buffer.concat(written).toString()).toBe(
      'event: error\ndata: CONTINUUM_UPSTREAM_STREAM_ABORTED\n\n',
    )
    expect(reported).toEqual([expect.objectContaining({ code: 'CONTINUUM_UPSTREAM_STREAM_ABORTED' })])
  })
})
