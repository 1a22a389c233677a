/** `continuum-proxy/client`: the encrypting fetch for the official SDKs. */

export { ContinuumError, type ErrorCode } from '../errors'
export { createEncryptedFetch, type EncryptedFetchOptions } from './encrypted-fetch'
export type { AgreementOptions, SharedKey } from './key-source'
