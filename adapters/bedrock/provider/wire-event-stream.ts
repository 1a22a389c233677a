/**
 * Decoding of the binary `application/vnd.amazon.eventstream` framing ConverseStream answers with.
 * Each message is a 12-byte prelude (total length, headers length, prelude CRC), headers, a JSON
 * payload and a message CRC. HTTP chunks cut messages anywhere, so this file reassembles whole
 * messages by their length prefix and hands each to smithy's EventStreamCodec, which checks both
 * CRCs and parses the typed headers. Lengths are bounded so a bad peer cannot grow memory. The
 * smithy packages are optional peer dependencies, imported when the first stream starts.
 */
import type { EventStreamCodec } from '@smithy/eventstream-codec'
import { ContinuumError } from '../../../src/index'
import { importOptionalDependency } from '../../../src/provider-kit/index'

/** One decoded event-stream message with its string headers and UTF-8 payload. */
export interface EventStreamMessage {
  /** `event`, `exception` or `error`. */
  messageType: string
  /** `:event-type` of an event, `:exception-type` of an exception, `:error-code` of an error. */
  type: string
  payload: string
}

const PRELUDE_LENGTH = 12
/** Smallest valid message: prelude plus message CRC. */
const MINIMUM_MESSAGE_LENGTH = 16
/** The event-stream specification caps a message at 16 MiB. */
const MAXIMUM_MESSAGE_LENGTH = 16 * 1024 * 1024

/** smithy's codec and its UTF-8 decoder. */
interface Codec {
  readonly codec: EventStreamCodec
  readonly toUtf8: (input: Uint8Array) => string
}

let codecOnce: Promise<Codec> | undefined

/** smithy's event-stream codec, built when the first stream starts (optional peer dependencies). */
function loadCodec(): Promise<Codec> {
  codecOnce ??= Promise.all([
    importOptionalDependency<typeof import('@smithy/eventstream-codec')>(
      '@smithy/eventstream-codec',
      'The Bedrock provider (streaming)',
    ),
    importOptionalDependency<typeof import('@smithy/util-utf8')>(
      '@smithy/util-utf8',
      'The Bedrock provider (streaming)',
    ),
  ]).then(([{ EventStreamCodec }, { fromUtf8, toUtf8 }]) => ({
    codec: new EventStreamCodec(toUtf8, fromUtf8),
    toUtf8,
  }))
  codecOnce.catch(() => {
    codecOnce = undefined
  })
  return codecOnce
}

function headerString(
  headers: Record<string, { type: string; value: unknown }>,
  name: string,
): string | undefined {
  const header = headers[name]
  return header !== undefined && header.type === 'string' ? (header.value as string) : undefined
}

function malformed(reason: string, cause?: unknown): ContinuumError {
  return new ContinuumError(
    'CONTINUUM_UPSTREAM_PROTOCOL_ERROR',
    `Bedrock event stream is malformed: ${reason}`,
    {
      cause,
    },
  )
}

/**
 * Yields the messages of an event-stream byte stream; throws if it ends inside a message. Chunks
 * are kept aside until they complete what the parser waits for (a prelude, then the message it
 * announces) and joined once then: joining on every chunk copied a 16 MiB message arriving in
 * 16 KiB reads about a thousand times, some 7 s of CPU an upstream could ask for per stream.
 */
export async function* decodeEventStream(
  source: AsyncIterable<Uint8Array>,
): AsyncGenerator<EventStreamMessage> {
  const codec = await loadCodec()
  let buffer: Uint8Array = new Uint8Array(0)
  const pending: Uint8Array[] = []
  let pendingBytes = 0
  /** Bytes the parser needs before it can go on. */
  let needed = PRELUDE_LENGTH
  for await (const chunk of source) {
    pending.push(chunk)
    pendingBytes += chunk.length
    if (buffer.length + pendingBytes < needed) continue
    buffer = join(buffer, pending, pendingBytes)
    pending.length = 0
    pendingBytes = 0
    needed = PRELUDE_LENGTH
    while (buffer.length >= PRELUDE_LENGTH) {
      const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength)
      const totalLength = view.getUint32(0, false)
      if (totalLength < MINIMUM_MESSAGE_LENGTH || totalLength > MAXIMUM_MESSAGE_LENGTH) {
        throw malformed(`message length ${totalLength} is out of bounds`)
      }
      if (buffer.length < totalLength) {
        needed = totalLength
        break
      }
      yield decodeMessage(codec, buffer.subarray(0, totalLength))
      buffer = buffer.subarray(totalLength)
    }
  }
  if (buffer.length + pendingBytes > 0) throw malformed('the stream ended inside a message')
}

function decodeMessage({ codec, toUtf8 }: Codec, frame: Uint8Array): EventStreamMessage {
  let decoded: ReturnType<EventStreamCodec['decode']>
  try {
    decoded = codec.decode(frame)
  } catch (error) {
    throw malformed('a message failed its checksum or header parsing', error)
  }
  const headers = decoded.headers as Record<string, { type: string; value: unknown }>
  const messageType = headerString(headers, ':message-type') ?? 'event'
  const type =
    (messageType === 'exception'
      ? headerString(headers, ':exception-type')
      : messageType === 'error'
        ? headerString(headers, ':error-code')
        : headerString(headers, ':event-type')) ?? ''
  return { messageType, type, payload: toUtf8(decoded.body) }
}

/** `first` followed by every chunk of `rest` (`restBytes` in all), copied once. */
function join(first: Uint8Array, rest: readonly Uint8Array[], restBytes: number): Uint8Array {
  if (first.length === 0 && rest.length === 1) return rest[0]!
  return Buffer.concat(first.length === 0 ? rest : [first, ...rest], first.length + restBytes)
}
