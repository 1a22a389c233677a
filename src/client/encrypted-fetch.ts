/**
 * `createEncryptedFetch()`: a `fetch` the official OpenAI and Anthropic SDKs accept as their own.
 * It encrypts the sensitive fields of requests on adapter routes, seals the rest, and verifies and
 * decrypts responses and streams before the SDK sees them. Other requests pass through untouched.
 * A retired-key answer refreshes the key and retries once.
 */
import { randomBytes } from 'node:crypto'
import type { CipherContext } from '../cipher/field-cipher'
import { createFieldKey } from '../cipher/field-key'
import { FORMAT_VERSION, HEADERS, NONCE_LENGTH } from '../cipher/format'
import { openResponse, requestSealMeta, sealRequest } from '../cipher/message-codec'
import { type Clock, systemClock } from '../core/clock'
import { ContinuumError } from '../errors'
import { hasBrand } from '../internal/brand'
import type { ProtocolAdapter } from '../protocol/adapter'
import { AdapterRegistry, type RouteMatch } from '../protocol/registry'
import {
  type AgreementOptions,
  agreementKeySource,
  type KeySource,
  type SharedKey,
  sharedKeySource,
} from './key-source'
import { openStream } from './stream-opener'

/** Options of {@link createEncryptedFetch}: exactly one of `key`, `keys` or `agreement`. */
export interface EncryptedFetchOptions {
  /** Id of a pre-shared key (with `key`). */
  keyId?: string
  /** A pre-shared 32-byte key, or its base64url / hex encoding (with `keyId`). */
  key?: Uint8Array | string
  /** A provider of the current pre-shared key, asked again after a retired-key error. */
  keys?: () => SharedKey | Promise<SharedKey>
  /** Agree keys with the server's published X25519 key instead of pre-sharing. */
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
   * Time source for request timestamps.
   * @default systemClock
   */
  clock?: Clock
}

function keySourceOf(options: EncryptedFetchOptions, fetcher: typeof fetch): KeySource {
  const modes = [
    options.key !== undefined || options.keyId !== undefined,
    options.keys !== undefined,
    options.agreement !== undefined,
  ]
  if (modes.filter(Boolean).length !== 1) {
    throw new ContinuumError(
      'CONTINUUM_INVALID_OPTIONS',
      'createEncryptedFetch: give exactly one of key+keyId, keys, or agreement',
    )
  }
  if (options.keys !== undefined) return sharedKeySource(options.keys)
  if (options.agreement !== undefined) return agreementKeySource(options.agreement, fetcher)
  if (options.keyId === undefined || options.key === undefined) {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'createEncryptedFetch: key and keyId go together')
  }
  // Derived once, now: a bad id or key throws CONTINUUM_INVALID_OPTIONS here, not on the first request.
  const resolved = {
    key: createFieldKey(options.keyId, options.key),
    headers: { [HEADERS.keyId]: options.keyId },
  }
  return { resolve: async () => resolved, refresh: () => {} }
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

async function isRetiredKey(response: Response): Promise<boolean> {
  if (response.status !== 401 || response.headers.get(HEADERS.encrypted) !== '0') return false
  const body = (await response
    .clone()
    .json()
    .catch(() => undefined)) as { error?: { code?: string } } | undefined
  return body?.error?.code === 'CONTINUUM_KEY_RETIRED'
}

