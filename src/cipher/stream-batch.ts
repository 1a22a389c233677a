/**
 * Batched stream frames (docs/PROTOCOL.md §6.1), for clients that ask for them: the events of one
 * upstream read, framed as the protocol frames them in plain, are encrypted together into one
 * AES-256-GCM ciphertext whose authenticated data binds the key id, the request nonce, the
 * direction, the sequence number of the first event and the number of events. A frame therefore
 * stands for a run of sealed events: dropping, reordering, replaying or cutting frames, or moving
 * one into another stream, fails authentication or the client's sequence count, exactly as with
 * per-event seals, while the server pays one cipher and one write per read instead of a cipher,
 * a seal and a serialisation per event.
 */
import { ContinuumError } from '../errors'
import { type CipherContext, openBytes, sealBytes } from './field-cipher'
import { BATCH_EVENT_NAME, BATCH_KEY, CIPHERTEXT_PREFIX, FORMAT_VERSION, parseCiphertext } from './format'

/** What a batch frame says in clear: the sequence number of its first event and how many it holds. */
export interface BatchHeader {
  readonly first: number
  readonly events: number
}

/** `cp2|keyId|nonce|direction|first|continuum.batch|events`: never a field's (whose last part is a JSON Pointer). */
function batchAad(context: CipherContext, first: number, events: number): Buffer {
  return Buffer.from(
    `${FORMAT_VERSION}|${context.key.id}|${context.nonce}|${context.direction}|${first}|${BATCH_EVENT_NAME}|${events}`,
    'utf8',
  )
}

/**
 * The JSON text of one batch frame: `events` events starting at sequence `first`, whose plain
 * framing is `plaintext`.
 */
export function sealBatch(
  context: CipherContext,
  first: number,
  events: number,
  plaintext: string,
  /** Only for the deterministic test vectors of docs/PROTOCOL.md; never pass an IV in production. */
  iv?: Buffer,
): string {
  const payload = sealBytes(context.key, batchAad(context, first, events), plaintext, iv)
  return `{"${BATCH_KEY}":{"first":${first},"events":${events}},"ciphertext":"${CIPHERTEXT_PREFIX}${context.key.id}.${payload.toString('base64url')}"}`
}

function refused(why: string): ContinuumError {
  return new ContinuumError('CONTINUUM_RESPONSE_INTEGRITY_FAILED', `Encrypted stream batch ${why}`)
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Whether a stream event object is a batch frame (it may still be forged: open it with {@link openBatch}). */
export function isBatchFrame(event: Record<string, unknown>): boolean {
  return Object.hasOwn(event, BATCH_KEY)
}

/**
 * Opens a batch frame received when `expectedFirst` events were counted so far (client side):
 * its header must be exactly `{first, events}` with `first` the expected sequence number, and its
 * ciphertext must authenticate under them. Returns the header and the plain framing of its events.
 */
export function openBatch(
  context: CipherContext,
  expectedFirst: number,
  frame: unknown,
): { header: BatchHeader; plaintext: Buffer } {
  if (!isRecord(frame) || Object.keys(frame).length !== 2) throw refused('is not a batch frame')
  const header = frame[BATCH_KEY]
  const ciphertext = frame.ciphertext
  if (!isRecord(header) || Object.keys(header).length !== 2 || typeof ciphertext !== 'string')
    throw refused('is not a batch frame')
  const { first, events } = header
  if (first !== expectedFirst) throw refused('is out of sequence: reordered, dropped or replayed')
  if (typeof events !== 'number' || !Number.isSafeInteger(events) || events < 1)
    throw refused('has no valid event count')
  let payload: Buffer
  try {
    const parsed = parseCiphertext(ciphertext, '/ciphertext')
    if (parsed.keyId !== context.key.id) throw refused('names another key')
    payload = parsed.payload
  } catch (error) {
    throw ContinuumError.isInstance(error) && error.code === 'CONTINUUM_RESPONSE_INTEGRITY_FAILED'
      ? error
      : refused('has a malformed ciphertext')
  }
  try {
    return {
      header: { first, events },
      plaintext: openBytes(context.key, batchAad(context, first, events), payload),
    }
  } catch {
    throw refused('failed authentication: tampered, moved or from another stream')
  }
}
