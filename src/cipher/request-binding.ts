/**
 * What a request seal covers besides the body (docs/PROTOCOL.md §5): the method, the route path,
 * the query string in a canonical form, the timestamp, and the headers the client lists in
 * `x-continuum-sealed-headers`. Client and server build the same seal metadata from these
 * functions, so an intermediary that adds `?stream=true`, adds an `authorization` header or strips
 * `cache-control: no-store` changes the metadata and the seal no longer verifies.
 */
import { ContinuumError } from '../errors'
import { HOP_BY_HOP_HEADERS } from '../internal/hop-by-hop-headers'
import { FORMAT_VERSION, HEADERS } from './format'

/**
 * Headers a request seal never covers: hop-by-hop and connection-level headers that any HTTP hop
 * may rewrite (RFC 9110 §7.6.1), the length the transport computes, and the protocol's own
 * `x-continuum-*` headers, which are bound by other means (key id, nonce and timestamp are in the
 * seal input; an ephemeral key enters the key derivation; the seal cannot cover itself).
 */
const UNSEALABLE = new Set([...HOP_BY_HOP_HEADERS, 'content-length', 'accept-encoding'])

/** Headers every route protects: an encrypted request carrying one must seal it. */
export const ALWAYS_PROTECTED_HEADERS: readonly string[] = ['cache-control', 'pragma']

const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/

/** Whether a header may be listed in `x-continuum-sealed-headers`. */
export function isSealableHeader(name: string): boolean {
  return TOKEN.test(name) && !UNSEALABLE.has(name) && !name.startsWith('x-continuum-')
}

function integrity(message: string, details?: Record<string, unknown>): ContinuumError {
  return new ContinuumError('CONTINUUM_INTEGRITY_FAILED', message, details === undefined ? {} : { details })
}

/**
 * Parses the `x-continuum-sealed-headers` list: lower-case header names, sorted, without
 * duplicates, none of them unsealable. Anything else is CONTINUUM_INTEGRITY_FAILED.
 */
export function parseSealedHeaderList(value: string | undefined): string[] {
  if (value === undefined) throw integrity('Encrypted request without x-continuum-sealed-headers')
  if (value.trim() === '') return []
  const names = value.split(',')
  for (let index = 0; index < names.length; index++) {
    const name = names[index]!
    if (!isSealableHeader(name) || (index > 0 && names[index - 1]! >= name)) {
      throw integrity('x-continuum-sealed-headers must list sealable header names, sorted, once each')
    }
  }
  return names
}

/** The list a client sends for the headers it sends: every sealable name, sorted. */
export function sealedHeaderList(names: Iterable<string>): string[] {
  // A request has a handful of headers: insertion into a sorted list, in UTF-16 code-unit order
  // (as `<` compares), with duplicates dropped on the way, costs less than a Set and a sort.
  const list: string[] = []
  for (const name of names) {
    const lower = name.toLowerCase()
    if (!isSealableHeader(lower)) continue
    let at = list.length
    while (at > 0 && list[at - 1]! > lower) at--
    if (at > 0 && list[at - 1] === lower) continue
    list.splice(at, 0, lower)
  }
  return list
}

const isOptionalWhitespace = (code: number): boolean => code === 0x20 || code === 0x09

/** Trims optional whitespace (SP, HTAB) off both ends of a header value, as HTTP parsers do. */
function fieldValue(value: string): string {
  // Nearly every value has none: two character reads instead of a regular-expression pass.
  if (
    value.length === 0 ||
    (!isOptionalWhitespace(value.charCodeAt(0)) && !isOptionalWhitespace(value.charCodeAt(value.length - 1)))
  )
    return value
  return value.replace(/^[ \t]+|[ \t]+$/g, '')
}

/**
 * The sealed header lines: `name:value` and a line feed for each listed header the request
 * carries, `name` and a line feed for one it does not.
 */
export function sealedHeaderBlock(
  names: readonly string[],
  get: (name: string) => string | undefined,
): string {
  let block = ''
  for (const name of names) {
    const value = get(name)
    block += value === undefined ? `${name}\n` : `${name}:${fieldValue(value)}\n`
  }
  return block
}

function encodeComponent(text: string): string {
  // encodeURIComponent leaves !'()* alone; RFC 3986 keeps only the unreserved characters.
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  )
}

