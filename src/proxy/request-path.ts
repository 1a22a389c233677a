/**
 * The only request paths the proxy routes are ones every server on the way reads the same way.
 * A path that some server would normalise into another one (`/metrics/../v1/chat/completions`,
 * `/metrics/%2e%2e/...`, `/metrics/..%2f...`, `//`, `%63hat` for `chat`, `..;` for Tomcat) could
 * match a pass-through prefix here and an encrypted route upstream, carrying a plaintext prompt
 * past encryption, the scanner, the schema and the audit. Such paths are refused before any
 * routing, so the path the proxy matched is exactly the path it forwards.
 */
import { ContinuumError } from '../errors'

/** Why a path was refused (in `details.reason`; the path itself is never echoed). */
export type PathProblem =
  | 'not-absolute'
  | 'character'
  | 'empty-segment'
  | 'dot-segment'
  | 'malformed-encoding'
  | 'encoded-character'
  | 'case-variant'
  | 'path-parameter'

/** RFC 3986 `pchar`, `/` and `%`: anything else (a backslash, a space, `#`, raw non-ASCII) is refused. */
const ALLOWED = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/
const HEX = /^[0-9A-Fa-f]{2}$/

/** Whether a percent-encoded byte hides something a normaliser would decode or split on. */
function forbiddenEncoded(byte: number): boolean {
  return (
    byte < 0x20 ||
    byte === 0x7f ||
    byte === 0x2f || // '/'
    byte === 0x5c || // '\'
    byte === 0x25 || // '%': a second decoding pass would reveal the rest
    byte === 0x2e || // '.'
    byte === 0x2d || // '-'
    byte === 0x5f || // '_'
    byte === 0x7e || // '~'
    (byte >= 0x30 && byte <= 0x39) ||
    (byte >= 0x41 && byte <= 0x5a) ||
    (byte >= 0x61 && byte <= 0x7a)
  )
}

/** The problem with a path (without its query), or undefined when it is in its one canonical form. */
export function pathProblem(path: string): PathProblem | undefined {
  if (path.charCodeAt(0) !== 0x2f) return 'not-absolute'
  if (path === '/') return undefined
  // Malformed encoding first: it is what some routers (Fastify's) refuse before anything else.
  let encoded = false
  for (let at = path.indexOf('%'); at !== -1; at = path.indexOf('%', at + 1)) {
    if (!HEX.test(path.slice(at + 1, at + 3))) return 'malformed-encoding'
    encoded = true
  }
  if (encoded) {
    try {
      decodeURIComponent(path)
    } catch {
      // Percent-encoded bytes that are not UTF-8 (`%ff`): servers disagree on what they mean.
      return 'malformed-encoding'
    }
  }
  if (!ALLOWED.test(path)) return 'character'
  for (let at = path.indexOf('%'); at !== -1; at = path.indexOf('%', at + 1)) {
    if (forbiddenEncoded(Number.parseInt(path.slice(at + 1, at + 3), 16))) return 'encoded-character'
  }
  let start = 1
  while (start <= path.length) {
    let end = path.indexOf('/', start)
    if (end === -1) end = path.length
    if (end === start) return 'empty-segment'
    // `..;x` is `..` to servers that strip path parameters (Tomcat, Jetty).
    const semicolon = path.indexOf(';', start)
    const name = path.slice(start, semicolon !== -1 && semicolon < end ? semicolon : end)
    if (name === '.' || name === '..') return 'dot-segment'
    start = end + 1
  }
  return undefined
}

/** Throws CONTINUUM_INVALID_PATH (400) unless the path is in its canonical form. */
export function assertCanonicalPath(path: string): void {
  const problem = pathProblem(path)
  if (problem === undefined) return
  throw new ContinuumError('CONTINUUM_INVALID_PATH', `Request path refused before routing (${problem})`, {
    details: { reason: problem },
  })
}
