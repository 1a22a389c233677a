/**
 * Whole messages of the protocol: a request body with its headers, a JSON response, one stream
 * event, and the end-of-stream marker. Each is field-encrypted by an allow-list and sealed, so
 * tampering with plain fields, dropping or reordering events, and truncation are all detected.
 */
import { ContinuumError } from '../errors'
import { canonicalJson } from '../internal/canonical-json'
import {
  type CipherContext,
  computeSeal,
  computeSealOfText,
  sealMatches,
  sealMatchesText,
} from './field-cipher'
import { decryptFields, encryptFields, encryptFieldsToCanonicalJson, type PlainFieldTree } from './field-map'
import { END_MARKER_KEY, EVENT_SEAL_KEY } from './format'

/**
 * Encrypts a request body and returns it with its seal; `meta` comes from requestSealMeta
 * (request-binding.ts). `text` is the encrypted body's canonical JSON, the very bytes the seal
 * covers: sent as the body, they let the server verify the seal without serialising again.
 */
export function sealRequest(
  tree: PlainFieldTree,
  body: unknown,
  context: CipherContext,
  meta: string,
): { body: unknown; text: string; seal: string } {
  const encrypted = encryptFields(tree, body, context, 0)
  const text = canonicalJson(encrypted)
  return { body: encrypted, text, seal: computeSealOfText(context, 0, 'request', meta, text) }
}

/**
 * Verifies a request's seal; throws CONTINUUM_INTEGRITY_FAILED when it does not match. With the
 * body's bytes as received, a client that sent the canonical form (as the Node client does) is
 * verified over those bytes; any other spelling is verified over the parsed value.
 */
export function verifyRequest(
  body: unknown,
  context: CipherContext,
  meta: string,
  seal: string | undefined,
  received?: Uint8Array,
): void {
  if (received !== undefined && sealMatchesText(context, 0, 'request', meta, received, seal)) return
  if (!sealMatches(context, 0, 'request', meta, body, seal)) {
    throw new ContinuumError(
      'CONTINUUM_INTEGRITY_FAILED',
      "Request seal does not verify under the server's key of this id: the client holds another key for this id, or plain fields, route, query, timestamp or sealed headers were changed on the way",
    )
  }
}

/** Verifies a request's seal, then decrypts its fields. */
export function openRequest(
  tree: PlainFieldTree,
  body: unknown,
  context: CipherContext,
  meta: string,
  seal: string | undefined,
): unknown {
  verifyRequest(body, context, meta, seal)
  return decryptFields(tree, body, context, 0)
}

/**
 * Encrypts a JSON response body and returns its canonical JSON, the text the seal covers and the
 * body to send, with the seal, which also binds the HTTP status.
 */
export function sealResponse(
  tree: PlainFieldTree,
  body: unknown,
  context: CipherContext,
  status: number,
): { text: string; seal: string } {
  const text = encryptFieldsToCanonicalJson(tree, body, context, 0)
  return { text, seal: computeSealOfText(context, 0, 'response', String(status), text) }
}

/**
 * Verifies a response's seal, then decrypts its fields (client side). `received` is the body's
 * text as it arrived: when the seal covers exactly it (a server that sends the canonical form),
 * nothing is serialised again.
 */
export function openResponse(
  tree: PlainFieldTree,
  body: unknown,
  context: CipherContext,
  status: number,
  seal: string | undefined,
  received?: string | Uint8Array,
): unknown {
  const verified =
    (received !== undefined && sealMatchesText(context, 0, 'response', String(status), received, seal)) ||
    sealMatches(context, 0, 'response', String(status), body, seal)
  if (!verified) {
    throw new ContinuumError('CONTINUUM_RESPONSE_INTEGRITY_FAILED', 'Response seal does not verify')
  }
  return decryptFields(tree, body, context, 0)
}

/**
 * Seals an error the server itself raised after the request authenticated: the body stays plain
 * (it is the server's own, content-free `{"error":{...}}`) and the seal, kind `error` with the
 * status as meta, travels in the `x-continuum-seal` header.
 */
export function sealError(context: CipherContext, status: number, body: Record<string, unknown>): string {
  return computeSeal(context, 0, 'error', String(status), body)
}

/** Whether an error body verifies as one the server sealed for this request (client side). */
export function errorSealMatches(
  context: CipherContext,
  status: number,
  body: unknown,
  seal: string | undefined,
): boolean {
  try {
    return sealMatches(context, 0, 'error', String(status), body, seal)
  } catch {
    return false
  }
}

/** Encrypts one stream event object; its seal travels inside it under `continuum_seal`. */
export function sealEvent(
  tree: PlainFieldTree,
  event: Record<string, unknown>,
  context: CipherContext,
  sequence: number,
  eventName: string,
): Record<string, unknown> {
  const encrypted = encryptFields(tree, event, context, sequence) as Record<string, unknown>
  encrypted[EVENT_SEAL_KEY] = computeSeal(context, sequence, 'event', eventName, encrypted)
  return encrypted
}

