/**
 * Digests of request content for the `what` of an audit record. Records never hold content, only
 * a digest that lets an investigator holding the original and the digest key prove it is the one
 * that was sent. A plain SHA-256 of a short prompt can be confirmed from a dictionary by anyone
 * who reads the log ("my diagnosis is type 2 diabetes"), so digests are keyed by default:
 * HMAC-SHA-256 under a secret kept apart from the log, a random per-process one unless you give
 * yours. With the per-process secret, digests can be compared within one process's records but
 * not checked once the process is gone; give a stored `key` to check them later.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto'
import { ContinuumError } from '../errors'
import { strictCanonicalJson } from '../internal/canonical-json'

/** Options of {@link digestContent}. */
export interface DigestContentOptions {
  /**
   * HMAC key (at least 16 bytes), kept apart from the log. The digest is `hmac-sha256:<hex>`.
   * @default a random 32-byte secret made once per process
   */
  key?: Uint8Array | string
  /**
   * Plain `sha256:<hex>` instead of an HMAC. Anyone reading the log can then confirm a guessed
   * content: use it only for content too long and random to guess.
   * @default false
   */
  unkeyed?: boolean
}

/** The two digest forms an audit record accepts in `what.contentDigest`. */
export const CONTENT_DIGEST_PATTERN = /^(sha256|hmac-sha256):[0-9a-f]{64}$/

let processKey: Buffer | undefined

/** The per-process digest secret: random, made on first use, never written anywhere. */
function processDigestKey(): Buffer {
  processKey ??= randomBytes(32)
  return processKey
}

/**
 * Digests content for an audit record: strings as UTF-8, bytes as they are, anything else as its
 * canonical JSON (so key order does not change the digest).
 * @example
 * audit.record({ ..., what: { action: 'chat.completions', contentDigest: digestContent(body, { key }) } })
 */
export function digestContent(
  content: string | Uint8Array | unknown,
  options: DigestContentOptions = {},
): string {
  const bytes =
    typeof content === 'string' || content instanceof Uint8Array ? content : canonicalJsonOrThrow(content)
  if (options.unkeyed === true) {
    if (options.key !== undefined) {
      throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'digestContent: give key or unkeyed, not both')
    }
    return `sha256:${createHash('sha256').update(bytes).digest('hex')}`
  }
  const key = options.key ?? processDigestKey()
  const keyLength = typeof key === 'string' ? Buffer.byteLength(key) : key.byteLength
  if (keyLength < 16) {
    throw new ContinuumError(
      'CONTINUUM_INVALID_OPTIONS',
      'digestContent: options.key must be at least 16 bytes',
    )
  }
  return `hmac-sha256:${createHmac('sha256', key).update(bytes).digest('hex')}`
}

function canonicalJsonOrThrow(content: unknown): string {
  try {
    return strictCanonicalJson(content)
  } catch (error) {
    throw new ContinuumError(
      'CONTINUUM_AUDIT_INVALID_RECORD',
      'digestContent: content is neither a string, bytes, nor a JSON value',
      { cause: error },
    )
  }
}
