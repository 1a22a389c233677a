/**
 * The id of an exchange. A client's `x-request-id` is taken when it is 1–128 characters of
 * `[A-Za-z0-9._:-]` (UUIDs, ULIDs, trace ids, `req_…` ids); anything else is replaced by a random
 * UUID. The id reaches the response header, stages, audit records, the gateway's trace id and the
 * access log, so an attacker's header must not carry kilobytes, control characters or text that
 * a log reader would take for structure.
 */
import { randomUUID } from 'node:crypto'

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

/** Whether a request id has the shape every record of it may carry. */
export function isWellFormedRequestId(value: string): boolean {
  return REQUEST_ID.test(value)
}

/** The client's request id when well-formed, else a random one. */
export function requestIdOf(claimed: string | undefined): string {
  return claimed !== undefined && REQUEST_ID.test(claimed) ? claimed : randomUUID()
}
