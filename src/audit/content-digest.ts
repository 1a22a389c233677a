/**
 * Digests of request content for the `what` of an audit record. Records never hold content, only
 * a digest that lets an investigator holding the original prove it is the one that was sent.
 * A plain SHA-256 of a short prompt can be brute-forced from a dictionary, so a keyed digest
 * (HMAC-SHA-256 with a secret kept apart from the log) is the recommended form.
 */
import { createHash, createHmac } from 'node:crypto'
import { ContinuumError } from '../errors'
import { strictCanonicalJson } from '../internal/canonical-json'

/** Options of {@link digestContent}. */
export interface DigestContentOptions {
  /**
   * HMAC key (at least 16 bytes). With a key the digest is `hmac-sha256:<hex>`, without one
   * `sha256:<hex>`.
   * @default undefined (plain SHA-256)
   */
  key?: Uint8Array | string
}

/** The two digest forms an audit record accepts in `what.contentDigest`. */
export const CONTENT_DIGEST_PATTERN = /^(sha256|hmac-sha256):[0-9a-f]{64}$/

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
  if (options.key === undefined) return `sha256:${createHash('sha256').update(bytes).digest('hex')}`
  const keyLength = typeof options.key === 'string' ? Buffer.byteLength(options.key) : options.key.byteLength
  if (keyLength < 16) {
    throw new ContinuumError(
      'CONTINUUM_INVALID_OPTIONS',
      'digestContent: options.key must be at least 16 bytes',
    )
  }
  return `hmac-sha256:${createHmac('sha256', options.key).update(bytes).digest('hex')}`
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
