/**
 * One encrypted request as a client sends it: the body with its sensitive fields encrypted, and
 * every header of the protocol, the seal among them. The encrypting fetch builds its requests
 * with it, and so can tests, benchmarks and other clients that speak the protocol from Node.
 */
import type { CipherContext } from './field-cipher'
import type { PlainFieldTree } from './field-map'
import { sealRequest } from './message-codec'
import { bindRequest, clientRequestHeaders, encryptedRequestHeaders } from './request-binding'

/** What {@link encryptRequestMessage} takes. */
export interface RequestMessageInput {
  /** The route's request allow-list. */
  tree: PlainFieldTree
  /** The plain request body. */
  body: unknown
  /** Key, nonce and `request` direction. */
  context: CipherContext
  method: string
  /** The path the route matches, without mount prefix or query. */
  routePath: string
  /** The URL's query string, with or without `?`. @default '' */
  search?: string
  /** Unix time in milliseconds, decimal. */
  timestamp: string
  /** Headers the request carries besides the protocol's own; all sealable ones are sealed. @default {} */
  headers?: Readonly<Record<string, string>>
  /** Protocol headers that name the key (`x-continuum-key-id`, `x-continuum-ephemeral-key`). */
  keyHeaders: Readonly<Record<string, string>>
}

/** The encrypted body and the complete request headers (lower-case names). */
export interface RequestMessage {
  body: unknown
  /** The encrypted body as JSON text to send: its canonical form, which the seal covers byte for byte. */
  text: string
  headers: Record<string, string>
  /** The seal metadata, for tests that re-seal a changed body. */
  meta: string
}

/** Encrypts and seals one request; see the module comment. */
export function encryptRequestMessage(input: RequestMessageInput): RequestMessage {
  const headers = clientRequestHeaders(input.headers)
  const bound = bindRequest({
    method: input.method,
    routePath: input.routePath,
    search: input.search ?? '',
    timestamp: input.timestamp,
    headers,
  })
  const sealed = sealRequest(input.tree, input.body, input.context, bound.meta)
  return {
    body: sealed.body,
    text: sealed.text,
    meta: bound.meta,
    headers: encryptedRequestHeaders(input, headers, bound, sealed.seal),
  }
}
