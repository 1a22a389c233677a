/** `continuum-proxy/client`: the encrypting fetch for the official SDKs. */

export { ContinuumError, type ErrorCode } from '../errors'
export { defineAdapter, type ProtocolAdapter, type RouteDefinition } from '../adapters/adapter'
export { AdapterRegistry } from '../adapters/registry'
export type { Clock } from '../core/clock'
export type { KeyMaterial } from '../cipher/field-key'
export { createEncryptedFetch, type EncryptedFetchOptions } from './encrypted-fetch'
export type { AgreementOptions, SharedKey } from './key-source'
