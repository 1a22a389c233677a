/**
 * Shared pieces of the conformance suite: keys, a builder of cp2 requests made with the cipher
 * API (so a test can break exactly one property of an otherwise valid request), a recording
 * fetch for checking what crossed the wire, a raw request sender that works on every harness, and
 * the assertion every refused request must pass: right status and code, `x-continuum-encrypted: 0`,
 * and no plaintext or key material in the body.
 */
import { randomBytes } from 'node:crypto'
import type { LogFields, Logger } from 'continuum-proxy'
import { AdapterRegistry } from 'continuum-proxy'
import { builtinAdapters } from 'continuum-proxy/adapters'
import { createEncryptedFetch, type EncryptedFetchOptions } from 'continuum-proxy/client'
import OpenAI from 'openai'
import { expect } from 'vitest'
import type { CipherContext } from '../../src/cipher/field-cipher'
import { createFieldKey } from '../../src/cipher/field-key'
import { HEADERS, NONCE_LENGTH } from '../../src/cipher/format'
import { encryptRequestMessage } from '../../src/cipher/request-message'
import type { RunningApp } from './frameworks'

/** The pre-shared key of most tests. */
export const KEY_ID = 'conformance-k1'
export const KEY = randomBytes(32)

/** Text that must never appear on the wire or in an error body. */
export const SECRET = 'tell nobody: the launch code is 8675309'

const registry = new AdapterRegistry(builtinAdapters())

/** The encodings of a key that would count as a leak. */
export function keyEncodings(key: Uint8Array): string[] {
  const bytes = Buffer.from(key)
  return [bytes.toString('base64url'), bytes.toString('base64'), bytes.toString('hex')]
}

/** What {@link encryptRequest} builds. */
export interface BuiltRequest {
  headers: Record<string, string>
  /** The body as sent: plain fields and ciphertexts. */
  body: Record<string, unknown>
  context: CipherContext
  /** The seal metadata (method, route, timestamp), to re-seal a modified body. */
  meta: string
}

/** Options of {@link encryptRequest}. */
export interface BuildOptions {
  keyId?: string
  key?: Uint8Array
  method?: string
  timestamp?: number
  nonce?: string
  /** Headers the request carries besides the protocol's own (sealed). */
  headers?: Record<string, string>
  /** Query string, with or without `?` (sealed). */
  search?: string
}

/** Encrypts and seals a request body exactly as createEncryptedFetch does. */
export function encryptRequest(routePath: string, plain: object, options: BuildOptions = {}): BuiltRequest {
  const method = options.method ?? 'POST'
  const lookup = registry.lookup(method, routePath)
  if (lookup.kind !== 'match') throw new Error(`no route ${method} ${routePath}`)
  const keyId = options.keyId ?? KEY_ID
  const nonce = options.nonce ?? randomBytes(NONCE_LENGTH).toString('base64url')
  const timestamp = String(options.timestamp ?? Date.now())
  const context: CipherContext = {
    key: createFieldKey(keyId, options.key ?? KEY),
    nonce,
    direction: 'request',
  }
  const message = encryptRequestMessage({
    tree: lookup.match.route.requestTree,
    body: plain,
    context,
    method,
    routePath,
    search: options.search ?? '',
    timestamp,
    headers: options.headers ?? {},
    keyHeaders: { [HEADERS.keyId]: keyId },
  })
  return {
    headers: message.headers,
    body: message.body as Record<string, unknown>,
    context,
    meta: message.meta,
  }
}

/** A chat request carrying {@link SECRET}. */
export function secretChat(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    model: 'llama-3-8b',
    max_tokens: 64,
    messages: [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: SECRET },
    ],
    ...extra,
  }
}

/** The shape every refusal shares. */
export interface RefusalLike {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
}