/** Creates the encrypting fetch. Options are validated now. */
export function createEncryptedFetch(options: EncryptedFetchOptions): typeof fetch {
  const fetcher = options.fetch ?? globalThis.fetch
  const keySource = keySourceOf(options, fetcher)
  const adapters = options.adapters
  const registry = hasBrand(adapters, 'AdapterRegistry')
    ? (adapters as AdapterRegistry)
    : Array.isArray(adapters)
      ? new AdapterRegistry(adapters)
      : (() => {
          throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'createEncryptedFetch: adapters are required')
        })()
  const clock = options.clock ?? systemClock

  async function send(url: URL, init: RequestInit, match: RouteMatch, body: unknown): Promise<Response> {
    const method = (init.method ?? 'POST').toUpperCase()
    const mountPath = url.pathname.slice(0, url.pathname.length - match.routePath.length)
    const resolved = await keySource.resolve(url.origin + mountPath)
    const nonce = randomBytes(NONCE_LENGTH).toString('base64url')
    const timestamp = String(clock.now())
    const context: CipherContext = { key: resolved.key, nonce, direction: 'request' }
    const sealed = sealRequest(
      match.route.requestTree,
      body,
      context,
      requestSealMeta(method, match.routePath, timestamp),
    )
    const headers = new Headers(init.headers)
    headers.delete('content-length')
    headers.set('content-type', 'application/json')
    headers.set(HEADERS.encryption, FORMAT_VERSION)
    headers.set(HEADERS.nonce, nonce)
    headers.set(HEADERS.timestamp, timestamp)
    headers.set(HEADERS.seal, sealed.seal)
    for (const [name, value] of Object.entries(resolved.headers)) headers.set(name, value)
    const response = await fetcher(url, { ...init, method, headers, body: JSON.stringify(sealed.body) })
    return decryptResponse(response, match, { ...context, direction: 'response' })
  }

  return async function encryptedFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const url = new URL(input instanceof Request ? input.url : String(input))
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase()
    const match = registry.lookupSuffix(method, url.pathname)
    if (match === undefined || !match.route.encrypted) return fetcher(input, init)
    const text = await bodyText(input, init)
    let body: unknown
    try {
      body = JSON.parse(text ?? '')
    } catch (error) {
      throw new ContinuumError('CONTINUUM_INVALID_JSON', 'Request body is not valid JSON', { cause: error })
    }
    const baseInit: RequestInit = {
      ...(input instanceof Request ? { headers: input.headers, signal: input.signal } : {}),
      ...init,
      method,
    }
    const response = await send(url, baseInit, match, body)
    if (!(await isRetiredKey(response))) return response
    keySource.refresh()
    return send(url, baseInit, match, body)
  }
}

async function decryptResponse(
  response: Response,
  match: RouteMatch,
  context: CipherContext,
): Promise<Response> {
  if (response.headers.get(HEADERS.encrypted) !== '1') {
    // Anything on the path can drop the marker and write a plain body, so an unencrypted answer
    // to an encrypted request is believable only as an error (which the SDK raises), never as a
    // success whose content the caller would trust.
    if (response.ok) {
      await response.body?.cancel()
      throw new ContinuumError(
        'CONTINUUM_RESPONSE_INTEGRITY_FAILED',
        `Unencrypted HTTP ${response.status} answer to an encrypted request`,
      )
    }
    return response
  }
  const headers = new Headers(response.headers)
  for (const name of ['content-length', 'content-encoding', HEADERS.seal, HEADERS.encrypted])
    headers.delete(name)
  const type = (response.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
  const stream = match.route.stream
  if (
    (type === 'text/event-stream' || type === 'application/x-ndjson') &&
    stream !== undefined &&
    response.body !== null
  ) {
    const plain = toReadableStream(
      openStream(response.body as unknown as AsyncIterable<Uint8Array>, stream, context),
    )
    return new Response(plain, { status: response.status, statusText: response.statusText, headers })
  }
  let parsed: unknown
  try {
    parsed = await response.json()
  } catch (error) {
    throw new ContinuumError('CONTINUUM_RESPONSE_INTEGRITY_FAILED', 'Encrypted response is not JSON', {
      cause: error,
    })
  }
  const opened = openResponse(
    match.route.responseTree,
    parsed,
    context,
    response.status,
    response.headers.get(HEADERS.seal) ?? undefined,
  )
  return new Response(JSON.stringify(opened), {
    status: response.status,
    statusText: response.statusText,
    headers,
  })
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
