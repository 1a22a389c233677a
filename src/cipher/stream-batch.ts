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
import { type CipherContext, sealBytes } from './field-cipher'
import { BATCH_KEY, batchAadText, CIPHERTEXT_PREFIX } from './format'

function batchAad(context: CipherContext, first: number, events: number): Buffer {
  return Buffer.from(batchAadText(context.key.id, context.nonce, context.direction, first, events), 'utf8')
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
