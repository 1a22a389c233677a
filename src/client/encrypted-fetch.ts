/**
 * `createEncryptedFetch()`: a `fetch` the official OpenAI and Anthropic SDKs accept as their own.
 * It encrypts the sensitive fields of requests on adapter routes, seals the rest (query string and
 * headers included), and verifies and decrypts responses and streams before the SDK sees them.
 * It trusts only what is authenticated: an unsealed error reaches the SDK with its status and
 * nothing else, and only a sealed retired-key notice makes it refresh the key and retry, once.
 * A body is never sent in clear to a path it does not know as plain.
 *
 * The client's own refusals (a server key that does not match the pin, an answer that fails its
 * seal, a body for a path it does not know) are answered as an HTTP error response carrying the
 * ContinuumError's JSON, `x-should-retry: false` and `x-continuum-error-origin: client`, not
 * thrown: the SDKs retry a thrown error as a connection failure and then report only
 * "Connection error.", while an answer becomes their own APIError with `code` set to ours.
 */
import { HEADERS, isValidKeyId, NONCE_LENGTH } from '../cipher/format'
import { type Clock, systemClock } from '../core/clock'
import { ContinuumError } from '../errors'
import { hasBrand } from '../internal/brand'
import type { ProtocolAdapter } from '../protocol/adapter'
import { AdapterRegistry, type RouteMatch } from '../protocol/registry'
import { MAX_ANSWER_BYTES } from './bounded-body'
import {
  type AgreementOptions,
  agreementKeySource,
  type KeySource,
  type ResolvedKey,
  type SharedKey,
  sharedKeySource,
} from './key-source'
import { checkPathForm, isPlainPath, validatePlainPaths } from './path-policy'
import { readResponse } from './response-opener'
import {
  type ClientCipherContext,
  decodeKeyBytes,
  defaultBackend,
  deriveFieldKey,
  encryptRequestMessage,
  randomBytes,
  toBase64url,
} from './web-crypto/index'

/** Options of {@link createEncryptedFetch}: exactly one of `key`, `keys` or `agreement`. */
export interface EncryptedFetchOptions {
  /** Id of a pre-shared key (with `key`). */
  keyId?: string
  /** A pre-shared 32-byte key, or its base64url / hex encoding (with `keyId`). */
  key?: Uint8Array | string
  /** A provider of the current pre-shared key, asked again after a sealed retired-key notice. */
  keys?: () => SharedKey | Promise<SharedKey>
  /** Agree keys with the server's published key (X25519, or hybrid X25519 + ML-KEM-768) instead of pre-sharing. */
  agreement?: AgreementOptions
  /**
   * The fetch that carries the encrypted requests.
   * @default globalThis.fetch
   */
  fetch?: typeof fetch
  /**
   * Protocols whose routes are encrypted: a registry, or a list of adapters.
   * @default the built-in adapters (`continuum-proxy/client` supplies them)
   */
  adapters?: AdapterRegistry | readonly ProtocolAdapter[]
  /**
   * Paths (the end of the URL path, e.g. `/v1/files`) that may carry a request body in clear. A
   * request with a body to any other path that is not a route of `adapters` is refused with
   * CONTINUUM_CLIENT_PATH_REFUSED before anything is sent, so a path variant the server would not
   * encrypt (`/v1/chat/completions/`, `/V1/...`) can never carry a prompt in clear.
   * @default [] (plain adapter routes only)
   */
  plainPaths?: readonly string[]
  /**
   * Time source for request timestamps.
   * @default systemClock
   */
  clock?: Clock
  /**
   * Ask for batch frames on streams (`x-continuum-batch: 1`, docs/PROTOCOL.md §6.1): the server
   * encrypts the events of one upstream read whole, a cipher per read instead of a cipher and a
   * seal per event, and hides their names and plain fields from the path too. `false` gets a
   * seal per event, whose allow-listed plain fields stay readable on the wire.
   * @default true
   */
  streamBatches?: boolean
  /**
   * The most bytes of a JSON answer or error body the client reads (it reads them whole to verify
   * them): a longer one is refused with CONTINUUM_UPSTREAM_RESPONSE_TOO_LARGE, so an answer that
   * never ends cannot exhaust memory. Streams are read event by event, each event bounded.
   * @default 67108864 (64 MiB, as the Python client's max_response_bytes)
   */
  maxResponseBytes?: number
}