/** Asserts a plain, content-free error answer with the given status and code. */
export function expectRefusal(
  response: RefusalLike,
  status: number,
  code: string,
  secrets: readonly string[] = [SECRET],
): { code: string; message: string } & Record<string, unknown> {
  expect({ status: response.status, text: response.text }).toMatchObject({ status })
  expect(response.headers[HEADERS.encrypted]).toBe('0')
  const parsed = JSON.parse(response.text) as {
    error: { code: string; message: string } & Record<string, unknown>
  }
  expect(parsed.error.code).toBe(code)
  for (const secret of [...secrets, ...keyEncodings(KEY)]) expect(response.text).not.toContain(secret)
  return parsed.error
}

/** What {@link send} got back. */
export interface Answered extends RefusalLike {
  headers: Record<string, string>
  /** The body parsed as JSON, or undefined when it is not JSON. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
  body: any
}

/** Sends one raw request to an app on any harness (socket or in-process); an object body is sent as JSON. */
export async function send(
  app: RunningApp,
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: unknown } = {},
): Promise<Answered> {
  const body =
    init.body === undefined
      ? undefined
      : typeof init.body === 'string'
        ? init.body
        : JSON.stringify(init.body)
  const headers = {
    ...(typeof init.body === 'object' ? { 'content-type': 'application/json' } : {}),
    ...init.headers,
  }
  const response = await app.fetch(app.url + path, {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
  })
  const text = await response.text()
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    parsed = undefined
  }
  return { status: response.status, headers: Object.fromEntries(response.headers), text, body: parsed }
}

/** A fetch over `inner` that records every request body and response it carried. */
export function recordingFetch(inner: typeof fetch = globalThis.fetch): {
  fetch: typeof fetch
  bodies: string[]
  responses: string[]
  /** Resolves once every recorded stream has been read to its end. */
  settled(): Promise<unknown>
} {
  const bodies: string[] = []
  const responses: string[] = []
  const pending: Promise<void>[] = []
  const recording = (async (input: RequestInfo | URL, init?: RequestInit) => {
    bodies.push(typeof init?.body === 'string' ? init.body : '')
    const response = await inner(input, init)
    const type = response.headers.get('content-type') ?? ''
    if (type.includes('event-stream')) {
      // Tee the stream so the wire text is recorded while the caller reads its half.
      const [mine, theirs] = response.body!.tee()
      const index = responses.push('') - 1
      pending.push(
        new Response(mine).text().then(
          (text) => {
            responses[index] = text
          },
          () => undefined,
        ),
      )
      return new Response(theirs, { status: response.status, headers: response.headers })
    }
    const text = await response.text()
    responses.push(text)
    return new Response(text, { status: response.status, headers: response.headers })
  }) as typeof fetch
  return { fetch: recording, bodies, responses, settled: () => Promise.all(pending) }
}

/**
 * An official OpenAI client over the encrypting fetch, without retries (a retry would hide a
 * failure), reaching `app` over its own fetch unless `fetchOptions` brings one; a URL is reached
 * over the global fetch.
 */
export function openaiClient(
  app: Pick<RunningApp, 'url' | 'fetch'> | string,
  fetchOptions: EncryptedFetchOptions = { keyId: KEY_ID, key: KEY },
): OpenAI {
  if (typeof app === 'string') app = { url: app, fetch: globalThis.fetch }
  return new OpenAI({
    baseURL: `${app.url}/v1`,
    apiKey: 'sk-conformance',
    maxRetries: 0,
    fetch: createEncryptedFetch({ fetch: app.fetch, ...fetchOptions }),
  })
}

/** Default proxy keys: the one pre-shared key. */
export function sharedKeys(): { keys: { id: string; key: Uint8Array }[] } {
  return { keys: [{ id: KEY_ID, key: KEY }] }
}

/** A logger that keeps every line as JSON text, to check that nothing secret was logged. */
export function recordingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = []
  const record =
    (level: string) =>
    (fields: LogFields, message: string): void => {
      lines.push(JSON.stringify({ level, message, ...fields }))
    }
  return {
    logger: { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') },
    lines,
  }
}
