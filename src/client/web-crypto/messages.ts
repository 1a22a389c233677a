/**
 * Whole messages of the protocol as the client handles them, on the asynchronous cipher: the
 * sealed request, a JSON response, a sealed error, one stream event and the end marker. Same
 * rules as src/cipher/message-codec.ts and request-message.ts (the shared vectors check both); a
 * seal is always verified before any decrypted value is handed out. Each function is async at its
 * edge only: on a synchronous backend the whole message is done without a promise inside (the
 * seal first, then the fields), on WebCrypto the operations that do not depend on each other are
 * all in flight at once.
 */
import type { PlainFieldTree } from '../../cipher/field-map'
import { END_MARKER_KEY, EVENT_SEAL_KEY } from '../../cipher/format'
import { bindRequest, clientRequestHeaders, encryptedRequestHeaders } from '../../cipher/request-binding'
import { ContinuumError } from '../../errors'
import type { MaybePromise } from './backend'
import {
  type ClientCipherContext,
  isPending,
  type SealKind,
  sealMatchesNow,
  sealMatchesTextNow,
  sealOfTextNow,
} from './field-cipher'
import { decryptFieldsNow, encryptFieldsNow } from './fields'
import { sealedCanonicalJson } from './sealed-json'

/** What {@link encryptRequestMessage} takes (as src/cipher/request-message.ts). */
export interface ClientRequestInput {
  tree: PlainFieldTree
  body: unknown
  context: ClientCipherContext
  method: string
  routePath: string
  search?: string
  timestamp: string
  headers?: Readonly<Record<string, string>>
  keyHeaders: Readonly<Record<string, string>>
}

/** Encrypts and seals one request: the body and the complete request headers. */
export async function encryptRequestMessage(input: ClientRequestInput): Promise<{
  body: unknown
  /** The encrypted body as JSON text to send: its canonical form, which the seal covers byte for byte. */
  text: string
  headers: Record<string, string>
  meta: string
}> {
  const headers = clientRequestHeaders(input.headers)
  const bound = bindRequest({
    method: input.method,
    routePath: input.routePath,
    search: input.search ?? '',
    timestamp: input.timestamp,
    headers,
  })
  const encrypted = encryptFieldsNow(input.tree, input.body, input.context, 0)
  const body = isPending(encrypted) ? await encrypted : encrypted
  // One serialisation serves the seal and the wire: the server verifies these very bytes.
  const text = sealedCanonicalJson(input.tree, body)
  const sealed = sealOfTextNow(input.context, 0, 'request', bound.meta, text)
  const seal = isPending(sealed) ? await sealed : sealed
  return {
    body,
    text,
    meta: bound.meta,
    headers: encryptedRequestHeaders(input, headers, bound, seal),
  }
}

/**
 * Verifies a message's seal and decrypts its fields; the plaintexts are handed out only once the
 * seal verified, and a bad seal wins over a decryption failure. On a synchronous backend the seal
 * is checked first and nothing is decrypted unless it holds; on WebCrypto both run at once.
 */
async function verifiedThenDecrypted(
  tree: PlainFieldTree,
  body: unknown,
  context: ClientCipherContext,
  seal: { sequence: number; kind: SealKind; meta: string; given: string | undefined },
  failure: () => ContinuumError,
  received?: string,
): Promise<unknown> {
  const verified = sealOverReceived(context, seal, body, received)
  if (!isPending(verified)) {
    if (!verified) throw failure()
    const fields = decryptFieldsNow(tree, body, context, seal.sequence)
    return isPending(fields) ? await fields : fields
  }
  let decrypted: MaybePromise<unknown>
  try {
    decrypted = decryptFieldsNow(tree, body, context, seal.sequence)
  } catch (error) {
    decrypted = Promise.reject(error)
  }
  const [sealResult, fields] = await Promise.allSettled([verified, decrypted])
  if (sealResult.status === 'rejected') throw sealResult.reason
  if (!sealResult.value) throw failure()
  if (fields.status === 'rejected') throw fields.reason
  return fields.value
}

/**
 * Whether the seal matches: over the text as received when there is one (the server sends the
 * canonical form it sealed, so nothing is serialised again), else, or when that fails (a relay
 * re-formatted the JSON), over the canonical JSON of the parsed body.
 */
