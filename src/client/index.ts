/** `continuum-proxy/client`: the encrypting fetch for the official SDKs. */

export { defineAdapter, type ProtocolAdapter, type RouteDefinition } from '../adapters/adapter'
export { AdapterRegistry } from '../adapters/registry'
export type { KeyMaterial } from '../cipher/field-key'
export type { Clock } from '../core/clock'
export { ContinuumError, type ErrorCode } from '../errors'
export { createEncryptedFetch, type EncryptedFetchOptions } from './encrypted-fetch'
export type { AgreementOptions, SharedKey } from './key-source'
