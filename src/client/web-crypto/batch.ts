/**
 * The client's half of batch frames (docs/PROTOCOL.md §6.1) on the web-standard backend: a frame
 * stands for a run of sealed events, so its header must name exactly the next sequence number
 * and its ciphertext must authenticate under the key id, nonce, direction, first event and count
 * (src/cipher/stream-batch.ts writes them on the server; the Node build's client opens them here too).
 */
import { BATCH_KEY, batchAadText, CIPHERTEXT_PREFIX } from '../../cipher/format'
import { ContinuumError } from '../../errors'
import type { MaybePromise } from './backend'
import { fromBase64url } from './bytes'
import { type ClientCipherContext, isPending } from './field-cipher'

const IV_LENGTH = 12
const TAG_LENGTH = 16

function refused(why: string): ContinuumError {
  return new ContinuumError('CONTINUUM_RESPONSE_INTEGRITY_FAILED', `Encrypted stream batch ${why}`)
}

function unauthentic(): never {
  throw refused('failed authentication: tampered, moved or from another stream')
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Whether a stream event object is a batch frame (it may still be forged: open it). */
export function isBatchFrame(event: Record<string, unknown>): boolean {
  return Object.hasOwn(event, BATCH_KEY)
}

/** The start of a frame as the server writes it, up to the first event's sequence number. */
const FRAME_HEAD = `{"${BATCH_KEY}":{"first":`
const FRAME_EVENTS = ',"events":'
const FRAME_CIPHERTEXT = '},"ciphertext":"'
const ZERO = 0x30
const NINE = 0x39
const QUOTE = 0x22

/** The end of the integer (no sign, no leading zero, as JSON writes one) that starts at `at`; `at` when none. */
function integerEnd(text: string, at: number): number {
  const first = text.charCodeAt(at)
  if (first === ZERO) return at + 1
  let end = at
  for (let code = first; code >= ZERO && code <= NINE; code = text.charCodeAt(++end));
  return end
}

/** The members of a frame in the server's own spelling, or undefined for any other text. */
function serverSpelling(text: string): { first: number; events: number; ciphertext: string } | undefined {
  if (!text.startsWith(FRAME_HEAD)) return undefined
  const firstEnd = integerEnd(text, FRAME_HEAD.length)
  if (firstEnd === FRAME_HEAD.length || !text.startsWith(FRAME_EVENTS, firstEnd)) return undefined
  const eventsStart = firstEnd + FRAME_EVENTS.length
  const eventsEnd = integerEnd(text, eventsStart)
  if (eventsEnd === eventsStart || !text.startsWith(FRAME_CIPHERTEXT, eventsEnd)) return undefined
  const start = eventsEnd + FRAME_CIPHERTEXT.length
  const end = text.length - 2
  if (end < start || text.charCodeAt(end) !== QUOTE || text.charCodeAt(end + 1) !== 0x7d) return undefined
  // No escape and no quote inside: the string is its characters, as JSON.parse would read them.
  // (A control character, which JSON.parse refuses, is not base64url either: openBatch refuses it.)
  if (text.indexOf('"', start) !== end || text.indexOf('\\', start) !== -1) return undefined
  return {
    first: Number(text.slice(FRAME_HEAD.length, firstEnd)),
    events: Number(text.slice(eventsStart, eventsEnd)),
    ciphertext: text.slice(start, end),
  }
}

/**
 * A batch frame's object from its JSON text. The server's own spelling is read without
 * JSON.parse (it is the same object JSON.parse would make); any other spelling is parsed.
 */
export function parseBatchFrame(text: string): unknown {
  const members = serverSpelling(text)
  if (members !== undefined)
    return { [BATCH_KEY]: { first: members.first, events: members.events }, ciphertext: members.ciphertext }
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/**
 * Opens a batch frame received when `expectedFirst` events were counted: its event count and plain
 * framing, at once on a synchronous crypto backend (node:crypto), promised on WebCrypto.
 */
export function openBatch(
  context: ClientCipherContext,
  expectedFirst: number,
  frame: unknown,
): MaybePromise<{ events: number; plaintext: Uint8Array }> {
  if (!isRecord(frame) || Object.keys(frame).length !== 2) throw refused('is not a batch frame')
  const header = frame[BATCH_KEY]
  const ciphertext = frame.ciphertext
  if (!isRecord(header) || Object.keys(header).length !== 2 || typeof ciphertext !== 'string')
    throw refused('is not a batch frame')
  const { first, events } = header
  if (first !== expectedFirst) throw refused('is out of sequence: reordered, dropped or replayed')
  if (typeof events !== 'number' || !Number.isSafeInteger(events) || events < 1)
    throw refused('has no valid event count')
  const prefix = `${CIPHERTEXT_PREFIX}${context.key.id}.`
  if (!ciphertext.startsWith(CIPHERTEXT_PREFIX)) throw refused('has a malformed ciphertext')
  if (!ciphertext.startsWith(prefix)) throw refused('names another key')
  // fromBase64url takes only the one canonical spelling: the alphabet, the length, the last bits.
  const payload = fromBase64url(ciphertext.slice(prefix.length))
  if (payload === undefined || payload.length < IV_LENGTH + TAG_LENGTH)
    throw refused('has a malformed ciphertext')
  const aad = batchAadText(context.key.id, context.nonce, context.direction, first, events)
  const { backend, aesKey } = context.key
  let opened: MaybePromise<Uint8Array>
  try {
    opened = backend.open(aesKey, payload, aad)
  } catch {
    return unauthentic()
  }
  return isPending(opened)
    ? opened.then((plaintext) => ({ events, plaintext }), unauthentic)
    : { events, plaintext: opened }
}