function invalid(message: string): ContinuumError {
  return new ContinuumError('CONTINUUM_INVALID_OPTIONS', `createEncryptedFetch: ${message}`)
}

/** What an unset environment variable looks like once it reaches an option. */
const UNSET = 'is not set (an unset environment variable reads as undefined)'

function keySourceOf(options: EncryptedFetchOptions, fetcher: typeof fetch): KeySource {
  const modes = [
    options.key !== undefined || options.keyId !== undefined,
    options.keys !== undefined,
    options.agreement !== undefined,
  ]
  const count = modes.filter(Boolean).length
  if (count === 0) {
    throw invalid(
      "give a key: keyId and key (the server's pre-shared key), keys (a provider of it), or agreement: { fingerprint } (pin the server's published key; `npx continuum-proxy fingerprint <url>` prints it)",
    )
  }
  if (count > 1) throw invalid('give only one of keyId and key, keys, or agreement')
  if (options.keys !== undefined) return sharedKeySource(options.keys)
  if (options.agreement !== undefined) {
    return agreementKeySource(options.agreement, fetcher, options.clock ?? systemClock)
  }
  if (options.keyId === undefined || (options.keyId as unknown) === '') {
    throw invalid(`keyId ${UNSET}: give the id of the server's key, e.g. 'k2026'`)
  }
  if (options.key === undefined || (options.key as unknown) === '') {
    throw invalid(
      `key ${UNSET}: give the 32-byte key the server holds for keyId "${options.keyId}", as base64url, base64 or hex`,
    )
  }
  if (!isValidKeyId(options.keyId)) throw invalid('keyId must be 1-64 characters of [A-Za-z0-9_-]')
  // Derived once, now: a bad id or key throws CONTINUUM_INVALID_OPTIONS here, not on the first request.
  let bytes: Uint8Array
  try {
    bytes = decodeKeyBytes(options.key, `key "${options.keyId}"`)
  } catch {
    throw invalid(
      `key (keyId "${options.keyId}") must be 32 bytes, or their base64url, base64 or hex encoding (\`npx continuum-proxy keygen field\` makes one)`,
    )
  }
  const headers = { [HEADERS.keyId]: options.keyId }
  let resolved: Promise<ResolvedKey> | undefined
  return {
    resolve: () => {
      resolved ??= deriveFieldKey(defaultBackend(), options.keyId!, bytes).then((key) => ({ key, headers }))
      return resolved
    },
    refresh: () => {},
  }
}

/** A refusal of the client's own, as the HTTP error answer the SDKs turn into their APIError. */
function clientFailure(error: ContinuumError): Response {
  return new Response(JSON.stringify(error.toJSON()), {
    status: error.status,
    headers: {
      'content-type': 'application/json',
      [HEADERS.encrypted]: '0',
      'x-continuum-error-origin': 'client',
      'x-should-retry': error.isRetryable ? 'true' : 'false',
    },
  })
}

async function bodyText(
  input: RequestInfo | URL,
  init: RequestInit | undefined,
): Promise<string | undefined> {
  const body = init?.body ?? (input instanceof Request ? await input.clone().text() : undefined)
  if (body === undefined || body === null) return undefined
  if (typeof body === 'string') return body
  if (body instanceof Uint8Array || body instanceof ArrayBuffer) return new TextDecoder().decode(body)
  return new Response(body as BodyInit).text()
}

function hasBody(input: RequestInfo | URL, init: RequestInit | undefined): boolean {
  if (init?.body !== undefined && init.body !== null) return true
  return init?.body === undefined && input instanceof Request && input.body !== null
}

function registryOf(adapters: EncryptedFetchOptions['adapters']): AdapterRegistry {
  if (hasBrand(adapters, 'AdapterRegistry')) return adapters as AdapterRegistry
  if (Array.isArray(adapters)) return new AdapterRegistry(adapters)
  throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'createEncryptedFetch: adapters are required')
}