function sealOverReceived(
  context: ClientCipherContext,
  seal: { sequence: number; kind: SealKind; meta: string; given: string | undefined },
  body: unknown,
  received: string | undefined,
): MaybePromise<boolean> {
  const overBody = (): MaybePromise<boolean> =>
    sealMatchesNow(context, seal.sequence, seal.kind, seal.meta, body, seal.given)
  if (received === undefined) return overBody()
  const overText = sealMatchesTextNow(context, seal.sequence, seal.kind, seal.meta, received, seal.given)
  if (!isPending(overText)) return overText || overBody()
  return overText.then((matched) => matched || overBody())
}

/**
 * Verifies a JSON response's seal (which binds the status), then decrypts its fields. `received`
 * is the body's text as it arrived, `body` what parsing it gave.
 */
export function openResponse(
  tree: PlainFieldTree,
  body: unknown,
  context: ClientCipherContext,
  status: number,
  seal: string | undefined,
  received?: string,
): Promise<unknown> {
  return verifiedThenDecrypted(
    tree,
    body,
    context,
    { sequence: 0, kind: 'response', meta: String(status), given: seal },
    () => new ContinuumError('CONTINUUM_RESPONSE_INTEGRITY_FAILED', 'Response seal does not verify'),
    received,
  )
}

/** Whether an error body (parsed from `received`, when given) verifies as one the server sealed for this request. */
export async function errorSealMatches(
  context: ClientCipherContext,
  status: number,
  body: unknown,
  seal: string | undefined,
  received?: string,
): Promise<boolean> {
  try {
    return await sealOverReceived(
      context,
      { sequence: 0, kind: 'error', meta: String(status), given: seal },
      body,
      received,
    )
  } catch {
    return false
  }
}

/** Verifies and decrypts one stream event; a wrong sequence fails the seal. */
export async function openEvent(
  tree: PlainFieldTree,
  event: Record<string, unknown>,
  context: ClientCipherContext,
  sequence: number,
  eventName: string,
): Promise<Record<string, unknown>> {
  const { [EVENT_SEAL_KEY]: seal, ...rest } = event
  const given = typeof seal === 'string' ? seal : undefined
  return (await verifiedThenDecrypted(
    tree,
    rest,
    context,
    { sequence, kind: 'event', meta: eventName, given },
    () =>
      new ContinuumError(
        'CONTINUUM_RESPONSE_INTEGRITY_FAILED',
        `Stream event ${sequence} failed its seal: tampered, reordered or dropped`,
        { details: { sequence } },
      ),
  )) as Record<string, unknown>
}

/** What a failed stream's end marker says. */
export interface ClientStreamFailure {
  readonly code: string
  readonly message: string
}

/** Whether an event object is an end marker (it may still be forged: verify it). */
export function isEndMarker(event: Record<string, unknown>): boolean {
  return Object.hasOwn(event, END_MARKER_KEY)
}

/** Verifies an end marker after `count` events; returns a failed stream's failure, undefined for a clean end. */
export async function verifyEndMarker(
  context: ClientCipherContext,
  count: number,
  event: Record<string, unknown>,
): Promise<ClientStreamFailure | undefined> {
  const { [EVENT_SEAL_KEY]: seal, ...rest } = event
  const marker = rest[END_MARKER_KEY] as { events?: unknown; error?: unknown } | undefined
  const error = marker?.error as { code?: unknown; message?: unknown } | undefined
  const failed = marker !== undefined && marker !== null && Object.hasOwn(marker, 'error')
  const wellFormed =
    !failed ||
    (typeof error?.code === 'string' && typeof error.message === 'string' && Object.keys(marker).length === 2)
  const verified =
    marker?.events === count &&
    wellFormed &&
    (await sealMatchesNow(
      context,
      count,
      failed ? 'failed' : 'end',
      String(count),
      rest,
      typeof seal === 'string' ? seal : undefined,
    ))
  if (!verified) {
    throw new ContinuumError('CONTINUUM_RESPONSE_INTEGRITY_FAILED', 'Stream end marker does not verify', {
      details: { events: count },
    })
  }
  return failed ? { code: error!.code as string, message: error!.message as string } : undefined
}
