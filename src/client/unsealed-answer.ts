/**
 * What the client can say about an unsealed error answer to an encrypted request. The server seals
 * its refusals only once a request authenticated, so the refusals a client most needs explained
 * (a key id the server does not have, a key that is not the server's, a clock out of the replay
 * window) always arrive unsealed, and anyone on the path could have written them instead. The
 * client therefore never acts on one (no retry, no key switch), but it reads a bounded prefix of
 * the body and, when it names one of our codes, reports that claim with what it usually means.
 * The text is ours, chosen by the code; nothing of the body is repeated but a known code.
 */
import { ContinuumError, type ErrorCode, isErrorCode } from '../errors'

/** How much of an unsealed body is read to find the code it claims. */
const CLAIM_READ_LIMIT = 4096

/** What each claimed code usually means, for key id `keyId`. */
const HINTS: Partial<Record<ErrorCode, (keyId: string) => string>> = {
  CONTINUUM_KEY_UNKNOWN: (keyId) =>
    `the server has no key "${keyId}": check the client's keyId against the server's keys`,
  CONTINUUM_INTEGRITY_FAILED: (keyId) =>
    `the request's seal did not verify under the server's key "${keyId}": the key this client holds for "${keyId}" is not the server's (compare both), or something on the path changed the request`,
  CONTINUUM_DECRYPTION_FAILED: (keyId) =>
    `a field did not decrypt under the server's key "${keyId}": the key this client holds for "${keyId}" is not the server's, or something on the path changed the request`,
  CONTINUUM_KEY_RETIRED: (keyId) =>
    `the server says key "${keyId}" was retired, but not in a sealed notice, so the client kept it: give the client the server's current key`,
  CONTINUUM_TIMESTAMP_OUT_OF_WINDOW: () =>
    "the request's timestamp is outside the server's replay window: check the clocks of client and server",
  CONTINUUM_REPLAY_DETECTED: () => "the server saw this request's nonce before (a replayed request)",
  CONTINUUM_UNSUPPORTED_VERSION: () =>
    'the server speaks another wire-format version: upgrade the older of client and server',
  CONTINUUM_KEY_AGREEMENT_FAILED: () =>
    "the server could not agree a key with this client's ephemeral key; fetch the server key again",
  CONTINUUM_ROUTE_NOT_SUPPORTED: () => 'the server does not serve this route (check the base URL)',
}

/** Reads at most CLAIM_READ_LIMIT bytes of a body and cancels the rest. */
async function readPrefix(response: Response): Promise<string> {
  const reader = response.body?.getReader()
  if (reader === undefined) return ''
  const chunks: Uint8Array[] = []
  let length = 0
  try {
    while (length < CLAIM_READ_LIMIT) {
      const next = await reader.read()
      if (next.done) break
      chunks.push(next.value)
      length += next.value.byteLength
    }
  } catch {
    return ''
  } finally {
    await reader.cancel().catch(() => undefined)
  }
  return Buffer.concat(chunks).subarray(0, CLAIM_READ_LIMIT).toString('utf8')
}

/** The known code an unsealed body claims, if any. */
export async function claimedCode(response: Response, text?: string): Promise<ErrorCode | undefined> {
  const body = text ?? (await readPrefix(response))
  try {
    const code = (JSON.parse(body) as { error?: { code?: unknown } } | null)?.error?.code
    return typeof code === 'string' && isErrorCode(code) ? code : undefined
  } catch {
    return undefined
  }
}

/** The CONTINUUM_UNAUTHENTICATED_RESPONSE that stands in for an unsealed error answer. */
export function unauthenticatedAnswer(
  status: number,
  claimed: ErrorCode | undefined,
  keyId: string,
): ContinuumError {
  const hint = claimed === undefined ? undefined : HINTS[claimed]?.(keyId)
  const claim =
    claimed === undefined
      ? 'it names no continuum-proxy code, so it likely came from something in front of the proxy or from the upstream'
      : `it claims ${claimed}${hint === undefined ? '' : `, which usually means ${hint}`}`
  return new ContinuumError(
    'CONTINUUM_UNAUTHENTICATED_RESPONSE',
    `Unsealed HTTP ${status} answer to an encrypted request: ${claim}. Anyone on the path can write an unsealed answer, so its body was discarded and the request is not retried.`,
    {
      status,
      details: claimed === undefined ? { status } : { status, claimedCode: claimed },
    },
  )
}
