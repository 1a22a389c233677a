/**
 * The client's cipher on web-standard APIs (WebCrypto, TextEncoder, no `Buffer`, no `node:`
 * import): what `continuum-proxy/client` runs on in browsers, Deno, Bun, edge workers and Node.
 */

export { agreeFieldKey, decodePublicKey, publicKeyFingerprint } from './agreement'
export {
  type CryptoBackend,
  defaultBackend,
  type EphemeralKeyPair,
  nodeBackend,
  webCryptoBackend,
} from './backend'
export { fromBase64url, fromHex, randomBytes, toBase64url, toHex } from './bytes'
export {
  type ClientCipherContext,
  computeSeal,
  decryptValue,
  encryptValue,
  sealMatches,
} from './field-cipher'
export {
  type ClientFieldKey,
  checkKeyId,
  createClientFieldKey,
  decodeKeyBytes,
  deriveFieldKey,
} from './field-key'
export { decryptFields, encryptFields } from './fields'
export {
  type ClientStreamFailure,
  encryptRequestMessage,
  errorSealMatches,
  isEndMarker,
  openEvent,
  openResponse,
  verifyEndMarker,
} from './messages'