function decodeComponent(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '))
  } catch {
    throw integrity('The query string is not well-formed percent-encoded UTF-8')
  }
}

/**
 * The canonical form of a query string (with or without its `?`): `&`-separated `name=value`
 * pairs in their order, empty pairs dropped, each name and value decoded (`+` is a space) and
 * re-encoded with every byte but the RFC 3986 unreserved characters as `%XX` (upper case).
 * Malformed percent-encoding is CONTINUUM_INTEGRITY_FAILED. The server forwards this form, so the
 * upstream reads exactly the query that was sealed.
 */
export function canonicalQuery(search: string): string {
  const text = search.startsWith('?') ? search.slice(1) : search
  if (text === '') return ''
  const pairs: string[] = []
  for (const piece of text.split('&')) {
    if (piece === '') continue
    const equals = piece.indexOf('=')
    const name = equals === -1 ? piece : piece.slice(0, equals)
    const value = equals === -1 ? '' : piece.slice(equals + 1)
    pairs.push(`${encodeComponent(decodeComponent(name))}=${encodeComponent(decodeComponent(value))}`)
  }
  return pairs.join('&')
}

/** What a request seal binds besides the body. */
export interface RequestBinding {
  method: string
  /** The path the adapter route matched, without mount prefix or query. */
  routePath: string
  /** The canonical query string, without `?` ({@link canonicalQuery}). */
  query: string
  timestamp: string
  /** {@link sealedHeaderBlock} of the listed headers. */
  headers: string
}

/**
 * The seal metadata of a request:
 * `METHOD SP route-path LF canonical-query LF timestamp LF sealed-header-lines`.
 */
export function requestSealMeta(binding: RequestBinding): string {
  return `${binding.method.toUpperCase()} ${binding.routePath}\n${binding.query}\n${binding.timestamp}\n${binding.headers}`
}

/** What a client seals for one request besides its body. */
export interface BoundRequest {
  /** The seal metadata ({@link requestSealMeta}). */
  meta: string
  /** The value of `x-continuum-sealed-headers`. */
  sealedHeaders: string
}

/**
 * Binds a request as a client sends it: every sealable header it carries (lower-case names) is
 * listed and sealed, and the query string is sealed in its canonical form.
 */
export function bindRequest(input: {
  method: string
  routePath: string
  /** The URL's query string, with or without `?`. */
  search: string
  timestamp: string
  headers: Readonly<Record<string, string>>
}): BoundRequest {
  const names = sealedHeaderList(Object.keys(input.headers))
  const lowered: Record<string, string> = {}
  for (const name of Object.keys(input.headers)) lowered[name.toLowerCase()] = input.headers[name]!
  return {
    meta: requestSealMeta({
      method: input.method,
      routePath: input.routePath,
      query: canonicalQuery(input.search),
      timestamp: input.timestamp,
      headers: sealedHeaderBlock(names, (name) => lowered[name]),
    }),
    sealedHeaders: names.join(','),
  }
}

/**
 * The headers a client's request carries before the protocol adds its own: the caller's, with
 * lower-case names, less any `x-continuum-*` (the protocol writes those) and `content-length`
 * (the encrypted body has another), and `content-type: application/json`. These are what
 * {@link bindRequest} seals.
 */
export function clientRequestHeaders(
  given: Readonly<Record<string, string>> | undefined,
): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(given ?? {})) {
    const lower = name.toLowerCase()
    if (!lower.startsWith('x-continuum-') && lower !== 'content-length') headers[lower] = value
  }
  headers['content-type'] = 'application/json'
  return headers
}

/** Every header of an encrypted request: the sealed ones, those naming the key, and the protocol's with the seal. */
export function encryptedRequestHeaders(
  input: {
    readonly keyHeaders: Readonly<Record<string, string>>
    readonly timestamp: string
    readonly context: { readonly nonce: string }
  },
  headers: Readonly<Record<string, string>>,
  bound: BoundRequest,
  seal: string,
): Record<string, string> {
  return {
    ...headers,
    ...input.keyHeaders,
    [HEADERS.encryption]: FORMAT_VERSION,
    [HEADERS.nonce]: input.context.nonce,
    [HEADERS.timestamp]: input.timestamp,
    [HEADERS.sealedHeaders]: bound.sealedHeaders,
    [HEADERS.seal]: seal,
  }
}
