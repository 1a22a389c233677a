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
   * Request header whose value becomes `metadata.callerId` (routing, audit, limits); `false` reads none.
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
   * `metadata.classification`. Off by default: a client could otherwise claim a laxer class than
   * its data deserves and steer `classification_based` routing off the host.
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