/** Creates the encrypting fetch. Options are validated now. */
export function createEncryptedFetch(options: EncryptedFetchOptions): typeof fetch {
  const fetcher = options.fetch ?? globalThis.fetch
  const keySource = keySourceOf(options, fetcher)
  const registry = registryOf(options.adapters)
  const plainPaths = validatePlainPaths(options.plainPaths)
  const clock = options.clock ?? systemClock
  if (options.streamBatches !== undefined && typeof options.streamBatches !== 'boolean')
    throw new ContinuumError(
      'CONTINUUM_INVALID_OPTIONS',
      'createEncryptedFetch: streamBatches must be a boolean',
    )
  const batches = options.streamBatches !== false
  const maxResponseBytes = options.maxResponseBytes ?? MAX_ANSWER_BYTES
  if (!Number.isSafeInteger(maxResponseBytes) || maxResponseBytes < 1)
    throw new ContinuumError(
      'CONTINUUM_INVALID_OPTIONS',
      'createEncryptedFetch: maxResponseBytes must be a positive integer',
    )

  async function send(url: URL, init: RequestInit, match: RouteMatch, body: unknown) {
    const method = (init.method ?? 'POST').toUpperCase()
    const mountUrl = url.origin + url.pathname.slice(0, url.pathname.length - match.routePath.length)
    const resolved = await keySource.resolve(mountUrl)
    const nonce = toBase64url(randomBytes(NONCE_LENGTH))
    const timestamp = String(clock.now())
    const context: ClientCipherContext = { key: resolved.key, nonce, direction: 'request' }
    const message = await encryptRequestMessage({
      tree: match.route.requestTree,
      body,
      context,
      method,
      routePath: match.routePath,
      search: url.search,
      timestamp,
      headers: Object.fromEntries(new Headers(init.headers)),
      keyHeaders: resolved.headers,
    })
    // A redirect would carry the sealed request elsewhere; it is answered as the 3xx it is.
    const response = await fetcher(url, {
      ...init,
      method,
      headers: batches ? { ...message.headers, [HEADERS.batch]: '1' } : message.headers,
      // The canonical text the seal covers: the server verifies these bytes without serialising again.
      body: message.text,
      redirect: 'manual',
    })
    return {
      mountUrl,
      opened: await readResponse(
        response,
        match,
        { ...context, direction: 'response' },
        batches,
        maxResponseBytes,
      ),
    }
  }

  async function encryptedFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const url = new URL(input instanceof Request ? input.url : String(input))
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase()
    const match = registry.lookupSuffix(method, url.pathname)
    if (match === undefined || !match.route.encrypted) {
      // Nothing to encrypt: pass it on, unless a body would go in clear to a path not known as plain.
      if (hasBody(input, init) && !(match !== undefined && checkPathForm(url.pathname, false))) {
        if (!isPlainPath(plainPaths, url.pathname)) {
          throw new ContinuumError(
            'CONTINUUM_CLIENT_PATH_REFUSED',
            `Refused to send a body in clear to ${method} ${url.pathname}: not an encrypted route, nor declared plain`,
          )
        }
      }
      return fetcher(input, init)
    }
    checkPathForm(url.pathname, true)
    const text = await bodyText(input, init)
    let body: unknown
    try {
      body = JSON.parse(text ?? '')
    } catch {
      // No cause: V8's SyntaxError quotes the body (the prompt) around where it stopped.
      throw new ContinuumError('CONTINUUM_INVALID_JSON', 'Request body is not valid JSON')
    }
    const baseInit: RequestInit = {
      ...(input instanceof Request ? { headers: input.headers, signal: input.signal } : {}),
      ...init,
      method,
    }
    // A route of a deferred adapter (a registry given with `deferAdapter` ones) loads it first.
    const route = await registry.resolve(match)
    const first = await send(url, baseInit, route, body)
    const notice = first.opened.retiredKey
    if (notice === undefined) return first.opened.response
    // Only a sealed notice gets here: the server refused before forwarding, so a retry is safe.
    keySource.refresh(first.mountUrl, notice.successor)
    return (await send(url, baseInit, route, body)).opened.response
  }

  return async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    try {
      return await encryptedFetch(input, init)
    } catch (error) {
      if (ContinuumError.isInstance(error)) return clientFailure(error)
      throw error
    }
  }
}
