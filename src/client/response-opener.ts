/**
 * What the encrypting client makes of an answer to an encrypted request. Sealed answers are
 * verified and decrypted (a JSON body, or a stream event by event); a sealed error is the
 * server's own and reaches the SDK as it is. Anything unsealed may have been written by anyone on
 * the path: a success is refused outright, and an error reaches the SDK as
 * CONTINUUM_UNAUTHENTICATED_RESPONSE carrying its status and, as a claim, the code it names
 * (unsealed-answer.ts), marked `x-should-retry: false` so the SDK does not re-send a request the
 * upstream may already have run.
 */
import { HEADERS } from '../cipher/format'
import { ContinuumError, ERROR_CODES, type ErrorCode, isErrorCode } from '../errors'
import type { RouteMatch } from '../protocol/registry'
import { answerTooLarge, MAX_ANSWER_BYTES, readBoundedText } from './bounded-body'
import { decodedBody } from './decoded-body'
import { openStream } from './stream-opener'
import { claimedCode, unauthenticatedAnswer } from './unsealed-answer'
import { type ClientCipherContext as CipherContext, errorSealMatches, openResponse } from './web-crypto/index'

/** An opened answer, and the sealed retired-key notice it carried, if any. */
export interface OpenedResponse {
  response: Response
  /** Set when the answer is a sealed CONTINUUM_KEY_RETIRED: the client may refresh and retry. */
  retiredKey?: { successor?: string }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Dropped from what the SDK gets: the body was rewritten, and the seal markers are spent. No
 * response header is sealed, so `x-should-retry` goes too: one added on the path would make the
 * SDK run again a request the upstream already ran (a sealed error sets it from its verified
 * code; otherwise the SDK decides by the status, which is sealed).
 */
const DROPPED_HEADERS = [
  'content-length',
  'content-encoding',
  'x-should-retry',
  HEADERS.seal,
  HEADERS.encrypted,
]

/** The headers the SDK gets; others (a scanner's `x-continuum-scan` warning among them) are passed on. */
function withoutProtocolHeaders(source: Headers): Headers {
  const headers = new Headers(source)
  for (const name of DROPPED_HEADERS) headers.delete(name)
  return headers
}

/** The stand-in for an unsealed error: its status, our code and message, and no retry. */
function unauthenticated(response: Response, claimed: ErrorCode | undefined, keyId: string): Response {
  const error = unauthenticatedAnswer(response.status, claimed, keyId)
  return new Response(JSON.stringify(error.toJSON()), {
    status: response.status,
    statusText: response.statusText,
    headers: {
      'content-type': 'application/json',
      [HEADERS.encrypted]: '0',
      'x-should-retry': 'false',
    },
  })
}

async function openError(response: Response, context: CipherContext, limit: number): Promise<OpenedResponse> {
  const seal = response.headers.get(HEADERS.seal) ?? undefined
  if (seal === undefined) {
    return { response: unauthenticated(response, await claimedCode(response), context.key.id) }
  }
  let text: string | undefined
  try {
    text = await readBoundedText(response, limit, () => answerTooLarge(limit))
  } catch (error) {
    if (ContinuumError.isInstance(error)) throw error
    text = undefined
  }
  let body: unknown
  try {
    body = text === undefined ? undefined : JSON.parse(text)
  } catch {
    body = undefined
  }
  if (!isRecord(body) || !(await errorSealMatches(context, response.status, body, seal, text))) {
    const claimed = text === undefined ? undefined : await claimedCode(response, text.slice(0, 4096))
    return { response: unauthenticated(response, claimed, context.key.id) }
  }
  // The verified value, written again: the text as received may repeat a member (the seal
  // holds over the last one, as JSON.parse reads it) with a relay's text in the first.
  const error = body.error as { code?: unknown; successor?: { fingerprint?: unknown } } | undefined
  const headers = withoutProtocolHeaders(response.headers)
  // The sealed code decides a retry where the SDK would go by the status alone: a 409
  // CONTINUUM_REPLAY_DETECTED means a copy of this request already reached the server (a relay
  // sent it twice), and the SDK, which retries every 409, would have the upstream run it again.
  if (isErrorCode(error?.code)) headers.set('x-should-retry', String(ERROR_CODES[error.code].retryable))
  const opened = new Response(JSON.stringify(body), {
    status: response.status,
    statusText: response.statusText,
    headers,
  })
  if (error?.code !== 'CONTINUUM_KEY_RETIRED') return { response: opened }
  const successor = error.successor?.fingerprint
  return { response: opened, retiredKey: typeof successor === 'string' ? { successor } : {} }
}

/** Opens an answer to an encrypted request; see the module comment. */
export async function readResponse(
  response: Response,
  match: RouteMatch,
  context: CipherContext,
  /** Whether the request asked for batch frames (`x-continuum-batch: 1`). */
  batches = false,
  /** Most bytes of a JSON answer or error body read. */
  limit = MAX_ANSWER_BYTES,
): Promise<OpenedResponse> {
  if (response.type === 'opaqueredirect' || response.status === 0) {
    // A browser answers `redirect: 'manual'` so, hiding status and location. No Response can carry
    // status 0, and a thrown TypeError reads to the SDK as a connection failure it retries, after
    // whoever redirected may have had the upstream run the request: refuse it as unsealed.
    throw new ContinuumError(
      'CONTINUUM_UNAUTHENTICATED_RESPONSE',
      'Redirect answering an encrypted request: the client does not follow it, and anyone on the path can write one, so the request is not retried.',
      { details: { redirected: true } },
    )
  }
  if (response.headers.get(HEADERS.encrypted) !== '1') {
    // Anything on the path can drop the marker and write a plain body, so an unencrypted answer
    // to an encrypted request is believable only as a sealed error, never as a success.
    if (response.status >= 200 && response.status < 300) {
      await response.body?.cancel().catch(() => undefined)
      throw new ContinuumError(
        'CONTINUUM_RESPONSE_INTEGRITY_FAILED',
        `Unencrypted HTTP ${response.status} answer to an encrypted request`,
      )
    }
    return openError(response, context, limit)
  }
  const headers = withoutProtocolHeaders(response.headers)
  const type = (response.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
  const stream = match.route.stream
  if (
    (type === 'text/event-stream' || type === 'application/x-ndjson') &&
    stream !== undefined &&
    response.body !== null
  ) {
    // Event seals do not bind the status, and the server streams only 2xx answers: under a 401 or
    // a 503 a relay wrote, the SDK would raise the authentic answer as that error, or retry it.
    if (response.status < 200 || response.status >= 300) {
      await response.body.cancel().catch(() => undefined)
      throw new ContinuumError(
        'CONTINUUM_RESPONSE_INTEGRITY_FAILED',
        `Encrypted stream with HTTP status ${response.status}`,
      )
    }
    const plain = toReadableStream(
      openStream(
        decodedBody(
          response.body as unknown as AsyncIterable<Uint8Array>,
          response.headers.get('content-encoding'),
        ),
        stream,
        context,
        { batches },
      ),
    )
    return {
      response: new Response(plain, { status: response.status, statusText: response.statusText, headers }),
    }
  }
  let text: string
  let parsed: unknown
  try {
    text = await readBoundedText(response, limit, () => answerTooLarge(limit))
    parsed = JSON.parse(text)
  } catch (error) {
    if (ContinuumError.isInstance(error)) throw error
    // No cause: V8's SyntaxError quotes the text around where it stopped.
    throw new ContinuumError('CONTINUUM_RESPONSE_INTEGRITY_FAILED', 'Encrypted response is not JSON')
  }
  const opened = await openResponse(
    match.route.responseTree,
    parsed,
    context,
    response.status,
    response.headers.get(HEADERS.seal) ?? undefined,
    text,
  )
  return {
    response: new Response(JSON.stringify(opened), {
      status: response.status,
      statusText: response.statusText,
      headers,
    }),
  }
}

/** A web ReadableStream over an async generator; cancelling it returns the generator, which cancels the source. */
function toReadableStream(source: AsyncGenerator<Uint8Array>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await source.next()
        if (next.done === true) controller.close()
        else controller.enqueue(next.value)
      } catch (error) {
        controller.error(error)
      }
    },
    async cancel() {
      await source.return(undefined)
    },
  })
}
