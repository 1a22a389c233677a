/**
 * What the proxy's `router` option takes: anything that can make the gateway's upstream, which
 * the InferenceRouter of `continuum-proxy/router` does. The proxy core knows this contract only,
 * so a plain proxy never loads the router or its translations.
 */
import type { Clock } from '../core/clock'
import type { Upstream } from './upstream'

/** How the gateway turns requests into router calls. */
export interface GatewayOptions {
  /**
   * Request header whose value becomes `metadata.callerId` of the router request, which the
   * router's classifier, your own providers and policies see; `false` reads none. The client sets
   * this header, so it is a claim, not an identity: nothing built in trusts it (the audit stage
   * names callers by its own `identityHeader` or `identify`), and a front end that authenticates
   * callers should overwrite it. Credential headers (`authorization`, `cookie`, API-key headers)
   * and `x-continuum-` headers are refused.
   * @default 'x-caller-id'
   */
  callerIdHeader?: string | false
  /**
   * Caller id used when the request carries none.
   * @default undefined
   */
  callerId?: string
  /**
   * Request header whose value (`public`, `internal`, `confidential`, `restricted`) becomes
   * `metadata.classification`. The same headers as for `callerIdHeader` are refused. Off by
   * default: a client could otherwise claim a laxer class than its data deserves and steer
   * `classification_based` routing off the host.
   * @default false
   */
  classificationHeader?: string | false
  /**
   * Close the router when the proxy closes.
   * @default false (the router belongs to the caller)
   */
  closeRouter?: boolean
  /**
   * Time source for `created` timestamps.
   * @default the proxy's clock
   */
  clock?: Clock
}

/** A router the gateway can serve from. */
export interface GatewaySource {
  /** The upstream that answers adapter routes from the router. */
  gatewayUpstream(options?: GatewayOptions): Upstream
}

/** Whether a value can serve as the `router` option. */
export function isGatewaySource(value: unknown): value is GatewaySource {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as GatewaySource).gatewayUpstream === 'function'
  )
}
