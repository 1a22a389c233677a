/**
 * The Bedrock event-stream decoder reassembles messages however the reads cut them: at every
 * byte of a message, one byte a read, and a large message in many small reads (which the decoder
 * joins once, not once per read). A stream cut inside a message, and a length outside the
 * specification's bounds, are refused with the protocol error.
 */
import { describe, expect, it } from 'vitest'
import { decodeEventStream } from '../../adapters/bedrock/provider/wire-event-stream'
import { encodeEvents, type TranscriptEvent } from '../kit/bedrock'

const events: TranscriptEvent[] = [
  { messageType: 'event', type: 'messageStart', payload: { role: 'assistant' } },
  { messageType: 'event', type: 'contentBlockDelta', payload: { delta: { text: 'Hello, world' } } },
  { messageType: 'exception', type: 'throttlingException', payload: { message: 'slow down' } },
]
const wire = Buffer.concat(encodeEvents(events))

async function* reads(bytes: Uint8Array, sizes: (offset: number) => number): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; ) {
    const size = Math.max(1, sizes(offset))
    yield bytes.subarray(offset, offset + size)
    offset += size
  }
}

async function decoded(source: AsyncIterable<Uint8Array>) {
  const messages = []
  for await (const message of decodeEventStream(source)) messages.push(message)
  return messages
}

const expected = events.map((event) => ({
  messageType: event.messageType,
  type: event.type,
  payload: JSON.stringify(event.payload),
}))

describe('the Bedrock event-stream decoder', () => {
  it('reassembles messages cut at any byte', async () => {
    for (let cut = 1; cut < wire.length; cut++) {
      expect(await decoded(reads(wire, (offset) => (offset === 0 ? cut : wire.length)))).toEqual(expected)
    }
  })

  it('reassembles messages read one byte at a time', async () => {
    expect(await decoded(reads(wire, () => 1))).toEqual(expected)
  })

  it('reassembles a 4 MiB message read 1 KiB at a time', async () => {
    const text = 'x'.repeat(4 * 1024 * 1024)
    const [big] = encodeEvents([{ messageType: 'event', type: 'contentBlockDelta', payload: { text } }])
    const bytes = Buffer.concat([big!, wire])
    const messages = await decoded(reads(bytes, () => 1024))
    expect(messages).toHaveLength(4)
    expect(JSON.parse(messages[0]!.payload)).toEqual({ text })
    expect(messages.slice(1)).toEqual(expected)
  })

  it('refuses a stream that ends inside a message, and a length out of bounds', async () => {
    await expect(decoded(reads(wire.subarray(0, wire.length - 3), () => 7))).rejects.toMatchObject({
      code: 'CONTINUUM_UPSTREAM_PROTOCOL_ERROR',
    })
    const huge = Buffer.from(wire)
    huge.writeUInt32BE(16 * 1024 * 1024 + 1, 0)
    await expect(decoded(reads(huge, () => 64))).rejects.toMatchObject({
      code: 'CONTINUUM_UPSTREAM_PROTOCOL_ERROR',
    })
  })
})
