/**
 * The client's half of batch frames (docs/PROTOCOL.md §6.1) on the web-standard backend: a frame
 * stands for a run of sealed events, so its header must name exactly the next sequence number
 * and its ciphertext must authenticate under the key id, nonce, direction, first event and count
 * (src/cipher/stream-batch.ts writes them on the server; the Node build's client opens them here too).
 */
import { BATCH_KEY, batchAadText, CIPHERTEXT_PREFIX, isCanonicalBase64url } from '../../cipher/format'
import { ContinuumError } from '../../errors'
import { fromBase64url } from './bytes'
import { type ClientCipherContext, isPending } from './field-cipher'

const IV_LENGTH = 12
const TAG_LENGTH = 16
const BASE64URL = /^[A-Za-z0-9_-]+$/

function refused(why: string): ContinuumError {
  return new ContinuumError('CONTINUUM_RESPONSE_INTEGRITY_FAILED', `Encrypted stream batch ${why}`)
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Whether a stream event object is a batch frame (it may still be forged: open it). */
export function isBatchFrame(event: Record<string, unknown>): boolean {
  return Object.hasOwn(event, BATCH_KEY)
}

/** Opens a batch frame received when `expectedFirst` events were counted: its event count and plain framing. */
export async function openBatch(
  context: ClientCipherContext,
  expectedFirst: number,
  frame: unknown,
): Promise<{ events: number; plaintext: Uint8Array }> {
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
  const encoded = ciphertext.slice(prefix.length)
  const payload =
    BASE64URL.test(encoded) && isCanonicalBase64url(encoded) ? fromBase64url(encoded) : undefined
  if (payload === undefined || payload.length < IV_LENGTH + TAG_LENGTH)
    throw refused('has a malformed ciphertext')
  const aad = batchAadText(context.key.id, context.nonce, context.direction, first, events)
  const { backend, aesKey } = context.key
  try {
    const opened = backend.open(aesKey, payload, aad)
    return { events, plaintext: isPending(opened) ? await opened : opened }
  } catch {
    throw refused('failed authentication: tampered, moved or from another stream')
  }
}