/** The member `,"continuum_seal":"<43 characters>"}` that {@link sealEventText} ends an event with. */
const SEAL_MEMBER = `,"${EVENT_SEAL_KEY}":"`

/**
 * Encrypts one stream event and writes it as it goes on the wire: its canonical JSON (what the
 * seal covers) with the `continuum_seal` member appended, so the text is made once and a client
 * can verify the seal over the bytes it received. An event that already has a member of that
 * name cannot be sealed without losing it: CONTINUUM_UPSTREAM_PROTOCOL_ERROR.
 */
export function sealEventText(
  tree: PlainFieldTree,
  event: Record<string, unknown>,
  context: CipherContext,
  sequence: number,
  eventName: string,
): string {
  if (Object.hasOwn(event, EVENT_SEAL_KEY)) {
    throw new ContinuumError(
      'CONTINUUM_UPSTREAM_PROTOCOL_ERROR',
      `Upstream stream event carries the reserved member ${EVENT_SEAL_KEY}`,
    )
  }
  const text = encryptFieldsToCanonicalJson(tree, event, context, sequence)
  const seal = computeSealOfText(context, sequence, 'event', eventName, text)
  return text === '{}' ? `{"${EVENT_SEAL_KEY}":"${seal}"}` : `${text.slice(0, -1)}${SEAL_MEMBER}${seal}"}`
}

/** Verifies and decrypts one stream event (client side); a wrong sequence fails the seal. */
export function openEvent(
  tree: PlainFieldTree,
  event: Record<string, unknown>,
  context: CipherContext,
  sequence: number,
  eventName: string,
): Record<string, unknown> {
  const { [EVENT_SEAL_KEY]: seal, ...rest } = event
  if (
    !sealMatches(context, sequence, 'event', eventName, rest, typeof seal === 'string' ? seal : undefined)
  ) {
    throw new ContinuumError(
      'CONTINUUM_RESPONSE_INTEGRITY_FAILED',
      `Stream event ${sequence} failed its seal: tampered, reordered or dropped`,
      { details: { sequence } },
    )
  }
  return decryptFields(tree, rest, context, sequence) as Record<string, unknown>
}

/** The authenticated end-of-stream marker after `count` events. */
export function endMarker(context: CipherContext, count: number): Record<string, unknown> {
  const marker = { [END_MARKER_KEY]: { events: count } }
  return { ...marker, [EVENT_SEAL_KEY]: computeSeal(context, count, 'end', String(count), marker) }
}

/** What a failed stream's end marker says: the error's stable code and its content-free message. */
export interface StreamFailure {
  readonly code: string
  readonly message: string
}

/**
 * The authenticated end of a stream that failed after `count` events: the failure's code and
 * message, sealed with its own kind so it can never pass for a clean end.
 */
export function failureMarker(
  context: CipherContext,
  count: number,
  failure: StreamFailure,
): Record<string, unknown> {
  const marker = {
    [END_MARKER_KEY]: { events: count, error: { code: failure.code, message: failure.message } },
  }
  return { ...marker, [EVENT_SEAL_KEY]: computeSeal(context, count, 'failed', String(count), marker) }
}

/** Whether an event object is an end marker (it may still be forged: verify with {@link verifyEndMarker}). */
export function isEndMarker(event: Record<string, unknown>): boolean {
  return Object.hasOwn(event, END_MARKER_KEY)
}

/**
 * Verifies an end marker received after `count` events; returns the failure a failed stream's
 * marker reports, or undefined for a clean end.
 */
export function verifyEndMarker(
  context: CipherContext,
  count: number,
  event: Record<string, unknown>,
): StreamFailure | undefined {
  const { [EVENT_SEAL_KEY]: seal, ...rest } = event
  const marker = rest[END_MARKER_KEY] as { events?: unknown; error?: unknown } | undefined
  const error = marker?.error as { code?: unknown; message?: unknown } | undefined
  const failed = marker !== undefined && Object.hasOwn(marker, 'error')
  const wellFormed =
    !failed ||
    (typeof error?.code === 'string' && typeof error.message === 'string' && Object.keys(marker).length === 2)
  if (
    marker?.events !== count ||
    !wellFormed ||
    !sealMatches(
      context,
      count,
      failed ? 'failed' : 'end',
      String(count),
      rest,
      typeof seal === 'string' ? seal : undefined,
    )
  ) {
    throw new ContinuumError('CONTINUUM_RESPONSE_INTEGRITY_FAILED', 'Stream end marker does not verify', {
      details: { events: count },
    })
  }
  return failed ? { code: error!.code as string, message: error!.message as string } : undefined
}
