/**
 * The client feature's entry: the encrypting fetch over whichever protocols it is given.
 * `continuum-proxy/client` (entries/client.ts) composes it with the built-in protocols; this file
 * is what that entry, and nothing else outside src/, imports.
 */
export { createEncryptedFetch, type EncryptedFetchOptions } from './encrypted-fetch'
export type { AgreementOptions, SharedKey } from './key-source'
