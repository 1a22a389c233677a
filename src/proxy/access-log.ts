/**
 * The opt-in access log: one `info` line per request the proxy answered, written after the last
 * byte went out (or the client went away). It holds the method, the route's name (never the raw
 * path or query, which can carry tokens), the status, the error code (also of a stream that failed
 * after its head), the duration, the response bytes, and the key id and request id when they are
 * well-formed. Those two are the client's headers (`x-continuum-key-id`, `x-request-id`; on plain
 * and pass-through routes the upstream's `x-request-id` when it answers one), claims that nothing
 * verified on a refused request. Client-supplied values are logged only in their expected shape
 * (a key id of 1–64 characters, a request id of 1–128, of sets JSON never escapes) and left out
 * otherwise, so a header cannot add a field or forge a log line. Never content.
 */
import { isValidKeyId } from '../cipher/format'
import type { Clock } from '../core/clock'
import type { CoreRequest, CoreResponse } from '../core/http'
import type { LogFields, Logger } from '../core/logger'
import { isWellFormedRequestId } from '../internal/request-id'
import type { ExchangeOutcome } from './exchange'

/** What the dispatcher learned of a request, for its access line. */
export interface AccessNote {
  /** The route's name (`openai.chat-completions`), `pass-through`, `handler` or `agreement-key`. */
  route?: string
  /** The code of the error the proxy answered with. */
  code?: string
  /** The exchange's outcome, on adapter routes. */
  outcome?: ExchangeOutcome
}

const METHOD = /^[A-Z]{1,16}$/

function byteLength(body: string | Uint8Array): number {
  return typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength
}

/** Returns the response with its body counted; the line is logged once the body is done. */
export function withAccessLog(
  response: CoreResponse,
  request: CoreRequest,
  note: AccessNote,
  startedAt: number,
  clock: Clock,
  logger: Logger,
): CoreResponse {
  const write = (bytes: number, result: 'complete' | 'aborted' | 'failed'): void => {
    const keyId = request.headers['x-continuum-key-id']
    const answered = response.headers['x-request-id']
    const requestId = typeof answered === 'string' ? answered : request.headers['x-request-id']
    const fields: LogFields = {
      method: METHOD.test(request.method) ? request.method : 'OTHER',
      route: note.route,
      status: response.status,
      code: note.outcome?.errorCode ?? note.code,
      durationMs: Math.max(0, Math.round(clock.now() - startedAt)),
      bytes,
      keyId: keyId !== undefined && isValidKeyId(keyId) ? keyId : undefined,
      requestId: requestId !== undefined && isWellFormedRequestId(requestId) ? requestId : undefined,
      ...(result === 'complete' ? {} : { result }),
    }
    try {
      logger.info(fields, 'request')
    } catch {
      // A failing logger must not fail the request.
    }
  }
  const body = response.body
  if (body === null || typeof body === 'string' || body instanceof Uint8Array) {
    write(body === null ? 0 : byteLength(body), 'complete')
    return response
  }
  async function* counted(): AsyncGenerator<Uint8Array> {
    let bytes = 0
    let result: 'complete' | 'aborted' | 'failed' = 'aborted'
    try {
      for await (const chunk of body as AsyncIterable<Uint8Array>) {
        bytes += chunk.byteLength
        yield chunk
      }
      result = 'complete'
    } catch (error) {
      result = 'failed'
      throw error
    } finally {
      write(bytes, result)
    }
  }
  return { ...response, body: counted() }
}
