/** `continuum-proxy/client`: the encrypting fetch for the official SDKs. */

export type { KeyMaterial } from '../cipher/field-key'
export type { Clock } from '../core/clock'
export { ContinuumError, type ErrorCode } from '../errors'
export { defineAdapter, type ProtocolAdapter, type RouteDefinition } from '../protocol/adapter'
export { AdapterRegistry } from '../protocol/registry'
export { createEncryptedFetch, type EncryptedFetchOptions } from './encrypted-fetch'
export type { AgreementOptions, SharedKey } from './key-source'
